//! A pool of worker processes fed from one shared queue.
//!
//! ```text
//!            tasks pipe (one shared queue)            results pipe
//!  parent ──[index, x][index, x]…──┬─▶ worker 1 ──┐
//!                                  ├─▶ worker 2 ──┼──[index, status, x*x]…──▶ parent
//!                                  └─▶ worker N ──┘
//! ```
//!
//! The workers are forked once, in [`ProcessPool::start`], and reused for
//! every number. Each idle worker reads the next task from the shared pipe, so
//! a busy worker never holds up the others. Every task is a fixed-size record
//! written with one `write` and read with one `read` of exactly that size: a
//! pipe write of at most PIPE_BUF bytes is atomic, so the kernel hands each
//! record whole to exactly one worker (none is lost, split or done twice).
//! Results come back tagged with their index, so the parent can put them in
//! input order whatever order they arrive in.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::panic::{AssertUnwindSafe, catch_unwind};

use anyhow::{Context, Result, bail, ensure};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, pipe};

/// A task: the number's index in the input, and the number.
const TASK_LEN: usize = 16;
/// A result: the index, 0 for success or 1 for failure, and the square.
const RESULT_LEN: usize = 32;
/// Up to this many tasks fit in a pipe's buffer (64 KiB on Linux, 16 KiB at
/// least elsewhere) without blocking the parent.
const TASKS_IN_ONE_GO: usize = 16 * 1024 / TASK_LEN;

