//! The supervisor: runs one program in the [`sandbox`], captures its
//! output, watches what it does, and makes sure that nothing it started
//! outlives the run.
//!
//! ```no_run
//! // `grader supervise` reads a Request on stdin and answers with a Report:
//! grader::supervisor::serve()?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! It runs as a process of its own (`grader supervise`, started by
//! [`run`](crate::engine::run)), never inside the grader: it reaps with
//! `waitpid(-1)`, which in the multi-threaded test harness would steal other
//! tests' children, and it forks while single-threaded. On Linux it makes
//! itself a *child subreaper*, so every process the program creates, even
//! one that double-forks or calls `setsid`, is re-parented to it when its
//! parent dies: it can then see what was left behind and kill all of it. And
//! where `ptrace` is allowed it traces the program (see [`witness`]).
//!
//! Two threads: the main thread starts the program and waits for it (as its
//! tracer, when tracing: ptrace requests must come from the tracer thread);
//! a reader thread drains stdout and stderr and enforces the time limit, the
//! output cap, and the limits on memory and disk by killing the whole tree.
//!
//! The folder: [`protocol`] (what crosses between grader and supervisor),
//! [`sandbox`] (what the program may touch), [`witness`] (what it did),
//! [`tree`] (killing and reaping), [`procfs`] (what `/proc` says).

pub mod authorship;
pub mod procfs;
pub mod protocol;
pub mod sandbox;
pub mod tree;
pub mod witness;

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use protocol::{
    Blocked, Exit, Guard, Level, Limits, Report, Request, SandboxStatus, Stopped, THREADS_PER_PROCESS,
};
use sandbox::Prepared;
use tree::{StopFlag, Tree};
use witness::Tracer;

/// How long the supervisor waits, at most, for every process of a run's
/// own user to be gone before it exits.
const USER_GONE_WITHIN_S: u64 = 10;

/// The most a request may be (a few thousand arguments fit many times).
const MAX_REQUEST: u64 = 16 << 20;

/// `grader supervise`: reads a [`Request`] from stdin, runs it, and writes
/// the [`Report`] line and the captured bytes to stdout.
pub fn serve() -> Result<()> {
    let mut input = Vec::new();
    std::io::stdin().take(MAX_REQUEST).read_to_end(&mut input).context("reading the request")?;
    let request: Request = serde_json::from_slice(&input).context("the grader's request")?;
    let (report, out, err) = supervise(&request)?;
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer(&mut stdout, &report)?;
    stdout.write_all(b"\n")?;
    stdout.write_all(&out)?;
    stdout.write_all(&err)?;
    stdout.flush()?;
    Ok(())
}

/// Runs the request and returns the report and the captured stdout and
/// stderr.
pub fn supervise(request: &Request) -> Result<(Report, Vec<u8>, Vec<u8>)> {
    let subreaper = become_subreaper();
    close_inherited_on_exec();
    // Close-on-exec: only the copies the program gets as its fds 1 and 2
    // survive its `exec`, so it cannot hold its own pipes open (or read them).
    let (out_r, out_w) = cloexec_pipe()?;
    let (err_r, err_w) = cloexec_pipe()?;
    let started = Instant::now();
    // The run's stdout as `/proc` shows it, for the witness to tell writes
    // to it from others.
    let stdout = procfs::fd_info(std::process::id() as i32, out_w.as_raw_fd());
    let spawned = spawn(request, &out_w, &err_w, stdout)?;
    // Only the program may hold the write ends now, or the pipes never end.
    drop((out_w, err_w));
    let main = Pid::from_raw(spawned.child.id() as i32);
    let tree = Tree { main };

    let stop = Arc::new(StopFlag::new(tree));
    let reader = {
        let stop = stop.clone();
        let watch = Watch::new(request, started, spawned.tracer.is_ok());
        std::thread::spawn(move || capture(out_r, err_r, &watch, &stop))
    };

    let mut tracer = spawned.tracer;
    let exit = match tracer.as_mut() {
        Ok(tracer) => tracer.run_until_exit(main, &stop, request.limits.processes),
        Err(_) => wait_for(main),
    };
    let elapsed = started.elapsed();
    let (leftovers, killed_after_exit) =
        wind_down(request, spawned.user.as_ref(), &mut tracer, &stop, tree, (subreaper, started));
    tree::reap_all();
    let (out, err, blocked) = reader.join().unwrap_or_default();
    let (witness, forbidden) = match tracer {
        Ok(tracer) => {
            let (witness, forbidden) = tracer.finish(&out.bytes, writes_watched(request, &spawned.sandbox));
            (Ok(witness), forbidden)
        }
        Err(untraced_because) => (Err(untraced_because), Vec::new()),
    };

    let stopped = stop.get();
    let report = Report {
        pid: main.as_raw(),
        supervisor: std::process::id() as i32,
        exit: if stopped.is_some() { Exit::Killed } else { exit },
        stopped,
        stdout_len: out.bytes.len(),
        stderr_len: err.bytes.len(),
        stdout_truncated: out.truncated,
        stderr_truncated: err.truncated,
        elapsed_ms: elapsed.as_secs_f64() * 1000.0,
        leftovers,
        killed_after_exit,
        witness,
        sandbox: spawned.sandbox,
        forbidden,
        blocked,
    };
    Ok((report, out.bytes, err.bytes))
}

