//! The supervisor: runs one program, captures its output, and makes sure that
//! nothing it started outlives the run.
//!
//! It runs as a process of its own (`grader supervise`, see [`run`](crate::run)),
//! never inside the grader: it reaps with `waitpid(-1)`, which in the
//! multi-threaded test harness would steal other tests' children. On Linux it
//! makes itself a *child subreaper*, so every process the program creates,
//! even one that double-forks or calls `setsid`, is re-parented to it when its
//! parent dies: it can then see what was left behind and kill all of it.
//!
//! Its stdout carries one line of JSON (the [`Report`] fields), then the
//! program's captured stdout and stderr bytes.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, pipe};
use serde_json::json;

/// What to run, and the limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub timeout: Duration,
    /// Bytes kept of stdout and of stderr, each.
    pub output_cap: usize,
}

/// How the program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(String),
    /// Still running when it was killed for a timeout or a flood.
    Killed,
}

/// A process found alive, or dead but never reaped, after the program exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub pid: i32,
    pub name: String,
    /// `true`: still running; `false`: it exited, but nobody waited for it.
    pub running: bool,
}

/// Runs `program` under `limits` and writes the report to stdout. Called by
/// `grader supervise`.
pub fn supervise(program: PathBuf, args: Vec<String>, limits: Limits) -> Result<()> {
    let report = run_supervised(&program, &args, &limits)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", report.header)?;
    out.write_all(&report.stdout)?;
    out.write_all(&report.stderr)?;
    out.flush()?;
    Ok(())
}

struct Supervised {
    header: serde_json::Value,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn run_supervised(program: &PathBuf, args: &[String], limits: &Limits) -> Result<Supervised> {
    let subreaper = become_subreaper();
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let started = Instant::now();
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out_w))
        .stderr(Stdio::from(err_w))
        // Its own process group, so that one signal reaches all of it that
        // did not move away.
        .process_group(0);
    // If the supervisor itself is killed, the program goes with it.
    #[cfg(target_os = "linux")]
    // SAFETY: `prctl` is async-signal-safe, as code between fork and exec must be.
    unsafe {
        command.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)
        });
    }
    let child = command
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    // Drop our copies of the write ends: `command` holds them.
    drop(command);
    let main = Pid::from_raw(child.id() as i32);

    let mut capture = Capture::new(out_r, err_r, limits.output_cap);
    let deadline = started + limits.timeout;
    let mut exit = None;
    let mut timed_out = false;
    let mut exited_at = None;
    let mut leftovers = Vec::new();
    let mut flood_killed = false;
    loop {
        if exit.is_none() {
            exit = try_wait(main);
            if exit.is_some() {
                exited_at = Some(started.elapsed());
                // The program is gone: whatever it started and is still
                // here is left over. Note it before killing it.
                leftovers = find_leftovers(main);
                if !leftovers.is_empty() {
                    kill_all(main);
                }
            }
        }
        if exit.is_some() && capture.done() {
            break;
        }
        if capture.flooded() && !flood_killed {
            flood_killed = true;
            kill_all(main);
        }
        let now = Instant::now();
        if now >= deadline {
            timed_out = exit.is_none();
            kill_all(main);
            // Everything is dead now, so the pipes reach end-of-file at once.
            capture.drain(Duration::from_millis(500));
            break;
        }
        // Wake up often while the program runs (to notice its exit even if
        // something else holds the pipes open); sleep on the pipes after.
        let tick = if exit.is_none() {
            Duration::from_millis(5)
        } else {
            deadline - now
        };
        capture.poll_once((deadline - now).min(tick))?;
    }
    if exit.is_none() {
        kill_all(main);
        exit = Some(wait_blocking(main));
        exited_at = Some(started.elapsed());
    }
    kill_all(main);
    let exit = exit.unwrap_or(Exit::Killed);
    let header = json!({
        "pid": main.as_raw(),
        "supervisor": std::process::id(),
        "exit": match &exit {
            Exit::Code(code) => json!({"code": code}),
            Exit::Signal(name) => json!({"signal": name}),
            Exit::Killed => json!({"killed": true}),
        },
        "timed_out": timed_out,
        "stdout_truncated": capture.out.truncated,
        "stderr_truncated": capture.err.truncated,
        "stdout_len": capture.out.bytes.len(),
        "stderr_len": capture.err.bytes.len(),
        "elapsed_ms": exited_at.unwrap_or_else(|| started.elapsed()).as_secs_f64() * 1000.0,
        "leftovers": leftovers.iter().map(|l| json!({"pid": l.pid, "name": l.name, "running": l.running})).collect::<Vec<_>>(),
        "leftovers_checked": subreaper,
    });
    Ok(Supervised {
        header,
        stdout: capture.out.bytes,
        stderr: capture.err.bytes,
    })
}

/// One captured stream.
struct Stream {
    fd: Option<OwnedFd>,
    bytes: Vec<u8>,
    truncated: bool,
}

struct Capture {
    out: Stream,
    err: Stream,
    cap: usize,
}

impl Capture {
    fn new(out: OwnedFd, err: OwnedFd, cap: usize) -> Capture {
        let stream = |fd| Stream {
            fd: Some(fd),
            bytes: Vec::new(),
            truncated: false,
        };
        Capture {
            out: stream(out),
            err: stream(err),
            cap,
        }
    }

