//! The supervisor: runs one program, captures its output, watches what it
//! does, and makes sure that nothing it started outlives the run.
//!
//! It runs as a process of its own (`grader supervise`, see [`run`](crate::run)),
//! never inside the grader: it reaps with `waitpid(-1)`, which in the
//! multi-threaded test harness would steal other tests' children. On Linux it
//! makes itself a *child subreaper*, so every process the program creates,
//! even one that double-forks or calls `setsid`, is re-parented to it when its
//! parent dies: it can then see what was left behind and kill all of it. And
//! where `ptrace` is allowed it traces the program (see [`witness`](crate::witness)).
//!
//! Two threads: the main thread starts the program and waits for it (as its
//! tracer, when tracing: ptrace requests must come from the tracer thread);
//! a reader thread drains stdout and stderr and enforces the time limit and
//! the output cap by killing the whole tree.
//!
//! Its stdout carries one line of JSON (the report), then the program's
//! captured stdout and stderr bytes.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, pipe};
use serde_json::json;

use crate::witness::{Tracer, Witness};

/// The limits of one run.
#[derive(Debug, Clone)]
pub struct Limits {
    pub timeout: Duration,
    /// Bytes kept of stdout and of stderr, each.
    pub output_cap: usize,
    /// Processes the program may create before the run is stopped (only
    /// enforced when tracing).
    pub process_cap: usize,
    /// Trace the program with `ptrace` where the system allows it.
    pub trace: bool,
}

/// How the program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(String),
    /// Killed by the supervisor, for a time-out, a flood or the process cap.
    Killed,
}

impl Exit {
    pub(crate) fn from_status(status: WaitStatus) -> Option<Exit> {
        match status {
            WaitStatus::Exited(_, code) => Some(Exit::Code(code)),
            WaitStatus::Signaled(_, signal, _) => Some(Exit::Signal(signal.as_str().to_string())),
            _ => None,
        }
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Exit::Code(code) => json!({"code": code}),
            Exit::Signal(name) => json!({"signal": name}),
            Exit::Killed => json!({"killed": true}),
        }
    }

    /// The inverse of `to_json`.
    pub(crate) fn from_json(value: &serde_json::Value) -> Option<Exit> {
        if let Some(code) = value["code"].as_i64() {
            Some(Exit::Code(code as i32))
        } else if let Some(signal) = value["signal"].as_str() {
            Some(Exit::Signal(signal.to_string()))
        } else if value["killed"].as_bool() == Some(true) {
            Some(Exit::Killed)
        } else {
            None
        }
    }
}

/// A process found alive, or dead but never reaped, after the program exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub pid: i32,
    pub name: String,
    /// `true`: still running; `false`: it exited, but nobody waited for it.
    pub running: bool,
}

/// Why the supervisor stopped the run, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Stopped {
    No = 0,
    TimedOut = 1,
    Flooded = 2,
    TooManyProcesses = 3,
}

/// The program's pid (and process group), once started.
static MAIN: AtomicI32 = AtomicI32::new(0);

/// Shared between the two threads: the first reason to stop wins.
#[derive(Debug, Default)]
pub struct StopFlag(AtomicU8);

impl StopFlag {
    /// Records why the run stops and kills the whole tree.
    pub fn stop(&self, why: Stopped) {
        let _ = self.0.compare_exchange(0, why as u8, Ordering::SeqCst, Ordering::SeqCst);
        kill_tree();
    }

    fn get(&self) -> Stopped {
        match self.0.load(Ordering::SeqCst) {
            1 => Stopped::TimedOut,
            2 => Stopped::Flooded,
            3 => Stopped::TooManyProcesses,
            _ => Stopped::No,
        }
    }
}