/// After the program's exit: what it started and is still here (seen when
/// this supervisor is their subreaper), let go on a little, then killed,
/// with every process of the run's own user. Returns the leftovers and
/// those killed after the exit.
fn wind_down(
    request: &Request,
    user: Option<&sandbox::User>,
    tracer: &mut Result<Tracer, String>,
    stop: &StopFlag,
    tree: Tree,
    (subreaper, started): (bool, Instant),
) -> (Option<Vec<protocol::Leftover>>, Vec<protocol::Leftover>) {
    // The program is gone: whatever it started and is still here is left
    // over. Note it; let it go on a little, as it would in a terminal, so
    // that what it prints is seen; then kill what is still there, and reap.
    let leftovers = subreaper.then(|| tree.leftovers());
    let until = (Instant::now() + Duration::from_millis(protocol::AFTER_EXIT_MS))
        .min(started + Duration::from_millis(request.limits.timeout_ms));
    let killed_after_exit = if leftovers.as_ref().is_some_and(|l| l.iter().any(|p| p.running)) {
        match tracer.as_mut() {
            Ok(tracer) => tracer.run_on(until, stop, request.limits.processes),
            Err(_) => tree.run_on(until),
        }
        tree.leftovers().into_iter().filter(|p| p.running).collect()
    } else {
        Vec::new()
    };
    // A killed tracee stops once more on its way out (PTRACE_EVENT_EXIT), and
    // only this thread, its tracer, can let it go on: kill, then drain.
    tree.kill_once();
    if let Ok(tracer) = tracer.as_mut() {
        tracer.drain();
    }
    tree.kill_all();
    if let Some(user) = user {
        // Whatever of the run's own user is left, below us or not, until
        // none is: a process of a fork bomb still dying when the last of our
        // children is reaped would be re-parented away and outlive the run.
        // (A bomb of thousands of threads on a loaded machine can take
        // seconds to die; the loop ends as soon as none is left.)
        let end = Instant::now() + Duration::from_secs(USER_GONE_WITHIN_S);
        loop {
            user.kill_all();
            tree::reap_ready();
            if procfs::tasks_of(user.uid) == 0 || Instant::now() >= end {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    (leftovers, killed_after_exit)
}

/// Whether the sandbox's filter handed the witness every write to the
/// program's fd 1 (it does when its system-call filter is in force), or
/// why not.
fn writes_watched(request: &Request, sandbox: &SandboxStatus) -> Result<(), String> {
    let filtered = request.sandbox.as_ref().is_some_and(|p| p.layers.seccomp && !p.build)
        && sandbox.get(Guard::Syscalls).is_some_and(|p| p.level == Level::Full);
    if filtered {
        Ok(())
    } else {
        Err("the sandbox's system-call filter, which shows the witness each write, was not in force".into())
    }
}

/// The program, started.
struct Spawned {
    child: Child,
    /// Its tracer, or why it is not traced.
    tracer: Result<Tracer, String>,
    sandbox: SandboxStatus,
    /// The user it runs as, if not the grader's: its binary's copy lives
    /// as long as this (a spawn re-runs it).
    user: Option<sandbox::User>,
}

/// Starts the program in its sandbox, traced if asked and allowed;
/// otherwise untraced, with the reason tracing was not possible.
fn spawn(request: &Request, out: &OwnedFd, err: &OwnedFd, stdout: Option<procfs::FdInfo>) -> Result<Spawned> {
    // The program may not signal this supervisor either.
    let mut policy = request.sandbox.clone().map(|mut policy| {
        policy.protect_pids.push(std::process::id() as i32);
        policy
    });
    // Run by root, a student's program runs as a user of its own instead.
    let user = match policy.as_mut() {
        Some(policy) => sandbox::User::for_program(&request.program, &request.dir, policy)?,
        None => None,
    };
    let program = user.as_ref().map_or(request.program.as_path(), |u| u.program.as_path());
    let launch = Launch { request, policy: policy.as_ref(), user: user.as_ref(), program, out, err };
    let start = |traced: bool| launch.start(traced);
    let untraced = |why: String| -> Result<(Child, Result<Tracer, String>, SandboxStatus)> {
        let (child, sandbox) = start(false)?;
        Ok((child, Err(why), sandbox))
    };
    let (child, tracer, sandbox) = if request.trace && cfg!(target_os = "linux") {
        match start(true) {
            Ok((child, sandbox)) => {
                let main = Pid::from_raw(child.id() as i32);
                let attached = match stdout {
                    Some(stdout) => Tracer::attach(main, request.schedule, stdout, &request.limits),
                    None => Err(nix::errno::Errno::ENOENT),
                };
                match attached {
                    Ok(tracer) => (child, Ok(tracer), sandbox),
                    Err(e) => {
                        // Traced but not under control: do not let it run.
                        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
                        let _ = waitpid(Pid::from_raw(child.id() as i32), None);
                        untraced(format!("ptrace options could not be set: {e}"))?
                    }
                }
            }
            Err(e) if request.sandbox.as_ref().is_some_and(|p| p.required) => return Err(e),
            Err(e) => untraced(format!("ptrace is not permitted here: {e:#}"))?,
        }
    } else if request.trace {
        untraced(format!("ptrace is only used on Linux (this is {})", std::env::consts::OS))?
    } else {
        untraced("tracing was turned off".to_string())?
    };
    Ok(Spawned { child, tracer, sandbox, user })
}

/// How to start the program: in its sandbox, as its user, with its
/// output's pipes.
struct Launch<'a> {
    request: &'a Request,
    policy: Option<&'a protocol::Policy>,
    user: Option<&'a sandbox::User>,
    /// The binary to run (its user's copy, when it has a user of its own).
    program: &'a Path,
    out: &'a OwnedFd,
    err: &'a OwnedFd,
}

impl Launch<'_> {
    /// Starts the program, traced (stopped at its `exec` for its tracer)
    /// or not, and says what held of its sandbox.
    fn start(&self, traced: bool) -> Result<(Child, SandboxStatus)> {
        let (status_r, status_w) = cloexec_pipe()?;
        let tasks = self.task_limit(traced);
        let mut prepared = Prepared::new(self.policy, &self.request.limits, tasks, traced, status_w)?;
        let mut command = Command::new(self.program);
        if let Some(user) = self.user {
            // std drops root's supplementary groups, then sets the group and
            // the user, before the code below runs.
            command.uid(user.uid).gid(user.uid);
        }
        command
            .args(&self.request.args)
            .env_clear()
            .envs(self.request.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.request.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(self.out.try_clone()?))
            .stderr(Stdio::from(self.err.try_clone()?));
        // SAFETY: the supervisor is single-threaded when it forks (the reader
        // thread starts after), so the child may do what `enter` does; and
        // `prctl`, `ptrace` and the sandbox's calls are system calls made
        // before `exec`, as code between fork and exec must be.
        unsafe {
            command.pre_exec(move || {
                // A session of its own: no controlling terminal to type
                // into, and a process group of its own, so that one signal
                // reaches all of it that did not move away.
                nix::unistd::setsid()?;
                #[cfg(target_os = "linux")]
                {
                    // If the supervisor dies, the program goes with it.
                    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
                    if traced {
                        nix::sys::ptrace::traceme()?;
                    }
                }
                prepared.enter()
            });
        }
        let spawned = command.spawn();
        // The command holds the parent's copy of the status pipe's write
        // end: close it, so the read below ends.
        drop(command);
        let status = sandbox::status(self.policy, &read_status(status_r));
        match spawned {
            Ok(child) => Ok((child, status)),
            // The child refused to go on (it reports only an errno): say why.
            Err(_) if self.policy.is_some_and(|p| p.required) && !status.complete() => {
                bail!("{}", status.refusal())
            }
            Err(e) => Err(e).with_context(|| format!("starting {}", self.request.program.display())),
        }
    }

    /// The most processes and threads the program's user may have: all
    /// of its own user's are this run's (a little over what the witness
    /// allows, so that the witness, which names it, stops it first);
    /// otherwise, untraced (no witness to count them as they come), a
    /// backstop over what the user has.
    fn task_limit(&self, traced: bool) -> Option<u64> {
        match self.user {
            Some(_) => {
                Some(self.request.limits.processes.saturating_mul(THREADS_PER_PROCESS + 1).saturating_add(1)
                    as u64)
            }
            None => (!traced && cfg!(target_os = "linux")).then(|| {
                let mine = procfs::tasks_of(nix::unistd::getuid().as_raw());
                (mine + self.request.limits.processes.saturating_mul(4).min(1 << 20)) as u64
            }),
        }
    }
}

/// A pipe whose ends close on `exec`.
#[cfg(target_os = "linux")]
fn cloexec_pipe() -> nix::Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
}

