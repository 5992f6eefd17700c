//! The grader for the Multiprocessing assignment.
//!
//! A pipeline with one direction:
//!
//! 1. [`engine::compile`]: build each exercise package on its own;
//! 2. [`engine::run`] (through the [`supervisor`], in its sandbox, watched by its
//!    witness): run it with limits, in a directory of its own, touching
//!    nothing else, and every process it started killed and accounted for;
//! 3. [`engine::normalize`]: PIDs, line endings and free line order made canonical;
//! 4. [`checks`]: one verdict per check of the [`rubric`] (the written
//!    answers read by [`checks::written`]);
//! 5. [`grading::score`]: points from the rubric;
//! 6. [`report`]: terminal, Gradescope JSON, Markdown.
//!
//! The folders say whose each job is, from the bottom up: the [`rubric`]
//! (data); the [`supervisor`] (a process of its own); the [`engine`] (the
//! settings and context of a grading, build, run, normalize); the
//! [`checks`]; [`grading`] (each question checked and scored, for this
//! workspace or a submission); the [`report`]; and on top, [`classroom`]
//! (the instructor's: release, roster, batch, gradebook, review) and
//! [`student`] (watch, hints, the checks as tests). Each uses only what is
//! below it. The command line is `src/cli/`. See ARCHITECTURE.md.
//!
//! ```no_run
//! use grader::engine::context::{Context, Settings};
//! use grader::grading::score;
//! use grader::report;
//! let settings = Settings::new(".".as_ref(), "target/debug/grader".as_ref());
//! let ctx = Context::new(".".into(), &settings);
//! let card = score::grade_all(&ctx, |_| {})?; // Err: the grader could not grade
//! print!("{}", report::terminal(&card, false));
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod checks;
pub mod classroom;
pub mod engine;
pub mod grading;
pub mod report;
pub mod rubric;
pub mod student;
pub mod supervisor;