/// A running pool of worker processes. See the [module docs](self).
#[derive(Debug)]
pub struct ProcessPool {
    /// The write end of the shared task queue; `None` once closed.
    tasks: Option<File>,
    /// The read end of the pipe every worker sends its results to; `None`
    /// once closed.
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
    /// stdout's) stays locked forever in the child, which may then deadlock.
    pub unsafe fn start<F>(workers: usize, job: F) -> Result<ProcessPool>
    where
        F: Fn(i64) -> Result<i128>,
    {
        // BEGIN SOLUTION: create the task and result pipes, flush stdout, fork the workers; each runs worker_loop and leaves with _exit
        ensure!(workers > 0, "a pool needs at least one worker");
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
                    // The worker must not hold the queue's write end, or it
                    // would never see the end of the queue.
                    drop(tasks_tx);
                    drop(results_rx);
                    let code = match worker_loop(&tasks_rx, &results_tx, &job) {
                        Ok(()) => 0,
                        Err(err) => {
                            eprintln!("worker {}: {err:#}", std::process::id());
                            1
                        }
                    };
                    // Leave with `_exit`: returning would carry on with the
                    // parent's code in this copy, and `exit` would run the
                    // parent's cleanup (stdio flushing, atexit) a second time.
                    // SAFETY: `_exit` ends the process at once.
                    unsafe { nix::libc::_exit(code) }
                }
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
        // BEGIN SOLUTION: send every number as a task, collect the results, return them in input order
        let (Some(tasks), Some(results)) = (&mut self.tasks, &mut self.results) else {
            bail!("the pool is closed");
        };
        if numbers.len() <= TASKS_IN_ONE_GO {
            send_tasks(tasks, numbers)?;
            return collect_results(results, numbers);
        }
        // More tasks than the pipe holds: a helper thread feeds the queue
        // while this one drains the results, or both pipes could fill up and
        // stall. (A thread is fine here: every fork has already happened.)
        std::thread::scope(|scope| {
            let feeder = scope.spawn(|| send_tasks(tasks, numbers));
            let results = collect_results(results, numbers);
            let fed = feeder.join().map_err(|_| anyhow::anyhow!("the task feeder panicked"))?;
            fed.and(results)
        })
        // END SOLUTION
    }

    /// Closes the queue, waits for every worker to exit and reaps it.
    pub fn join(mut self) -> Result<()> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<()> {
        // BEGIN SOLUTION: close the task pipe, then waitpid every worker
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

/// What each worker process does: take a task, do it, send the result back,
/// until the queue is closed.
fn worker_loop<F>(tasks: &OwnedFd, results: &OwnedFd, job: &F) -> Result<()>
where
    F: Fn(i64) -> Result<i128>,
{
    // BEGIN SOLUTION: read one task record at a time until end-of-file; run the job; write the result record with one write
    let mut task = [0u8; TASK_LEN];
    loop {
        // One read of exactly one record: see the module docs.
        let n = nix::unistd::read(tasks, &mut task).context("reading the task queue")?;
        if n == 0 {
            return Ok(()); // End of file: the pool is shutting down.
        }
        ensure!(n == TASK_LEN, "read {n} bytes of a {TASK_LEN}-byte task");
        let index = u64::from_le_bytes(task[..8].try_into()?);
        let x = i64::from_le_bytes(task[8..].try_into()?);

        // A panic must not unwind out of this function: above it is the
        // parent's code, which this process has a copy of.
        let (status, value) = match catch_unwind(AssertUnwindSafe(|| job(x))) {
            Ok(Ok(value)) => (0u64, value),
            Ok(Err(err)) => {
                eprintln!("worker {}: number {x}: {err:#}", std::process::id());
                (1, 0)
            }
            Err(_) => (1, 0),
        };
        let mut result = [0u8; RESULT_LEN];
        result[..8].copy_from_slice(&index.to_le_bytes());
        result[8..16].copy_from_slice(&status.to_le_bytes());
        result[16..].copy_from_slice(&value.to_le_bytes());
        // One write per record, so records from different workers never mix.
        let n = nix::unistd::write(results, &result).context("sending a result")?;
        ensure!(n == RESULT_LEN, "short write of a result");
    }
    // END SOLUTION
}

fn send_tasks(tasks: &mut File, numbers: &[i64]) -> Result<()> {
    // BEGIN SOLUTION: write each task as one fixed-size record
    for (index, x) in (0u64..).zip(numbers) {
        let mut task = [0u8; TASK_LEN];
        task[..8].copy_from_slice(&index.to_le_bytes());
        task[8..].copy_from_slice(&x.to_le_bytes());
        // A 16-byte write to a blocking pipe is all or nothing: one record.
        tasks.write_all(&task).context("sending a task")?;
    }
    Ok(())
    // END SOLUTION
}

fn collect_results(results: &mut File, numbers: &[i64]) -> Result<Vec<i128>> {
    // BEGIN SOLUTION: read one result record per number and put each at its index
    let mut values: Vec<Option<i128>> = vec![None; numbers.len()];
    let mut record = [0u8; RESULT_LEN];
    for _ in numbers {
        results.read_exact(&mut record).context("a worker died before sending its result")?;
        let index = u64::from_le_bytes(record[..8].try_into()?) as usize;
        let status = u64::from_le_bytes(record[8..16].try_into()?);
        let value = i128::from_le_bytes(record[16..].try_into()?);
        let slot = values.get_mut(index).context("a result for a task never sent")?;
        ensure!(slot.is_none(), "task {index} was done twice");
        if status != 0 {
            bail!("a worker failed on the number {}", numbers[index]);
        }
        *slot = Some(value);
    }
    // Every result arrived once, so every slot is filled.
    values.into_iter().map(|v| v.context("a result is missing")).collect()
    // END SOLUTION
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tests that fork run the `q5_pool` binary instead (tests/cli.rs): the
    // test harness runs tests on several threads, and forking a
    // multi-threaded process is exactly what `start`'s safety rule forbids.
    #[test]
    fn zero_workers_is_an_error() {
        // SAFETY: with zero workers `start` returns before forking.
        let err = unsafe { ProcessPool::start(0, |x| Ok(i128::from(x))) }.unwrap_err();
        assert!(err.to_string().contains("at least one worker"));
    }
}