/// A pipe whose ends close on `exec` (no `pipe2` here: the supervisor is
/// single-threaded, so no fork can come between the two calls).
#[cfg(not(target_os = "linux"))]
fn cloexec_pipe() -> nix::Result<(OwnedFd, OwnedFd)> {
    use nix::fcntl::{FcntlArg, FdFlag, fcntl};
    let (r, w) = nix::unistd::pipe()?;
    for fd in [&r, &w] {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
    }
    Ok((r, w))
}

/// Marks every file descriptor this supervisor inherited (beyond stdin,
/// stdout and stderr) close-on-exec, so the program inherits none of them:
/// a test harness or a build tool may pass down pipes (cargo's jobserver)
/// that are none of the program's business.
fn close_inherited_on_exec() {
    use nix::fcntl::{FcntlArg, FdFlag, fcntl};
    let fds: Vec<i32> = match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect(),
        Err(_) => (3..1024).collect(),
    };
    for fd in fds.into_iter().filter(|&fd| fd > 2) {
        // SAFETY: only the flags of a descriptor are changed; one that is
        // not open (or was the directory listing's, now closed) fails.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let _ = fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
    }
}

/// Reads what the child reported about its sandbox (nothing, if it failed
/// before `exec`).
fn read_status(status_r: OwnedFd) -> Vec<u8> {
    let mut status = Vec::new();
    let _ = std::fs::File::from(status_r).take(64).read_to_end(&mut status);
    status
}

