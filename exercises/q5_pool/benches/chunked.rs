//! The benchmark's pool: the exercise's pool (`src/pool.rs`) grown for
//! speed. It is not part of the exercise (the release leaves it out);
//! `cargo bench -p q5_pool` measures it beside the exercise's pool.
//!
//! ```text
//!            tasks pipe (one shared queue)                 results pipe
//!  parent ──[index, n, x…][index, n, x…]…─┬─▶ worker 1 ──┐
//!                                         ├─▶ worker 2 ──┼──[index, n, status, x*x…]…──▶ parent
//!                                         └─▶ worker N ──┘
//! ```
//!
//! The design is the exercise's: N workers forked once, one shared queue
//! (an idle worker takes the next task), results tagged with their index and
//! put back in input order. What it took to come within 2× of a bare pipe
//! between two processes (`benches/pipe.rs`) for a stream of tiny tasks,
//! one number each:
//!
//! 1. **A wake-up per batch, not per task.** Waking a process costs
//!    microseconds; squaring a number, nanoseconds. So every side moves
//!    many records per system call: the parent writes as many whole task
//!    records as one atomic write takes (PIPE_BUF bytes: 170 tasks of 24
//!    bytes); a worker reads whatever whole records the pipe holds in one
//!    read (up to 64 KiB) and answers them in writes of up to PIPE_BUF
//!    bytes (128 results of 32 bytes); the parent reads results 64 KiB at a
//!    time (a `BufReader`).
//! 2. **Whole records, always.** Every write to the queue is whole records
//!    and at most PIPE_BUF bytes, so POSIX makes it atomic, and the pipe
//!    only ever holds whole records; a read whose buffer is a multiple of
//!    the record size then takes whole records too, which Linux keeps
//!    because it reads a pipe under its lock (POSIX does not promise this
//!    for a pipe shared by several readers). Results are written the same
//!    way, so the results of two workers never mix.
//! 3. **One thread, a window.** The parent keeps at most 48 KiB of tasks
//!    (and so of results) out, less than a pipe holds, and reads results
//!    as they come: neither pipe fills while the other side waits, with no
//!    feeder thread to compete with the worker for two cores.
//!
//! With a feeder thread and a worker that read and wrote one record per
//! system call, the per-task cost was 2.7× the bare pipe's in the runs made
//! while writing this; with 1 to 3, it came to 1.7–1.95×.
//! 4. **Chunks, for many tiny numbers.** A task may carry up to
//!    [`max_chunk`] numbers ([`ChunkedPool::with_chunks`]): fewer, larger
//!    records when each number is little work.
//!
//! A task sent alone still costs a round trip, two wake-ups: no batching
//! helps there, and the pool's latency is the bare pipe's.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::panic::{AssertUnwindSafe, catch_unwind};

use anyhow::{Context, Result, bail, ensure};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, pipe};

/// Bytes a pipe write may have and still be atomic (4096 on Linux, 512 on macOS).
const PIPE_BUF: usize = nix::libc::PIPE_BUF;
/// Every record starts with a 16-byte header: the index of its first number,
/// how many numbers it has, and (results only) whether the job failed.
const HEADER: usize = 16;
/// The most bytes of tasks, or of their results, out at once: less than a
/// pipe holds (64 KiB on Linux), so that neither pipe fills while the other
/// side waits.
const IN_FLIGHT_BYTES: usize = 48 * 1024;

/// The most numbers one task may carry: a result record (16 bytes a square)
/// must fit in one atomic pipe write.
pub fn max_chunk() -> usize {
    (PIPE_BUF - HEADER) / 16
}

/// A running pool of worker processes. See the [module docs](self).
#[derive(Debug)]
pub struct ChunkedPool {
    /// The write end of the shared task queue; `None` once closed.
    tasks: Option<File>,
    /// The read end of the pipe every worker sends its results to; `None`
    /// once closed.
    results: Option<BufReader<File>>,
    workers: Vec<Pid>,
    /// Numbers per task.
    chunk: usize,
}

