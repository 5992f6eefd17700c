//! A pool of worker processes: started once, fed from one shared queue,
//! shut down at the end.
//!
//! ```text
//!             tasks pipe (one queue, shared)               results pipe (shared)
//!  parent ──[index, x][index, x]…──┬─▶ worker 1 ──┐
//!                                  ├─▶ worker 2 ──┼──[index, x*x][index, x*x]…──▶ parent
//!                                  └─▶ worker N ──┘
//! ```
//!
//! - [`ProcessPool::start`] makes the two pipes, then forks the N workers
//!   once. Each worker loops: read a task, run the job on its number, write
//!   the result; at end-of-file (the parent closed the queue) it exits.
//! - [`ProcessPool::map`] writes each number as a task and reads the results,
//!   putting each at its index, so they come out in input order whatever
//!   order the workers finish in. It never has more than [`IN_FLIGHT`] tasks
//!   out at once: a pipe holds 64 KiB, and a parent that wrote every task
//!   before reading any result would wait for ever on a full task pipe
//!   while the workers wait on a full results pipe.
//! - [`ProcessPool::join`] closes the queue and reaps every worker.
//!
//! A task is 16 bytes (its index and the number, each 8 bytes, little-endian),
//! a result 24 (the index, 8 bytes, and the square, 16 bytes: an `i128`
//! holds the square of every `i64`). Each is written with one `write`: POSIX
//! promises that a pipe write of at most PIPE_BUF bytes (at least 512; 4096
//! on Linux) is atomic, so records from different writers never mix. Each
//! task is read with one `read` of exactly 16 bytes by whichever worker is
//! idle: that one read takes one whole record is what Linux does (a pipe is
//! read under a lock, and it only ever holds whole records), not something
//! POSIX promises for a pipe shared by several readers. Results are read
//! with `read_exact`, by the parent alone.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;

use anyhow::{Context, Result, bail, ensure};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, pipe};

/// Bytes of a task: its index and its number.
pub const TASK: usize = 16;
/// Bytes of a result: its index and the square.
pub const RESULT: usize = 24;
/// The most tasks out at once: far fewer than a pipe holds (64 KiB is
/// 4096 tasks, or 2730 results), so neither pipe ever fills.
pub const IN_FLIGHT: usize = 256;

// Checked when compiled: each record fits in one atomic pipe write, and the
// tasks or results in flight fit in the smallest pipe (macOS's 16 KiB).
const _: () = assert!(TASK <= nix::libc::PIPE_BUF && RESULT <= nix::libc::PIPE_BUF);
const _: () = assert!(IN_FLIGHT * RESULT <= 16 * 1024);

/// A running pool of worker processes. See the [module docs](self).
#[derive(Debug)]
pub struct ProcessPool {
    /// The write end of the task queue; `None` once closed.
    tasks: Option<File>,
    /// The read end of the results pipe; `None` once closed.
    results: Option<File>,
    workers: Vec<Pid>,
}