/// Waits for the untraced program to end.
fn wait_for(main: Pid) -> Exit {
    loop {
        match waitpid(main, None) {
            Err(nix::errno::Errno::EINTR) => continue,
            Ok(status) => match Exit::from_wait(status) {
                Some(exit) => return exit,
                None => continue,
            },
            Err(_) => return Exit::Killed,
        }
    }
}

/// What the reader thread enforces besides the output cap.
struct Watch {
    cap: usize,
    deadline: Instant,
    memory: u64,
    /// The directories it may write in and the most they may hold, when
    /// watched.
    disk: Option<(Vec<PathBuf>, u64)>,
    /// Untraced, the witness cannot count processes as they are made: count
    /// them here (zombies too: they hold process ids).
    processes: Option<usize>,
}

impl Watch {
    fn new(request: &Request, started: Instant, traced: bool) -> Watch {
        let Limits { output_cap, timeout_ms, memory_mib, file_size_mib, disk, processes, .. } =
            request.limits;
        let writable = request.sandbox.iter().flat_map(|p| p.write.iter()).filter(|w| w.is_dir()).cloned();
        Watch {
            cap: output_cap,
            deadline: started + Duration::from_millis(timeout_ms),
            memory: memory_mib.saturating_mul(1 << 20),
            disk: disk.then(|| (writable.collect(), file_size_mib.saturating_mul(1 << 20))),
            processes: (!traced).then_some(processes),
        }
    }

    /// Why the run must stop now, if it must: the tree's memory, what it
    /// wrote (in its directories, and files it deleted but holds open), or
    /// (untraced) how many processes it has.
    fn over(&self) -> Option<Stopped> {
        let all = procfs::descendants();
        if self.processes.is_some_and(|cap| all.len() > cap.saturating_add(1)) {
            return Some(Stopped::TooManyProcesses);
        }
        let alive: Vec<procfs::ProcInfo> =
            all.into_iter().filter(|p| !matches!(p.state, 'Z' | 'X')).collect();
        if procfs::resident_bytes(&alive) > self.memory {
            return Some(Stopped::Memory);
        }
        let (dirs, most) = self.disk.as_ref()?;
        // A file may be as large as the limit: allow its last block.
        (disk_use(dirs, &procfs::unlinked_files(&alive), MAX_FILES) > most.saturating_add(1 << 20))
            .then_some(Stopped::Disk)
    }
}

