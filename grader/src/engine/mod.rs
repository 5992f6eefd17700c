//! The grading engine, in the order a submission goes through it: a
//! [`workspace`] (or a [`scratch`] copy of a [`submission`]) is built
//! ([`compile`]), each program run ([`run`], through the
//! [supervisor](crate::supervisor)), its output made canonical
//! ([`normalize`], [`snapshot`]), judged ([`checks`](crate::checks)) and
//! scored ([`score`]); [`grade`] holds what one grading needs.
//!
//! Nothing here knows of a class or a student's loop: those are
//! [`classroom`](crate::classroom) and [`student`](crate::student), on top.

pub mod compile;
pub mod context;
pub mod normalize;
pub mod run;
pub mod scratch;
pub mod snapshot;
pub mod workflow;
pub mod workspace;
