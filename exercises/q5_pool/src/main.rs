//! Q5: create a pool of worker processes.
//!
//! `q5_pool [--workers N] [--threads] [--] [NUMBER ...]` squares the numbers
//! (1 to 9 by default) on a pool of N worker processes (4 by default), each
//! worker printing a line per number it squares; then the main process prints
//! every square in input order. With `--threads`, a rayon pool of N threads
//! does the same work, for comparison.
//!
//! This file is given: the pool it uses, in `src/pool.rs`, is yours to
//! write.
//!
//! ```text
//! Pool of <N> worker processes
//! Worker pid <worker pid> squared <x> = <x*x>        (one line per number, any order)
//! Results: [<the squares in input order, separated by ", ">]
//! ```

use std::process::ExitCode;

use anyhow::{Context, Result, ensure};
use q5_pool::{Args, Mode, ProcessPool};
use rayon::prelude::*;

fn main() -> Result<ExitCode> {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("q5_pool: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    let squares = match args.mode {
        Mode::Processes => {
            print_line(&format!("Pool of {} worker processes", args.workers))?;
            // SAFETY: no thread has been started yet: the rayon pool exists
            // only in the `--threads` branch, which never forks.
            let mut pool = unsafe { ProcessPool::start(args.workers, square_in_worker) }?;
            let squares = pool.map(&args.numbers)?;
            pool.join()?;
            squares
        }
        Mode::Threads => {
            print_line(&format!("Pool of {} worker threads", args.workers))?;
            let pool = rayon::ThreadPoolBuilder::new().num_threads(args.workers).build()?;
            pool.install(|| args.numbers.par_iter().map(|&x| square_in_thread(x)).collect::<Result<_>>())?
        }
    };
    let list: Vec<String> = squares.iter().map(i128::to_string).collect();
    print_line(&format!("Results: [{}]", list.join(", ")))?;
    Ok(ExitCode::SUCCESS)
}

/// The job each worker process runs on a number.
fn square_in_worker(x: i64) -> Result<i128> {
    // i128 holds the square of every i64, even of i64::MIN.
    let square = i128::from(x) * i128::from(x);
    print_line(&format!("Worker pid {} squared {x} = {square}", std::process::id()))?;
    Ok(square)
}

/// The same job on a rayon thread: every thread shares the one pid.
fn square_in_thread(x: i64) -> Result<i128> {
    let square = i128::from(x) * i128::from(x);
    let thread = rayon::current_thread_index().unwrap_or(0);
    print_line(&format!("Worker thread {thread} (pid {}) squared {x} = {square}", std::process::id()))?;
    Ok(square)
}

/// Prints `line` and a newline with one `write(2)` call, so that lines from
/// different workers cannot interleave mid-line (a pipe write of at most
/// PIPE_BUF bytes is atomic, but only as a single call).
fn print_line(line: &str) -> Result<()> {
    let text = format!("{line}\n");
    let written = nix::unistd::write(std::io::stdout(), text.as_bytes()).context("writing to stdout")?;
    ensure!(written == text.len(), "short write to stdout");
    Ok(())
}
