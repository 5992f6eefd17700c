//! The instructor's side, on top of the [engine](crate::engine): the
//! repository students copy ([`release`]), who is in the class and where
//! their work is ([`roster`]), grading them all ([`batch`]) into a
//! [`gradebook`], and the instructor's pass over what the marker flagged
//! ([`review`]), with the course's policy on [`late`] work, and the marks
//! handed to learning platforms ([`export`]).

pub mod batch;
pub mod export;
pub mod gradebook;
pub mod gradescope;
pub mod late;
pub mod merge;
pub mod release;
pub mod review;
pub mod roster;
pub mod shard;
