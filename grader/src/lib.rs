//! The grader for the Multiprocessing assignment.
//!
//! A pipeline with one direction:
//!
//! 1. [`compile`]: build each exercise package on its own;
//! 2. [`run`] (through the [`supervisor`], in its sandbox, watched by its
//!    witness): run it with limits, in a directory of its own, touching
//!    nothing else, and every process it started killed and accounted for;
//! 3. [`normalize`]: PIDs, line endings and free line order made canonical;
//! 4. [`checks`]: one verdict per check of the [`rubric`] (the written
//!    answers read by [`written`]);
//! 5. [`score`]: points from the rubric;
//! 6. [`report`]: terminal, Gradescope JSON, Markdown.
//!
//! ```no_run
//! use grader::{grade::Context, report, score};
//! let ctx = Context::new(".".into(), "target/debug/grader".into());
//! let card = score::grade_all(&ctx, |_| {})?; // Err: the grader could not grade
//! print!("{}", report::terminal(&card, false));
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod batch;
pub mod checks;
pub mod compile;
pub mod grade;
pub mod gradebook;
pub mod hints;
pub mod normalize;
pub mod release;
pub mod report;
pub mod review;
pub mod roster;
pub mod rubric;
pub mod run;
pub mod score;
pub mod scratch;
pub mod snapshot;
pub mod submission;
pub mod supervisor;
pub mod testing;
pub mod watch;
pub mod workspace;
pub mod written;