impl ChunkedPool {
    /// Forks `workers` processes that each run `job` on every number they
    /// take from the queue, up to `chunk` numbers per task (at most
    /// [`max_chunk`]), until the pool is joined or dropped.
    ///
    /// # Safety
    ///
    /// The calling process must be single-threaded: `fork` copies only the
    /// calling thread, and a lock another thread held stays locked for ever
    /// in the child.
    pub unsafe fn with_chunks<F>(workers: usize, chunk: usize, job: F) -> Result<ChunkedPool>
    where
        F: Fn(i64) -> Result<i128>,
    {
        ensure!(workers > 0, "a pool needs at least one worker");
        ensure!((1..=max_chunk()).contains(&chunk), "a chunk holds 1 to {} numbers", max_chunk());
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
                    let code = match worker_loop(&tasks_rx, &results_tx, chunk, &job) {
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
        Ok(ChunkedPool {
            tasks: Some(File::from(tasks_tx)),
            results: Some(BufReader::with_capacity(64 * 1024, File::from(results_rx))),
            workers: pids,
            chunk,
        })
    }

    /// Runs the job on every number, in the workers, and returns the results
    /// in the order of `numbers`.
    pub fn map(&mut self, numbers: &[i64]) -> Result<Vec<i128>> {
        let (Some(tasks), Some(results)) = (&mut self.tasks, &mut self.results) else {
            bail!("the pool is closed");
        };
        let chunk = self.chunk;
        let count = numbers.len().div_ceil(chunk);
        // Tasks go out a batch at a time, as many whole records as one
        // atomic write takes; at most `window` are out at once, so that
        // neither pipe can fill up while the other side waits; results are
        // read as they come. One thread does both: no feeder thread, no
        // third runnable thread competing with the workers for the cores.
        let per_write = (PIPE_BUF / task_len(chunk)).max(1);
        let window = (IN_FLIGHT_BYTES / result_len(chunk).max(task_len(chunk))).max(per_write);
        let mut values: Vec<i128> = vec![0; numbers.len()];
        let mut done = vec![false; count];
        let mut record = vec![0u8; result_len(chunk)];
        let mut batch = Vec::with_capacity(per_write * task_len(chunk));
        let (mut sent, mut received) = (0, 0);
        while received < count {
            while sent < count && sent - received + per_write.min(count - sent) <= window {
                batch.clear();
                for i in sent..(sent + per_write).min(count) {
                    let group = &numbers[i * chunk..((i + 1) * chunk).min(numbers.len())];
                    batch.extend_from_slice(&header((i * chunk) as u64, group.len(), 0));
                    for x in group {
                        batch.extend_from_slice(&x.to_le_bytes());
                    }
                    batch.resize(batch.len() + 8 * (chunk - group.len()), 0);
                }
                // At most PIPE_BUF bytes to a blocking pipe: all or nothing,
                // so no worker ever sees part of a record.
                tasks.write_all(&batch).context("sending tasks")?;
                sent = (sent + per_write).min(count);
            }
            // The results pipe is read 64 KiB at a time (the BufReader): a
            // system call per many results.
            results.read_exact(&mut record).context("a worker died before sending its result")?;
            let (index, n, status) = read_header(&record);
            ensure!(index % chunk == 0 && index < numbers.len(), "a result for a task never sent");
            ensure!(!std::mem::replace(&mut done[index / chunk], true), "task {index} was done twice");
            ensure!(n == numbers[index..].len().min(chunk), "a result of the wrong length");
            if status != 0 {
                bail!("a worker failed on the numbers from index {index} (see its message above)");
            }
            for (slot, bytes) in values[index..index + n].iter_mut().zip(record[HEADER..].chunks_exact(16)) {
                *slot = i128::from_le_bytes(bytes.try_into()?);
            }
            received += 1;
        }
        Ok(values)
    }

    /// Closes the queue, waits for every worker to exit and reaps it.
    pub fn join(mut self) -> Result<()> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<()> {
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
    }
}

impl Drop for ChunkedPool {
    /// Never leave a worker behind, even when `map` failed half-way.
    fn drop(&mut self) {
        if !self.workers.is_empty() {
            let _ = self.shut_down();
        }
    }
}

fn task_len(chunk: usize) -> usize {
    HEADER + 8 * chunk
}

fn result_len(chunk: usize) -> usize {
    HEADER + 16 * chunk
}

fn header(index: u64, count: usize, status: u32) -> [u8; HEADER] {
    let mut bytes = [0u8; HEADER];
    bytes[..8].copy_from_slice(&index.to_le_bytes());
    bytes[8..12].copy_from_slice(&(count as u32).to_le_bytes());
    bytes[12..].copy_from_slice(&status.to_le_bytes());
    bytes
}

fn read_header(bytes: &[u8]) -> (usize, usize, u32) {
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let index = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    (index as usize, word(8) as usize, word(12))
}

/// What each worker process does: take a task, do it, send the result back,
/// until the queue is closed.
fn worker_loop<F>(tasks: &OwnedFd, results: &OwnedFd, chunk: usize, job: &F) -> Result<()>
where
    F: Fn(i64) -> Result<i128>,
{
    // As many whole tasks as the pipe holds in one read, and as many results
    // as one atomic write may carry: a wake-up and a few system calls per
    // batch, not per task. A read takes whole records: every write to the
    // queue is whole records, at most PIPE_BUF bytes and so atomic, so the
    // pipe only ever holds whole records, and Linux reads a pipe under its
    // lock (see the module docs).
    let per_read = (64 * 1024 / task_len(chunk)).max(1);
    let per_write = (PIPE_BUF / result_len(chunk)).max(1);
    let mut tasks_in = vec![0u8; per_read * task_len(chunk)];
    let mut out = Vec::with_capacity(per_write * result_len(chunk));
    let mut result = vec![0u8; result_len(chunk)];
    loop {
        let n = nix::unistd::read(tasks, &mut tasks_in).context("reading the task queue")?;
        if n == 0 {
            return Ok(()); // End of file: the pool is shutting down.
        }
        ensure!(n % task_len(chunk) == 0, "read {n} bytes: not whole {}-byte tasks", task_len(chunk));
        for task in tasks_in[..n].chunks_exact(task_len(chunk)) {
            let (index, count, _) = read_header(task);
            ensure!(count <= chunk, "a task of {count} numbers, more than {chunk}");
            let mut status = 0;
            for (i, x) in task[HEADER..].chunks_exact(8).take(count).enumerate() {
                let x = i64::from_le_bytes(x.try_into()?);
                // A panic must not unwind out of this function: above it is
                // the parent's code, which this process has a copy of.
                let value = match catch_unwind(AssertUnwindSafe(|| job(x))) {
                    Ok(Ok(value)) => value,
                    Ok(Err(err)) => {
                        eprintln!("worker {}: number {x}: {err:#}", std::process::id());
                        status = 1;
                        0
                    }
                    Err(_) => {
                        status = 1;
                        0
                    }
                };
                result[HEADER + 16 * i..HEADER + 16 * (i + 1)].copy_from_slice(&value.to_le_bytes());
            }
            result[..HEADER].copy_from_slice(&header(index as u64, count, status));
            if out.len() + result.len() > per_write * result_len(chunk) {
                send(results, &out)?;
                out.clear();
            }
            out.extend_from_slice(&result);
        }
        send(results, &out)?;
        out.clear();
    }
}

/// One write of whole result records, at most PIPE_BUF bytes: atomic, so
/// records from different workers never mix.
fn send(results: &OwnedFd, records: &[u8]) -> Result<()> {
    let n = nix::unistd::write(results, records).context("sending results")?;
    ensure!(n == records.len(), "short write of results");
    Ok(())
}