impl ProcessPool {
    /// Forks `workers` processes that each run `job` on every number they
    /// take from the queue, until the pool is joined or dropped.
    ///
    /// # Safety
    ///
    /// The calling process must be single-threaded. `fork` copies only the
    /// calling thread: a lock held by any other thread (the allocator's, or
    /// stdout's) stays locked for ever in the child, which may then deadlock.
    pub unsafe fn start<F>(workers: usize, job: F) -> Result<ProcessPool>
    where
        F: Fn(i64) -> Result<i128>,
    {
        ensure!(workers > 0, "a pool needs at least one worker");
        // BEGIN SOLUTION: make the task and result pipes; flush stdout; fork the workers (nix::unistd::fork is unsafe): each reads 16-byte tasks until end-of-file, writes a 24-byte result for each with one write, and leaves with nix::libc::_exit
        let (tasks_rx, tasks_tx) = pipe().context("creating the task pipe")?;
        let (results_rx, results_tx) = pipe().context("creating the results pipe")?;
        // Anything still in Rust's stdout buffer would be copied into every
        // worker and printed once by each of them: flush first.
        std::io::stdout().flush()?;
        let mut pids = Vec::with_capacity(workers);
        for _ in 0..workers {
            // SAFETY: the caller promises a single-threaded process.
            match unsafe { fork() }.context("fork failed")? {
                ForkResult::Parent { child } => pids.push(child),
                ForkResult::Child => {
                    // A worker holding the queue's write end would never see
                    // its end-of-file: close the ends this process does not use.
                    drop(tasks_tx);
                    drop(results_rx);
                    // A panic must not unwind out of here: above is the
                    // parent's code, which this process has a copy of.
                    let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        serve(&tasks_rx, &results_tx, &job)
                    }));
                    let code = match served {
                        Ok(Ok(())) => 0,
                        Ok(Err(err)) => {
                            eprintln!("worker {}: {err:#}", std::process::id());
                            1
                        }
                        Err(_) => 1,
                    };
                    // `_exit`, not `exit`: the parent's cleanup (stdio
                    // flushing, atexit handlers) must not run twice.
                    // SAFETY: `_exit` ends the process at once.
                    unsafe { nix::libc::_exit(code) }
                }
            }
        }
        /// A worker's life: a task in, its result out, until end-of-file.
        fn serve(tasks: &OwnedFd, results: &OwnedFd, job: &dyn Fn(i64) -> Result<i128>) -> Result<()> {
            let mut task = [0u8; TASK];
            loop {
                // One read of exactly one record (see the module docs).
                let n = nix::unistd::read(tasks, &mut task).context("reading the task queue")?;
                if n == 0 {
                    return Ok(()); // The queue is closed: the pool is shutting down.
                }
                ensure!(n == TASK, "read {n} bytes of a {TASK}-byte task");
                let index = u64::from_le_bytes(task[..8].try_into()?);
                let x = i64::from_le_bytes(task[8..].try_into()?);
                let mut result = [0u8; RESULT];
                result[..8].copy_from_slice(&index.to_le_bytes());
                result[8..].copy_from_slice(&job(x)?.to_le_bytes());
                // One write per record, so results of different workers never mix.
                let n = nix::unistd::write(results, &result).context("sending a result")?;
                ensure!(n == RESULT, "short write of a result");
            }
        }
        Ok(ProcessPool {
            tasks: Some(File::from(tasks_tx)),
            results: Some(File::from(results_rx)),
            workers: pids,
        })
        // END SOLUTION
    }

    /// The process ids of the workers.
    pub fn workers(&self) -> &[Pid] {
        &self.workers
    }

    /// Runs the job on every number, in the workers, and returns the results
    /// in the order of `numbers`.
    pub fn map(&mut self, numbers: &[i64]) -> Result<Vec<i128>> {
        // BEGIN SOLUTION: write each number as a 16-byte task (index, number) with one write, never more than IN_FLIGHT out at once; read the 24-byte results and put each square at its index
        let (Some(tasks), Some(results)) = (&mut self.tasks, &mut self.results) else {
            bail!("the pool is closed");
        };
        let mut squares: Vec<Option<i128>> = vec![None; numbers.len()];
        let (mut sent, mut received) = (0, 0);
        while received < numbers.len() {
            // Send while fewer than IN_FLIGHT are out; then take a result
            // before sending more, so neither pipe can fill up.
            if sent < numbers.len() && sent - received < IN_FLIGHT {
                let mut task = [0u8; TASK];
                task[..8].copy_from_slice(&(sent as u64).to_le_bytes());
                task[8..].copy_from_slice(&numbers[sent].to_le_bytes());
                tasks.write_all(&task).context("sending a task")?;
                sent += 1;
                continue;
            }
            let mut result = [0u8; RESULT];
            results.read_exact(&mut result).context("a worker died before sending its result")?;
            let index = u64::from_le_bytes(result[..8].try_into()?) as usize;
            let slot = squares.get_mut(index).context("a result for a task never sent")?;
            ensure!(slot.is_none(), "task {index} was done twice");
            *slot = Some(i128::from_le_bytes(result[8..].try_into()?));
            received += 1;
        }
        Ok(squares.into_iter().map(|s| s.expect("every task answered")).collect())
        // END SOLUTION
    }

    /// Closes the queue, waits for every worker to exit and reaps it.
    pub fn join(mut self) -> Result<()> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<()> {
        // BEGIN SOLUTION: close both pipes (the workers' next read is end-of-file), then waitpid every worker
        // Closing the write end is the signal to stop: each worker's next
        // read returns end-of-file. Closing the results pipe too means that
        // after a failed `map` no worker can block on a full, unread pipe.
        self.tasks = None;
        self.results = None;
        let mut failed = Vec::new();
        for pid in self.workers.drain(..) {
            match waitpid(pid, None).with_context(|| format!("waiting for worker {pid}"))? {
                WaitStatus::Exited(_, 0) => {}
                status => failed.push(format!("{pid}: {status:?}")),
            }
        }
        ensure!(failed.is_empty(), "workers failed: {}", failed.join(", "));
        Ok(())
        // END SOLUTION
    }
}

impl Drop for ProcessPool {
    /// Never leave a worker behind, even when `map` failed half-way.
    fn drop(&mut self) {
        if !self.workers.is_empty() {
            let _ = self.shut_down();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tests that fork run the `q5_pool` binary instead (tests/cli.rs): the
    // test harness runs tests on several threads, and forking a
    // multi-threaded process is exactly what `start`'s safety rule forbids.
    #[test]
    fn a_pool_needs_a_worker_before_any_fork() {
        // SAFETY: returns before forking.
        let err = unsafe { ProcessPool::start(0, |x| Ok(i128::from(x))) }.unwrap_err();
        assert!(err.to_string().contains("at least one worker"));
    }
}
