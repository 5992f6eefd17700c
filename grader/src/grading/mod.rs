//! The top of the pipeline: each question's checks run, then scored
//! ([`score`]), for this workspace or for another checkout graded as it
//! ([`submission`]). It sits above [`checks`](crate::checks), which sit
//! above the [`engine`](crate::engine) they build and run with; the
//! [`report`](crate::report), the classroom and the student's loop sit
//! above it.

pub mod score;
pub mod submission;