/// Runs `program` under `limits` and writes the report to stdout. Called by
/// `grader supervise`.
pub fn supervise(program: &Path, args: &[String], limits: &Limits) -> Result<()> {
    let subreaper = become_subreaper();
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let started = Instant::now();
    let (child, mut tracer, witness_error) = spawn(program, args, &out_w, &err_w, limits.trace)?;
    // Only the program may hold the write ends now, or the pipes never end.
    drop((out_w, err_w));
    let main = Pid::from_raw(child.id() as i32);
    MAIN.store(main.as_raw(), Ordering::SeqCst);

    let stop = Arc::new(StopFlag::default());
    let reader = {
        let (stop, cap, deadline) = (stop.clone(), limits.output_cap, started + limits.timeout);
        std::thread::spawn(move || capture(out_r, err_r, cap, deadline, &stop))
    };

    let exit = match tracer.as_mut() {
        Some(tracer) => tracer.run_until_exit(main, &stop, limits.process_cap),
        None => wait_for(main),
    };
    let elapsed = started.elapsed();
    // The program is gone: whatever it started and is still here is left
    // over. Note it, then kill it all and reap it.
    let leftovers = if subreaper { find_leftovers(main) } else { Vec::new() };
    // A killed tracee stops once more on its way out (PTRACE_EVENT_EXIT), and
    // only this thread, its tracer, can let it go on: kill, then drain.
    kill_once();
    let witness = tracer.map(|mut tracer| {
        tracer.drain();
        tracer.into_witness()
    });
    kill_tree();
    reap_all();
    let (out, err) = reader.join().unwrap_or_default();

    let why = stop.get();
    let exit = if why == Stopped::No { exit } else { Exit::Killed };
    let header = json!({
        "pid": main.as_raw(),
        "supervisor": std::process::id(),
        "exit": exit.to_json(),
        "timed_out": why == Stopped::TimedOut,
        "too_many_processes": why == Stopped::TooManyProcesses,
        "stdout_truncated": out.truncated,
        "stderr_truncated": err.truncated,
        "stdout_len": out.bytes.len(),
        "stderr_len": err.bytes.len(),
        "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
        "leftovers": leftovers.iter().map(|l| json!({"pid": l.pid, "name": l.name, "running": l.running})).collect::<Vec<_>>(),
        "leftovers_checked": subreaper,
        "witness": witness.as_ref().map(Witness::to_json),
        "witness_error": witness_error,
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{header}")?;
    stdout.write_all(&out.bytes)?;
    stdout.write_all(&err.bytes)?;
    stdout.flush()?;
    Ok(())
}

/// Starts the program, traced if asked and allowed; otherwise untraced, with
/// the reason tracing was not possible.
fn spawn(
    program: &Path,
    args: &[String],
    out: &OwnedFd,
    err: &OwnedFd,
    trace: bool,
) -> Result<(Child, Option<Tracer>, Option<String>)> {
    let command = |traced: bool| -> Result<Command> {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(err.try_clone()?))
            // Its own process group, so that one signal reaches all of it
            // that did not move away.
            .process_group(0);
        #[cfg(target_os = "linux")]
        // SAFETY: `prctl` and `ptrace` are async-signal-safe system calls, as
        // code between fork and exec must be.
        unsafe {
            command.pre_exec(move || {
                // If the supervisor dies, the program goes with it.
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
                if traced {
                    nix::sys::ptrace::traceme()?;
                }
                Ok(())
            });
        }
        Ok(command)
    };
    let starting = || format!("starting {}", program.display());
    if trace && cfg!(target_os = "linux") {
        match command(true)?.spawn() {
            Ok(child) => match Tracer::attach(Pid::from_raw(child.id() as i32)) {
                Ok(tracer) => return Ok((child, Some(tracer), None)),
                Err(e) => {
                    // Traced but not under control: do not let it run.
                    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
                    let _ = waitpid(Pid::from_raw(child.id() as i32), None);
                    let why = format!("ptrace options could not be set: {e}");
                    return Ok((command(false)?.spawn().with_context(starting)?, None, Some(why)));
                }
            },
            Err(e) => {
                let why = format!("ptrace is not permitted here: {e}");
                return Ok((command(false)?.spawn().with_context(starting)?, None, Some(why)));
            }
        }
    }
    let why = if trace {
        format!("ptrace is only used on Linux (this is {})", std::env::consts::OS)
    } else {
        "tracing was turned off".to_string()
    };
    Ok((command(false)?.spawn().with_context(starting)?, None, Some(why)))
}

/// Waits for the untraced program to end.
fn wait_for(main: Pid) -> Exit {
    loop {
        match waitpid(main, None) {
            Err(nix::errno::Errno::EINTR) => continue,
            Ok(status) => match Exit::from_status(status) {
                Some(exit) => return exit,
                None => continue,
            },
            Err(_) => return Exit::Killed,
        }
    }
}

/// One captured stream.
#[derive(Debug, Default)]
struct Stream {
    bytes: Vec<u8>,
    truncated: bool,
}

/// The reader thread: drains both pipes until they end, stopping the run at
/// the deadline or when a stream passes the cap.
fn capture(out: OwnedFd, err: OwnedFd, cap: usize, deadline: Instant, stop: &StopFlag) -> (Stream, Stream) {
    let mut streams = [(Some(out), Stream::default()), (Some(err), Stream::default())];
    let mut drain_until: Option<Instant> = None;
    let mut buf = vec![0u8; 64 * 1024];
    while streams.iter().any(|(fd, _)| fd.is_some()) {
        let now = Instant::now();
        if drain_until.is_some_and(|end| now >= end) {
            break;
        }
        if now >= deadline && drain_until.is_none() {
            stop.stop(Stopped::TimedOut);
            // Everything is dead now, so the pipes end at once.
            drain_until = Some(now + Duration::from_millis(500));
        }
        let wait =
            drain_until.unwrap_or(deadline).saturating_duration_since(now).min(Duration::from_millis(100));
        let ready: Vec<bool> = {
            let mut fds: Vec<PollFd> = streams
                .iter()
                .filter_map(|(fd, _)| fd.as_ref())
                .map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
                .collect();
            let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
            if let Err(e) = poll(&mut fds, PollTimeout::from(ms))
                && e != nix::errno::Errno::EINTR
            {
                break;
            }
            fds.iter().map(|fd| fd.any().unwrap_or(false)).collect()
        };
        let open = streams.iter_mut().filter(|(fd, _)| fd.is_some());
        for ((fd, stream), ready) in open.zip(ready) {
            if !ready {
                continue;
            }
            match nix::unistd::read(fd.as_ref().expect("open"), &mut buf) {
                Ok(0) => *fd = None,
                Ok(n) => {
                    let room = cap.saturating_sub(stream.bytes.len());
                    stream.bytes.extend_from_slice(&buf[..n.min(room)]);
                    if n > room {
                        stream.truncated = true;
                        *fd = None;
                        stop.stop(Stopped::Flooded);
                        drain_until.get_or_insert(Instant::now() + Duration::from_millis(500));
                    }
                }
                Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => {}
                Err(_) => *fd = None,
            }
        }
    }
    let [(_, out), (_, err)] = streams;
    (out, err)
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
        .map(|p| Leftover { pid: p.pid, running: p.state != 'Z', name: p.name })
        .collect()
}

/// Kills everything below the supervisor, including processes that left the
/// program's process group or session. Gives up after two seconds of a fork
/// bomb outrunning it. Reaping is left to the main thread.
pub(crate) fn kill_tree() {
    let end = Instant::now() + Duration::from_secs(2);
    while kill_once() > 0 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Sends SIGKILL to the program's process group and to every process below
/// the supervisor that has not ended yet; returns how many there were.
fn kill_once() -> usize {
    // The process group first: where `/proc` cannot be read (not Linux),
    // that is all there is to go on.
    let main = MAIN.load(Ordering::SeqCst);
    if main > 0 {
        let _ = killpg(Pid::from_raw(main), Signal::SIGKILL);
    }
    // 'Z': a zombie, already dead; 'X': dying.
    let alive: Vec<ProcInfo> = descendants().into_iter().filter(|p| !matches!(p.state, 'Z' | 'X')).collect();
    for p in &alive {
        let _ = kill(Pid::from_raw(p.pid), Signal::SIGKILL);
    }
    alive.len()
}

/// Reaps every child until none is left, for at most two seconds.
fn reap_all() {
    let end = Instant::now() + Duration::from_secs(2);
    while Instant::now() < end {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)) {
            Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(1)),
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break, // ECHILD: nothing left
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
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
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
        children.entry(ppid).or_default().push(ProcInfo { pid, name, state });
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
