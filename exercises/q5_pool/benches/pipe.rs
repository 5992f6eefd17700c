//! The limit a pool of processes works against: two processes and two
//! pipes, nothing else. A child echoes each 16-byte message (an index and a
//! number) as a 24-byte reply (the index and the number as an `i128`), the
//! sizes of the exercise pool's tasks and results.
//!
//! - A **round trip**: one message written, its reply awaited. This is two
//!   wake-ups (the child's, then the parent's) and four system calls, what
//!   a pool pays for one task sent alone.
//! - **Pipelined**: many messages in flight, written and read in batches of
//!   whole messages, at most PIPE_BUF bytes per write (so each write stays
//!   atomic). This is what the kernel allows for a stream of tiny tasks: a
//!   wake-up and a pair of system calls per batch, not per message.

use std::os::fd::OwnedFd;
use std::time::Instant;

use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork, pipe, read, write};

const MESSAGE: usize = 16;
const REPLY: usize = 24;
const PIPE_BUF: usize = nix::libc::PIPE_BUF;

/// A child echoing messages, and the parent's ends of its pipes.
pub struct Echo {
    to_child: Option<OwnedFd>,
    from_child: OwnedFd,
    child: Pid,
}

impl Echo {
    /// Forks the echoing child, pinned to `cpu` if given.
    ///
    /// # Safety
    ///
    /// The calling process must be single-threaded (it forks).
    pub unsafe fn start(cpu: Option<usize>) -> Echo {
        let (child_rx, parent_tx) = pipe().expect("pipe");
        let (parent_rx, child_tx) = pipe().expect("pipe");
        // SAFETY: the caller's promise; the child only reads, writes and
        // leaves with `_exit`.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                drop((parent_tx, parent_rx));
                close_all_but(&[&child_rx, &child_tx]);
                if let Some(cpu) = cpu {
                    pin(cpu);
                }
                echo(&child_rx, &child_tx);
                // SAFETY: `_exit` ends the child at once.
                unsafe { nix::libc::_exit(0) }
            }
            ForkResult::Parent { child } => {
                drop((child_rx, child_tx));
                Echo { to_child: Some(parent_tx), from_child: parent_rx, child }
            }
        }
    }

    /// Microseconds per round trip, over `n` of them.
    pub fn round_trip_us(&self, n: usize) -> f64 {
        let to_child = self.to_child.as_ref().expect("open");
        let (mut message, mut reply) = ([0u8; MESSAGE], [0u8; REPLY]);
        let start = Instant::now();
        for i in 0..n {
            message[..8].copy_from_slice(&(i as u64).to_le_bytes());
            write(to_child, &message).expect("write");
            read_exactly(&self.from_child, &mut reply);
        }
        start.elapsed().as_secs_f64() * 1e6 / n as f64
    }

    /// Microseconds per message, over `n` pipelined ones: at most
    /// `in_flight` out at once, written in batches of at most PIPE_BUF
    /// bytes, replies read as they come.
    pub fn pipelined_us(&self, n: usize, in_flight: usize) -> f64 {
        let to_child = self.to_child.as_ref().expect("open");
        let per_write = PIPE_BUF / MESSAGE;
        let mut batch = Vec::with_capacity(per_write * MESSAGE);
        let mut replies = vec![0u8; 64 * 1024];
        let (mut sent, mut received_bytes) = (0usize, 0usize);
        let start = Instant::now();
        while received_bytes < n * REPLY {
            let received = received_bytes / REPLY;
            let room = (in_flight - (sent - received)).min(per_write).min(n - sent);
            if room > 0 {
                batch.clear();
                for i in sent..sent + room {
                    batch.extend_from_slice(&(i as u64).to_le_bytes());
                    batch.extend_from_slice(&(i as i64).to_le_bytes());
                }
                write(to_child, &batch).expect("write");
                sent += room;
            }
            if sent - received_bytes / REPLY >= in_flight || sent == n {
                received_bytes += read(&self.from_child, &mut replies).expect("read");
            }
        }
        start.elapsed().as_secs_f64() * 1e6 / n as f64
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        // End-of-file ends the child's loop.
        self.to_child = None;
        let _ = waitpid(self.child, None);
    }
}

/// The child: reads whole messages as they come, replies to them in whole,
/// atomic writes.
fn echo(rx: &OwnedFd, tx: &OwnedFd) {
    let per_write = PIPE_BUF / REPLY;
    let mut messages = vec![0u8; per_write * MESSAGE];
    let mut replies = Vec::with_capacity(per_write * REPLY);
    let mut pending = 0;
    loop {
        let n = match read(rx, &mut messages[pending..]) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let whole = (pending + n) / MESSAGE * MESSAGE;
        replies.clear();
        for m in messages[..whole].chunks_exact(MESSAGE) {
            replies.extend_from_slice(&m[..8]);
            let x = i64::from_le_bytes(m[8..].try_into().expect("8 bytes"));
            replies.extend_from_slice(&i128::from(x).to_le_bytes());
        }
        if write(tx, &replies).is_err() {
            return;
        }
        messages.copy_within(whole..pending + n, 0);
        pending = pending + n - whole;
    }
}

/// Closes every descriptor but stdin, stdout, stderr and `keep`: the
/// pipes of the pool and of the other children, inherited by `fork`, would
/// keep their readers from ever seeing end-of-file.
fn close_all_but(keep: &[&OwnedFd]) {
    use std::os::fd::AsRawFd;
    let keep: Vec<i32> = keep.iter().map(|fd| fd.as_raw_fd()).collect();
    for fd in 3..1024 {
        if !keep.contains(&fd) {
            // SAFETY: in the child, which owns none of these as Rust
            // values any more (it only echoes, then `_exit`s).
            unsafe { nix::libc::close(fd) };
        }
    }
}

fn read_exactly(fd: &OwnedFd, buf: &mut [u8]) {
    let mut at = 0;
    while at < buf.len() {
        match read(fd, &mut buf[at..]) {
            Ok(0) => panic!("the echoing child is gone"),
            Ok(n) => at += n,
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Pins the calling process to one CPU (Linux; elsewhere it stays free).
#[cfg(target_os = "linux")]
pub fn pin(cpu: usize) {
    let mut set = nix::sched::CpuSet::new();
    if set.set(cpu).is_ok() {
        let _ = nix::sched::sched_setaffinity(Pid::from_raw(0), &set);
    }
}

#[cfg(not(target_os = "linux"))]
pub fn pin(_cpu: usize) {}

/// Lets the calling process run on every CPU again.
#[cfg(target_os = "linux")]
pub fn unpin(cpus: usize) {
    let mut set = nix::sched::CpuSet::new();
    for cpu in 0..cpus {
        let _ = set.set(cpu);
    }
    let _ = nix::sched::sched_setaffinity(Pid::from_raw(0), &set);
}

#[cfg(not(target_os = "linux"))]
pub fn unpin(_cpus: usize) {}
