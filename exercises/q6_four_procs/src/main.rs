//! Q6: create 4 processes, each printing a different number.
//!
//! The parent forks four children. Child `k` prints one line with its own pid
//! and the number `k`, then leaves. The parent waits for (reaps) all four and
//! only then prints its last line, so that line always comes last.
//!
//! ```text
//! Process <k> (pid <child pid>) prints <k>        (k = 1..4, any order)
//! All 4 processes finished
//! ```

use std::io::Write;

use anyhow::{Context, Result, bail, ensure};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid};

const CHILDREN: u32 = 4;

fn main() -> Result<()> {
    // BEGIN SOLUTION: fork 4 children with nix::unistd::fork (unsafe: flush stdout first); child k runs child(k); then wait for all 4 with waitpid and print the last line
    let mut children: Vec<Pid> = Vec::new();
    for k in 1..=CHILDREN {
        // Anything still in Rust's stdout buffer would be copied into the
        // child and printed twice, once by each process: flush first.
        std::io::stdout().flush()?;
        // SAFETY: this program never starts a thread, so the child gets a
        // consistent copy of every lock and allocator state. The child only
        // prints and then leaves with `_exit`.
        match unsafe { fork() }.context("fork failed")? {
            ForkResult::Child => child(k),
            ForkResult::Parent { child } => children.push(child),
        }
    }

    let mut failed = 0;
    for (k, pid) in (1..).zip(&children) {
        match waitpid(*pid, None).with_context(|| format!("waiting for process {k}"))? {
            WaitStatus::Exited(_, 0) => {}
            status => {
                eprintln!("process {k} (pid {pid}) failed: {status:?}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {CHILDREN} processes failed");
    }
    print_line(&format!("All {CHILDREN} processes finished"))?;
    Ok(())
    // END SOLUTION
}

/// The child's whole life: print one line and leave.
fn child(k: u32) -> ! {
    // BEGIN SOLUTION: print this child's line with print_line, then leave with nix::libc::_exit(0)
    let code = match print_line(&format!("Process {k} (pid {}) prints {k}", getpid())) {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("process {k}: {err:#}");
            1
        }
    };
    // `_exit`, not `exit` or returning from main: the child must not run the
    // parent's cleanup (atexit handlers, destructors, stdio flushing) a
    // second time.
    // SAFETY: `_exit` ends the process at once; nothing is left half-done.
    unsafe { nix::libc::_exit(code) }
    // END SOLUTION
}

/// Prints `line` and a newline with one `write(2)` call.
///
/// Four processes share one stdout. A pipe write of at most PIPE_BUF bytes
/// (4096 on Linux) is atomic, but only as a single call: `println!` may split
/// a line into several writes, and then lines from different processes can
/// interleave mid-line.
fn print_line(line: &str) -> Result<()> {
    let text = format!("{line}\n");
    let written = nix::unistd::write(std::io::stdout(), text.as_bytes()).context("writing to stdout")?;
    ensure!(written == text.len(), "short write to stdout");
    Ok(())
}
