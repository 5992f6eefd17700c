//! Q3: write code that creates a process.
//!
//! The main process creates one worker process, waits for it, and reports how
//! it ended: the exit status the worker really had. There are two ways to
//! create it, as in Python's start methods:
//!
//! - `q3_process` (fork): `fork()` copies the running process; the copy
//!   carries on from the same line as the worker.
//! - `q3_process --spawn` (spawn): start this program's own executable again
//!   as a new process, told by an environment variable to be the worker.
//!
//! `--status N` tells the worker to exit with status N (0 by default), so
//! that the main process's report can be checked against what really
//! happened.
//!
//! ```text
//! Worker 1 starting (pid <worker pid>, parent <main pid>)
//! Worker 1 finishing (pid <worker pid>)
//! Main process exiting (worker 1 exited with status <N>)
//! ```

use std::io::Write;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail, ensure};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, getpid, getppid};

/// Set in the environment of a spawned worker, so the program knows its
/// role; its value is the status the worker exits with.
const WORKER_ENV: &str = "Q3_PROCESS_WORKER";
const USAGE: &str = "usage: q3_process [--spawn] [--status N]  (N: the worker's exit status, 0 to 255)";

fn main() -> Result<ExitCode> {
    if let Some(status) = std::env::var_os(WORKER_ENV) {
        let status: u8 = status.to_str().and_then(|s| s.parse().ok()).context("a spawned worker's status")?;
        worker()?;
        return Ok(ExitCode::from(status));
    }
    let Some((spawn, status)) = parse_args(std::env::args().skip(1)) else {
        eprintln!("{USAGE}");
        return Ok(ExitCode::from(2));
    };
    let exited = if spawn { spawn_worker(status)? } else { fork_worker(status)? };
    print_line(&format!("Main process exiting (worker 1 exited with status {exited})"))?;
    Ok(ExitCode::SUCCESS)
}

/// `[--spawn] [--status N]`, in any order: whether to spawn, and the status
/// the worker exits with.
fn parse_args(mut args: impl Iterator<Item = String>) -> Option<(bool, u8)> {
    let (mut spawn, mut status) = (false, 0);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--spawn" => spawn = true,
            "--status" => status = args.next()?.parse().ok()?,
            _ => return None,
        }
    }
    Some((spawn, status))
}

/// What the worker process does, however it was created.
fn worker() -> Result<()> {
    // BEGIN SOLUTION: print the worker's two lines: its own pid (getpid) and its parent's (getppid)
    print_line(&format!("Worker 1 starting (pid {}, parent {})", getpid(), getppid()))?;
    // A real worker would do its job here.
    print_line(&format!("Worker 1 finishing (pid {})", getpid()))
    // END SOLUTION
}

/// Creates the worker with `fork`, which exits with `status`; returns the
/// exit status the worker really had.
fn fork_worker(status: u8) -> Result<i32> {
    // BEGIN SOLUTION: flush stdout and fork (nix::unistd::fork is unsafe); the child runs worker() and leaves with nix::libc::_exit(status); the parent waits with waitpid and returns the exit status it reports
    // Anything still in Rust's stdout buffer would be copied into the child
    // and printed twice, once by each process: flush first.
    std::io::stdout().flush()?;
    // SAFETY: this program has one thread, so the child gets a consistent copy
    // of every lock and of the allocator. The child runs `worker` and leaves
    // with `_exit`, never returning into the parent's code.
    match unsafe { fork() }.context("fork failed")? {
        ForkResult::Child => {
            let code = match worker() {
                Ok(()) => i32::from(status),
                Err(err) => {
                    eprintln!("worker 1: {err:#}");
                    1
                }
            };
            // `_exit`, not `exit` or a return from main: the child must not
            // run the parent's cleanup (atexit handlers, stdio flushing) again.
            // SAFETY: `_exit` ends the process at once.
            unsafe { nix::libc::_exit(code) }
        }
        // Waiting reaps the worker: until then it stays a zombie, and a parent
        // that exits first leaves it orphaned (re-parented to pid 1).
        ForkResult::Parent { child } => match waitpid(child, None).context("waiting for worker 1")? {
            WaitStatus::Exited(_, code) => Ok(code),
            other => bail!("worker 1 did not exit normally: {other:?}"),
        },
    }
    // END SOLUTION
}

/// Creates the worker by running this program's executable again, told to
/// exit with `status`; returns the exit status the worker really had.
fn spawn_worker(status: u8) -> Result<i32> {
    // BEGIN SOLUTION: run std::env::current_exe() again with WORKER_ENV set to the status, wait for it, and return the exit status it reports
    let exe = std::env::current_exe().context("finding this program's executable")?;
    let status = Command::new(&exe)
        .env(WORKER_ENV, status.to_string())
        .status()
        .with_context(|| format!("starting {}", exe.display()))?;
    status.code().with_context(|| format!("worker 1 did not exit normally: {status}"))
    // END SOLUTION
}

/// Prints `line` and a newline with one `write(2)` call, so that lines from
/// the two processes cannot interleave mid-line (a pipe write of at most
/// PIPE_BUF bytes is atomic, but only as a single call).
fn print_line(line: &str) -> Result<()> {
    let text = format!("{line}\n");
    let written = nix::unistd::write(std::io::stdout(), text.as_bytes()).context("writing to stdout")?;
    ensure!(written == text.len(), "short write to stdout");
    Ok(())
}