    fn done(&self) -> bool {
        self.out.fd.is_none() && self.err.fd.is_none()
    }

    fn flooded(&self) -> bool {
        self.out.truncated || self.err.truncated
    }

    /// Waits up to `timeout` for output and reads what came.
    fn poll_once(&mut self, timeout: Duration) -> Result<()> {
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let streams: Vec<&mut Stream> = [&mut self.out, &mut self.err]
            .into_iter()
            .filter(|s| s.fd.is_some())
            .collect();
        if streams.is_empty() {
            std::thread::sleep(timeout);
            return Ok(());
        }
        let ready: Vec<bool> = {
            let mut fds: Vec<PollFd> = streams
                .iter()
                .map(|s| PollFd::new(s.fd.as_ref().expect("filtered").as_fd(), PollFlags::POLLIN))
                .collect();
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(err) => return Err(err.into()),
            }
            fds.iter().map(|fd| fd.any().unwrap_or(false)).collect()
        };
        for (stream, ready) in streams.into_iter().zip(ready) {
            if ready {
                read_some(stream, self.cap);
            }
        }
        Ok(())
    }

    /// Reads until both streams end, for at most `limit`.
    fn drain(&mut self, limit: Duration) {
        let end = Instant::now() + limit;
        while !self.done() && Instant::now() < end {
            if self.poll_once(Duration::from_millis(20)).is_err() {
                break;
            }
        }
        self.out.fd = None;
        self.err.fd = None;
    }
}

fn read_some(stream: &mut Stream, cap: usize) {
    let mut buf = [0u8; 64 * 1024];
    let Some(fd) = &stream.fd else { return };
    match nix::unistd::read(fd, &mut buf) {
        Ok(0) => stream.fd = None,
        Ok(n) => {
            let room = cap.saturating_sub(stream.bytes.len());
            stream.bytes.extend_from_slice(&buf[..n.min(room)]);
            if n > room {
                stream.truncated = true;
                stream.fd = None;
            }
        }
        Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => {}
        Err(_) => stream.fd = None,
    }
}

fn try_wait(pid: Pid) -> Option<Exit> {
    match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::Exited(_, code)) => Some(Exit::Code(code)),
        Ok(WaitStatus::Signaled(_, signal, _)) => Some(Exit::Signal(signal.as_str().to_string())),
        Ok(_) => None,
        // ECHILD: someone else reaped it; cannot happen, as it is our child.
        Err(_) => Some(Exit::Killed),
    }
}

fn wait_blocking(pid: Pid) -> Exit {
    match waitpid(pid, None) {
        Ok(WaitStatus::Signaled(_, Signal::SIGKILL, _)) | Err(_) => Exit::Killed,
        Ok(WaitStatus::Signaled(_, signal, _)) => Exit::Signal(signal.as_str().to_string()),
        Ok(WaitStatus::Exited(_, code)) => Exit::Code(code),
        Ok(_) => Exit::Killed,
    }
}

#[cfg(target_os = "linux")]
fn become_subreaper() -> bool {
    nix::sys::prctl::set_child_subreaper(true).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn become_subreaper() -> bool {
    false
}

/// Every process below the supervisor, except `main`: after `main` exits,
/// these are what it left behind (re-parented to us, the subreaper).
fn find_leftovers(main: Pid) -> Vec<Leftover> {
    descendants()
        .into_iter()
        .filter(|p| p.pid != main.as_raw())
        .map(|p| Leftover {
            pid: p.pid,
            running: p.state != 'Z',
            name: p.name,
        })
        .collect()
}

/// Kills everything below the supervisor and reaps it, including processes
/// that left the program's process group or session. Gives up after two
/// seconds of a fork bomb outrunning it.
fn kill_all(main: Pid) {
    let _ = killpg(main, Signal::SIGKILL);
    let end = Instant::now() + Duration::from_secs(2);
    loop {
        let alive: Vec<ProcInfo> = descendants();
        for p in &alive {
            if p.state != 'Z' {
                let _ = kill(Pid::from_raw(p.pid), Signal::SIGKILL);
            }
        }
        reap_all_children();
        if alive.is_empty() || Instant::now() >= end {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Reaps every child that has ended. (If that includes `main`, it was
/// killed, and the supervise loop records it as killed.)
fn reap_all_children() {
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

#[derive(Debug, Clone)]
struct ProcInfo {
    pid: i32,
    name: String,
    state: char,
}

/// All processes below this one, read from `/proc` (Linux only; elsewhere
/// none can be seen, and the report says leftovers were not checked).
fn descendants() -> Vec<ProcInfo> {
    let me = std::process::id() as i32;
    let mut children: HashMap<i32, Vec<ProcInfo>> = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The name is in parentheses and may itself contain spaces or ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_string();
        let mut rest = stat[close + 1..].split_whitespace();
        let state = rest.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let Some(ppid) = rest.next().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        children
            .entry(ppid)
            .or_default()
            .push(ProcInfo { pid, name, state });
    }
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let mut queue = vec![me];
    while let Some(parent) = queue.pop() {
        for child in children.remove(&parent).unwrap_or_default() {
            if seen.insert(child.pid) {
                queue.push(child.pid);
                found.push(child);
            }
        }
    }
    found
}
