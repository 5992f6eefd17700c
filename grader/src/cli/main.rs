//! `cargo run -p grader` grades the workspace it sits in and prints a
//! scorecard. Exit status: 0 at full marks, 1 when points are missing, 2 when
//! it could not grade.
//!
//! Subcommands:
//! - `grade` (the default): the workspace, or with `--submission DIR`
//!   another checkout, graded with this grader;
//! - `batch`: a whole class (directories, or a roster of repositories),
//!   into a gradebook, or one shard of it (`--shard K/N`);
//! - `merge`: the shards' gradebooks joined into the class's;
//! - `review`: the instructor's pass over the answers a batch flagged;
//! - `export`: the marks for Canvas or Moodle, and each student's feedback;
//! - `gradescope`: the autograder archive for Gradescope (which runs the
//!   hidden `on-gradescope`); `prepare`: the dependencies built ahead;
//! - `release`: the repository students copy;
//! - `watch`: the student's loop, grading again on every save;
//! - `hint`: the next hint for a question;
//! - `supervise` (hidden): runs one program in the sandbox, for the grader
//!   itself.

mod args;
mod batch;
mod commands;
mod grade;
mod platforms;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (result, failed) = match cli.command {
        Some(Command::Supervise) => (grader::supervisor::serve().map(|()| ExitCode::SUCCESS), "supervise"),
        Some(Command::Batch(args)) => (batch::run(&args), "grade the batch"),
        Some(Command::Merge(args)) => (commands::merge(&args), "merge the shards"),
        Some(Command::Release(args)) => (commands::release(&args), "release"),
        Some(Command::Review(args)) => (commands::review(&args), "review"),
        Some(Command::Export(args)) => (platforms::export_marks(&args), "export the marks"),
        Some(Command::Gradescope(args)) => (platforms::gradescope(&args), "write the autograder"),
        Some(Command::OnGradescope(args)) => (platforms::on_gradescope(&args), "grade"),
        Some(Command::Prepare(args)) => (platforms::prepare(&args), "prepare the dependencies"),
        Some(Command::Hint(args)) => (commands::hint(&args), "give a hint"),
        Some(Command::Watch(args)) => (commands::watch(&args), "watch"),
        Some(Command::Grade(args)) => (grade::grade(&args), "grade"),
        None => (grade::grade(&cli.grade), "grade"),
    };
    result.unwrap_or_else(|err| {
        // The error may quote a submission's file names.
        eprintln!("grader: could not {failed}: {}", grader::report::printable(&format!("{err:#}")));
        ExitCode::from(2)
    })
}