/// Entries a run may create before its directory counts as full.
const MAX_FILES: usize = 4096;

/// Bytes of the files under `dirs` and of `also` (each file once, however
/// many names or descriptors it has; each its length or the blocks it
/// holds, whichever is more, and at least a block). More than `max_files`
/// entries, or a directory that cannot be read (made unreadable, or nested
/// past what a path can name), count as full (`u64::MAX`).
fn disk_use(dirs: &[PathBuf], also: &[std::fs::Metadata], max_files: usize) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut files = std::collections::HashSet::new();
    let mut total = 0u64;
    let mut count = |meta: &std::fs::Metadata| {
        if files.insert((meta.dev(), meta.ino())) {
            let held = meta.len().max(meta.blocks().saturating_mul(512)).max(4096);
            total = total.saturating_add(held);
        }
    };
    also.iter().for_each(&mut count);
    let mut seen = 0usize;
    let mut stack: Vec<PathBuf> = dirs.to_vec();
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(_) => return u64::MAX,
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > max_files {
                return u64::MAX;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            }
            count(&meta);
        }
    }
    total
}

/// One captured stream.
#[derive(Debug, Default)]
struct Stream {
    bytes: Vec<u8>,
    truncated: bool,
}

/// How often the reader thread looks at memory and disk.
const WATCH_EVERY: Duration = Duration::from_millis(50);

/// The reader thread: drains both pipes until they end, stopping the run at
/// the deadline (having read where each process was blocked: the clue to a
/// hang), when a stream passes the cap, or when the tree uses more memory
/// or disk than allowed.
/// How long the reader lets output gather before reading it.
const BATCH: Duration = Duration::from_millis(1);

fn capture(out: OwnedFd, err: OwnedFd, watch: &Watch, stop: &StopFlag) -> (Stream, Stream, Vec<Blocked>) {
    let mut blocked = Vec::new();
    let mut streams = [(Some(out), Stream::default()), (Some(err), Stream::default())];
    let mut drain_until: Option<Instant> = None;
    let mut next_watch = Instant::now() + WATCH_EVERY;
    let mut buf = vec![0u8; 64 * 1024];
    let stop_now = |why, drain_until: &mut Option<Instant>| {
        stop.stop(why);
        // Everything is dead now, so the pipes end at once.
        drain_until.get_or_insert(Instant::now() + Duration::from_millis(500));
    };
    while streams.iter().any(|(fd, _)| fd.is_some()) {
        let now = Instant::now();
        if drain_until.is_some_and(|end| now >= end) {
            break;
        }
        if drain_until.is_none() {
            if now >= watch.deadline {
                if stop.get().is_none() {
                    blocked = procfs::blocked(&procfs::descendants());
                }
                stop_now(Stopped::TimedOut, &mut drain_until);
            } else if now >= next_watch {
                next_watch = now + WATCH_EVERY;
                if let Some(why) = watch.over() {
                    stop_now(why, &mut drain_until);
                }
            }
        }
        let wait = drain_until
            .unwrap_or(watch.deadline.min(next_watch))
            .saturating_duration_since(Instant::now())
            .min(WATCH_EVERY);
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
        // Read in batches: a wake-up per line would cost each line of a
        // traced run (every write a stop at the witness) a third thread's
        // turn on the CPU; a pipe holds far more than a millisecond of it.
        if drain_until.is_none() && ready.iter().any(|&r| r) {
            std::thread::sleep(BATCH);
        }
        let open = streams.iter_mut().filter(|(fd, _)| fd.is_some());
        for ((fd, stream), ready) in open.zip(ready) {
            if !ready {
                continue;
            }
            match nix::unistd::read(fd.as_ref().expect("open"), &mut buf) {
                Ok(0) => *fd = None,
                Ok(n) => {
                    let room = watch.cap.saturating_sub(stream.bytes.len());
                    stream.bytes.extend_from_slice(&buf[..n.min(room)]);
                    if n > room {
                        stream.truncated = true;
                        *fd = None;
                        stop_now(Stopped::Flooded, &mut drain_until);
                    }
                }
                Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => {}
                Err(_) => *fd = None,
            }
        }
    }
    let [(_, out), (_, err)] = streams;
    (out, err, blocked)
}

#[cfg(target_os = "linux")]
fn become_subreaper() -> bool {
    nix::sys::prctl::set_child_subreaper(true).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn become_subreaper() -> bool {
    false
}
