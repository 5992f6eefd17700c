//! The student's loop, on top of the [engine](crate::engine): grading
//! again on every save ([`watch`]), the next hint ([`hints`]), and each
//! rubric check as a `#[test]` ([`testing`]).

pub mod hints;
pub mod testing;
pub mod watch;
