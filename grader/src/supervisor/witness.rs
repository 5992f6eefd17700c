//! The process witness: what the program really did, seen through `ptrace`.
//!
//! Output alone cannot tell four processes from four threads printing their
//! thread ids where a pid belongs, or a pool from a process per number. The
//! supervisor therefore traces the program with `PTRACE_O_TRACEFORK |
//! TRACEVFORK | TRACECLONE | TRACEEXEC | TRACEEXIT | EXITKILL`: every process
//! and thread created (a `std::process::Command` spawn, made with
//! `clone(CLONE_VM | CLONE_VFORK)`, is a process too), who created it, what it
//! executed, and in which order each ended.
//!
//! It also hears `PTRACE_EVENT_SECCOMP`: the [sandbox](super::sandbox)'s
//! filter hands every forbidden system call to the tracer, which names it
//! and stops the run before the call is made.
//!
//! Under [`Schedule::ChildrenLate`] it also holds each child of the main
//! process stopped, before its first instruction, until the main process
//! waits or exits: a parent that prints its last line before waiting, or
//! never waits, then shows it in every run instead of one run in three.
//!
//! The tracer is the supervisor's main thread (ptrace requests must come from
//! the tracing thread), in a process of its own: `waitpid(-1)` in the grader's
//! test process would reap other tests' children.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::authorship::{Sink, Written};
use super::procfs;
use super::protocol::{
    Authors, Exit, HOLD_AT_MOST_MS, Limits, ProcessRecord, Schedule, Stopped, THREADS_PER_PROCESS, Witness,
};
use super::tree::StopFlag;

/// A task (process or thread) being traced.
#[derive(Debug)]
struct Task {
    /// The process it belongs to.
    tgid: i32,
    /// Its initial SIGSTOP (every auto-attached task starts with one) has
    /// been seen and suppressed.
    started: bool,
}

/// The children held back under [`Schedule::ChildrenLate`].
#[derive(Debug)]
struct Hold {
    /// The program's main process, whose children are held.
    main: i32,
    /// Children stopped at their first stop, not yet let go.
    held: Vec<i32>,
    /// When the first of them was held.
    since: Option<Instant>,
    /// Since when the main process has been seen waiting.
    waiting_since: Option<Instant>,
    /// How many were held in all.
    count: u32,
    /// The main process has exited: nothing more is held.
    over: bool,
}

/// How long the main process must be seen waiting before its children go:
/// one look could catch it in a page fault.
const WAITING_FOR: Duration = Duration::from_millis(2);

/// The tracer. Linux only; elsewhere [`Tracer::attach`] fails and the run
/// goes untraced.
#[derive(Debug)]
pub struct Tracer {
    tasks: HashMap<i32, Task>,
    /// Index into `processes` by pid.
    index: HashMap<i32, usize>,
    processes: Vec<ProcessRecord>,
    threads: u32,
    ended: u32,
    /// Forbidden system calls seen, described.
    forbidden: Vec<String>,
    /// Children held back, under [`Schedule::ChildrenLate`].
    hold: Option<Hold>,
    /// Events taken from the kernel, not yet handled (see `pending`).
    queue: std::collections::VecDeque<WaitStatus>,
    /// The processes that hold a copy of fd 1: watched call by call.
    copies: std::collections::HashSet<i32>,
    /// The writes to fd 1 seen, and where the run's stdout goes.
    writes: Writes,
}

/// The writes to the program's fd 1 the sandbox's filter handed over.
#[derive(Debug)]
struct Writes {
    /// The run's stdout, as `/proc/<pid>/fdinfo/` shows it.
    stdout: procfs::FdInfo,
    /// Who held each pipe's read end when it was first written to.
    readers: HashMap<u64, Vec<i32>>,
    seen: Vec<Written>,
    /// Bytes kept so far, and the most kept: past it, a write is noted
    /// without its bytes.
    kept: usize,
    keep_at_most: usize,
    /// Writes to the run's stdout so far, and the most allowed.
    to_stdout: usize,
    writes_at_most: usize,
}

impl Writes {
    /// Whether `file` is a pipe: on the one `pipefs` mount, as stdout is.
    fn is_pipe(&self, file: &procfs::FdInfo) -> bool {
        file.mnt_id == self.stdout.mnt_id
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use nix::sys::ptrace::{self, Event, Options};
    use nix::sys::signal::Signal;

    use super::*;
    use crate::supervisor::sandbox;

    impl Tracer {
        /// Takes control of `main`, which called `PTRACE_TRACEME` and is
        /// stopped at its `exec`. `stdout` is the run's stdout, as
        /// `/proc/<pid>/fdinfo/` shows it; of the bytes written to it, and to
        /// other pipes by the processes whose fd 1 they are, at most twice
        /// the output cap of `limits` are kept, and a run that makes more
        /// writes to it than [`Limits::stdout_writes`] is stopped.
        pub fn attach(
            main: Pid,
            schedule: Schedule,
            stdout: procfs::FdInfo,
            limits: &Limits,
        ) -> nix::Result<Tracer> {
            match waitpid(main, Some(WaitPidFlag::__WALL))? {
                WaitStatus::Stopped(_, Signal::SIGTRAP) => {}
                _ => return Err(nix::errno::Errno::ESRCH),
            }
            let options = Options::PTRACE_O_TRACEFORK
                | Options::PTRACE_O_TRACEVFORK
                | Options::PTRACE_O_TRACECLONE
                | Options::PTRACE_O_TRACEEXEC
                | Options::PTRACE_O_TRACEEXIT
                | Options::PTRACE_O_TRACESECCOMP
                | Options::PTRACE_O_TRACESYSGOOD
                | Options::PTRACE_O_EXITKILL;
            ptrace::setoptions(main, options)?;
            let mut tracer = Tracer {
                tasks: HashMap::new(),
                index: HashMap::new(),
                processes: Vec::new(),
                threads: 0,
                ended: 0,
                forbidden: Vec::new(),
                hold: (schedule == Schedule::ChildrenLate).then(|| Hold {
                    main: main.as_raw(),
                    held: Vec::new(),
                    since: None,
                    waiting_since: None,
                    count: 0,
                    over: false,
                }),
                queue: std::collections::VecDeque::new(),
                copies: std::collections::HashSet::new(),
                writes: Writes {
                    stdout,
                    readers: HashMap::new(),
                    seen: Vec::new(),
                    kept: 0,
                    keep_at_most: limits.output_cap.saturating_mul(2),
                    to_stdout: 0,
                    writes_at_most: limits.stdout_writes(),
                },
            };
            tracer.tasks.insert(main.as_raw(), Task { tgid: main.as_raw(), started: true });
            tracer.add_process(main.as_raw(), None, "main");
            ptrace::cont(main, None)?;
            Ok(tracer)
        }

        /// Follows every event until `main` has exited, and returns how it
        /// ended. Stops the run if the program creates more than
        /// `process_cap` processes.
        pub fn run_until_exit(&mut self, main: Pid, stop: &StopFlag, process_cap: usize) -> Exit {
            loop {
                // While children are held, look at the main process between
                // events rather than block until the next one.
                let holding = self.hold.as_ref().is_some_and(|h| !h.held.is_empty());
                let flags =
                    if holding { WaitPidFlag::__WALL | WaitPidFlag::WNOHANG } else { WaitPidFlag::__WALL };
                let status = match waitpid(None::<Pid>, Some(flags)) {
                    Ok(WaitStatus::StillAlive) => {
                        self.release_if_waiting();
                        std::thread::sleep(Duration::from_micros(200));
                        continue;
                    }
                    Ok(status) => status,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => return Exit::Killed, // ECHILD: nothing left to wait for
                };
                if !ends(status, main) {
                    self.queue.extend(pending(main));
                }
                let mut next = Some(status);
                while let Some(status) = next {
                    if let Some(exit) = self.handle(status, stop, process_cap)
                        && status.pid() == Some(main)
                    {
                        return exit;
                    }
                    next = self.queue.pop_front();
                }
            }
        }

        /// After `main` exited: lets the held children go, and follows what
        /// is left until it has all ended or `until`.
        pub fn run_on(&mut self, until: Instant, stop: &StopFlag, process_cap: usize) {
            self.release_all();
            // The main process is gone, and its pid may be another's soon:
            // hold nothing more.
            if let Some(hold) = self.hold.as_mut() {
                hold.over = true;
            }
            while let Some(status) = self.queue.pop_front() {
                self.handle(status, stop, process_cap);
            }
            while !self.tasks.is_empty() && Instant::now() < until {
                match waitpid(None::<Pid>, Some(WaitPidFlag::__WALL | WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_micros(500)),
                    Ok(status) => {
                        self.handle(status, stop, process_cap);
                    }
                    Err(nix::errno::Errno::EINTR) => {}
                    Err(_) => break,
                }
            }
        }

        /// Follows the remaining events (of processes being killed) until no
        /// traced task is left.
        pub fn drain(&mut self) {
            self.release_all();
            let stop = StopFlag::inert();
            while let Some(status) = self.queue.pop_front() {
                self.handle(status, &stop, usize::MAX);
            }
            let end = Instant::now() + Duration::from_secs(2);
            while !self.tasks.is_empty() && Instant::now() < end {
                match waitpid(None::<Pid>, Some(WaitPidFlag::__WALL | WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(1)),
                    Ok(status) => {
                        self.handle(status, &stop, usize::MAX);
                    }
                    Err(nix::errno::Errno::EINTR) => {}
                    Err(_) => break,
                }
            }
        }

        /// Lets the held children go once the main process waits (seen
        /// for [`WAITING_FOR`]), or once they have been held for
        /// [`HOLD_AT_MOST_MS`].
        fn release_if_waiting(&mut self) {
            let Some(hold) = self.hold.as_mut() else { return };
            let now = Instant::now();
            if procfs::waiting(hold.main) {
                hold.waiting_since.get_or_insert(now);
            } else {
                hold.waiting_since = None;
            }
            let waited = hold.waiting_since.is_some_and(|since| now - since >= WAITING_FOR);
            let too_long =
                hold.since.is_some_and(|since| now - since >= Duration::from_millis(HOLD_AT_MOST_MS));
            if waited || too_long {
                self.release_all();
            }
        }

        /// Lets every held child go.
        fn release_all(&mut self) {
            let Some(hold) = self.hold.as_mut() else { return };
            let held: Vec<i32> = hold.held.drain(..).collect();
            hold.since = None;
            hold.waiting_since = None;
            for pid in held {
                self.resume(Pid::from_raw(pid), None);
            }
        }

        /// Under the hold, a new child process of the main process is caught
        /// at its first stop before its parent goes on: a parent let go
        /// first could send it SIGCONT, which cancels the SIGSTOP a new
        /// tracee starts with, and it would never stop to be held.
        fn catch_first_stop(&mut self, parent: Pid, child: i32, stop: &StopFlag, process_cap: usize) {
            let parent_tgid = self.tgid(parent);
            let holding = self.hold.as_ref().is_some_and(|h| !h.over && h.main == parent_tgid);
            let process = self.tasks.get(&child).is_some_and(|t| t.tgid == child && !t.started);
            if !holding || !process {
                return;
            }
            // Already taken, with the other events waiting.
            if let Some(at) = self.queue.iter().position(|s| s.pid() == Some(Pid::from_raw(child))) {
                let status = self.queue.remove(at).expect("found");
                self.handle(status, stop, process_cap);
                return;
            }
            loop {
                match waitpid(Pid::from_raw(child), Some(WaitPidFlag::__WALL)) {
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => return,
                    Ok(status) => {
                        self.handle(status, stop, process_cap);
                        return;
                    }
                }
            }
        }

        /// Whether `pid`, at its first stop, is a child of the main process
        /// to hold back (and holds it).
        fn held_back(&mut self, pid: Pid) -> bool {
            let Some(hold) = self.hold.as_mut().filter(|h| !h.over) else { return false };
            let is_child = procfs::tgid_of(pid.as_raw()) == Some(pid.as_raw())
                && procfs::parent_of(pid.as_raw()) == Some(hold.main);
            if !is_child {
                return false;
            }
            hold.held.push(pid.as_raw());
            hold.since.get_or_insert_with(Instant::now);
            hold.count += 1;
            true
        }

        /// Handles one event; returns the exit of a task that ended.
        fn handle(&mut self, status: WaitStatus, stop: &StopFlag, process_cap: usize) -> Option<Exit> {
            match status {
                // The commonest stop, a write to fd 1, first: it comes once
                // a line.
                WaitStatus::PtraceEvent(pid, _, event) if event == Event::PTRACE_EVENT_SECCOMP as i32 => {
                    self.at_filter(pid, stop);
                    None
                }
                WaitStatus::PtraceSyscall(pid) => {
                    self.at_call(pid, stop);
                    None
                }
                WaitStatus::PtraceEvent(pid, _, event) => {
                    self.at_event(pid, event, stop, process_cap);
                    None
                }
                WaitStatus::Stopped(pid, signal) => {
                    let task =
                        self.tasks.entry(pid.as_raw()).or_insert(Task { tgid: pid.as_raw(), started: false });
                    // A new task's first stop is the tracer's, not the program's.
                    let first = signal == Signal::SIGSTOP && !task.started;
                    task.started = true;
                    if first && self.held_back(pid) {
                        return None;
                    }
                    self.resume(pid, (!first).then_some(signal));
                    None
                }
                WaitStatus::Exited(pid, _) | WaitStatus::Signaled(pid, _, _) => {
                    let exit = Exit::from_wait(status);
                    if let Some(task) = self.tasks.remove(&pid.as_raw())
                        && task.tgid == pid.as_raw()
                        && let Some(&i) = self.index.get(&pid.as_raw())
                    {
                        self.processes[i].exit = exit.clone();
                        self.processes[i].ended = Some(self.ended);
                        self.ended += 1;
                    }
                    exit
                }
                _ => {
                    if let Some(pid) = status.pid() {
                        self.resume(pid, None);
                    }
                    None
                }
            }
        }

        /// `task` stopped at one of the filter's rules: a write to fd 1, a
        /// copy of it, or a forbidden call (which it must never be let into).
        fn at_filter(&mut self, task: Pid, stop: &StopFlag) {
            match seccomp_call(task) {
                Some((sandbox::TRACE_WRITE, number, args)) => self.wrote(task, number, args, stop),
                Some((sandbox::TRACE_COPY, _, _)) => {
                    let tgid = self.tgid(task);
                    self.copies.insert(tgid);
                }
                _ => {
                    self.forbidden.push(describe_call(task));
                    let _ = nix::sys::signal::kill(task, Signal::SIGKILL);
                    stop.stop_once(Stopped::Forbidden);
                    return;
                }
            }
            self.resume(task, None);
        }

        /// A process that holds a copy of fd 1 stops at every call: a write
        /// through the copy is seen at its entry. (One to fd 1 itself stops
        /// at the filter next.)
        fn at_call(&mut self, task: Pid, stop: &StopFlag) {
            if let Ok(info) = ptrace::syscall_info(task)
                && info.op == nix::libc::PTRACE_SYSCALL_INFO_ENTRY
            {
                // SAFETY: `op` says the kernel filled in `entry`.
                let entry = unsafe { info.u.entry };
                let (number, args) = (entry.nr as i64, entry.args);
                if writes_to(number, &args).is_some_and(|fd| fd != 1) {
                    self.wrote(task, number, args, stop);
                }
            }
            self.resume(task, None);
        }

        /// A process or thread created, or a program executed.
        fn at_event(&mut self, pid: Pid, event: i32, stop: &StopFlag, process_cap: usize) {
            let new = ptrace::getevent(pid).map(|v| v as i32);
            match (event, new) {
                (e, Ok(child)) if e == Event::PTRACE_EVENT_FORK as i32 => self.created(pid, child, "fork"),
                (e, Ok(child)) if e == Event::PTRACE_EVENT_VFORK as i32 => self.created(pid, child, "vfork"),
                (e, Ok(child)) if e == Event::PTRACE_EVENT_CLONE as i32 => self.created(pid, child, "clone"),
                (e, _) if e == Event::PTRACE_EVENT_EXEC as i32 => self.executed(pid),
                _ => {}
            }
            let creates = [Event::PTRACE_EVENT_FORK, Event::PTRACE_EVENT_VFORK, Event::PTRACE_EVENT_CLONE]
                .iter()
                .any(|&e| e as i32 == event);
            if let Ok(child) = new
                && creates
            {
                self.catch_first_stop(pid, child, stop, process_cap);
            }
            if self.processes.len() > process_cap.saturating_add(1)
                || self.threads as usize > process_cap.saturating_mul(THREADS_PER_PROCESS)
            {
                stop.stop_once(Stopped::TooManyProcesses);
            }
            self.resume(pid, None);
        }

        /// `parent` created the task `child`: a process, or a thread of
        /// `parent`'s process.
        fn created(&mut self, parent: Pid, child: i32, how: &str) {
            let parent_tgid = self.tgid(parent);
            let is_thread = how == "clone" && procfs::tgid_of(child) == Some(parent_tgid);
            let tgid = if is_thread { parent_tgid } else { child };
            let task = self.tasks.entry(child).or_insert(Task { tgid, started: false });
            task.tgid = tgid;
            if is_thread {
                self.threads += 1;
                if let Some(&i) = self.index.get(&parent_tgid) {
                    self.processes[i].threads += 1;
                }
            } else {
                self.add_process(child, Some(parent_tgid), how);
                // It inherits the copies of fd 1 its parent holds.
                if self.copies.contains(&parent_tgid) {
                    self.copies.insert(child);
                }
            }
        }

        /// Lets `task` go on: call by call if its process holds a copy of
        /// fd 1, to its next event otherwise.
        fn resume(&self, task: Pid, signal: Option<Signal>) {
            let _ = if self.copies.contains(&self.tgid(task)) {
                ptrace::syscall(task, signal)
            } else {
                ptrace::cont(task, signal)
            };
        }

        /// The process `task` belongs to.
        fn tgid(&self, task: Pid) -> i32 {
            self.tasks.get(&task.as_raw()).map_or(task.as_raw(), |t| t.tgid)
        }

        /// `task` is about to make the write-like call `number` (`args`):
        /// notes who writes, where to, and what; stops a flood of writes.
        fn wrote(&mut self, task: Pid, number: i64, args: [u64; 6], stop: &StopFlag) {
            use nix::libc;
            // Each write costs a stop here: a flood of short lines is
            // stopped by their number, long before their bytes fill the
            // cap, and as surely whatever the machine's pace.
            if self.writes.to_stdout > self.writes.writes_at_most {
                stop.stop_once(Stopped::Flooded);
            }
            let Some(fd) = writes_to(number, &args) else { return };

            // A descriptor not open for writing (an `O_PATH` handle on the
            // very pipe, say) writes nothing: nothing to note.
            let Some(file) = procfs::fd_info(task.as_raw(), fd).filter(procfs::FdInfo::writable) else {
                return;
            };
            let to_stdout = file.same_file(&self.writes.stdout);
            self.writes.to_stdout += usize::from(to_stdout);
            // Elsewhere, only pipes: a line read from one may be relayed.
            if !to_stdout && !self.writes.is_pipe(&file) {
                return;
            }
            let room = self.writes.keep_at_most.saturating_sub(self.writes.kept);
            let (bytes, from_pipe) = match number {
                libc::SYS_write => (procfs::read_memory(task.as_raw(), &[(args[1], args[2])], room), None),
                libc::SYS_writev => (procfs::read_iovecs(task.as_raw(), args[1], args[2], room), None),
                // Writes at a position fail on a pipe.
                libc::SYS_pwrite64 | libc::SYS_pwritev | libc::SYS_pwritev2 => return,
                // Moved from another pipe: its writers' lines.
                libc::SYS_splice | libc::SYS_tee => {
                    let from = procfs::fd_info(task.as_raw(), args[0] as i32);
                    (None, from.filter(|f| self.writes.is_pipe(f)).map(|f| f.ino))
                }
                _ => (None, None),
            };
            self.writes.kept += bytes.as_ref().map_or(0, Vec::len);
            let process = self.tgid(task);
            let sink = if to_stdout {
                Sink::Stdout
            } else {
                // Looked for once a pipe, at its first write.
                let processes = &self.processes;
                let readers = self.writes.readers.entry(file.ino).or_insert_with(|| {
                    procfs::readers(processes.iter().filter(|p| p.exit.is_none()).map(|p| p.pid), &file)
                });
                Sink::Pipe { pipe: file.ino, readers: readers.clone() }
            };
            self.writes.seen.push(Written { process, thread: task.as_raw(), sink, bytes, from_pipe });
        }

        fn executed(&mut self, pid: Pid) {
            if let Some(&i) = self.index.get(&pid.as_raw()) {
                self.processes[i].exec = procfs::exe_name(pid.as_raw());
            }
        }
    }

    /// Every other event already waiting, each task's once. `waitpid(-1)`
    /// reports the newest tracee first whenever it has an event: taken one
    /// at a time, a busy newer process (a worker stopping at each line it
    /// writes) would keep an older one stopped, unseen, for as long as it
    /// stays busy, and the tracer, not the program, would decide which
    /// worker works. Taken all at once, every stopped task goes on in turn.
    /// Up to the end of `main`, and no further: after it, a reaped child
    /// of it is one it never waited for, which must still be seen left
    /// behind.
    fn pending(main: Pid) -> Vec<WaitStatus> {
        let mut pending = Vec::new();
        loop {
            match waitpid(None::<Pid>, Some(WaitPidFlag::__WALL | WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return pending,
                Ok(status) => {
                    pending.push(status);
                    if ends(status, main) {
                        return pending;
                    }
                }
            }
        }
    }

    /// Whether `status` is the end of `main`.
    fn ends(status: WaitStatus, main: Pid) -> bool {
        matches!(status, WaitStatus::Exited(pid, _) | WaitStatus::Signaled(pid, _, _) if pid == main)
    }

    /// The data of the filter's rule `pid` stopped at, and the call.
    fn seccomp_call(pid: Pid) -> Option<(u16, i64, [u64; 6])> {
        let info = ptrace::syscall_info(pid).ok()?;
        if info.op != nix::libc::PTRACE_SYSCALL_INFO_SECCOMP {
            return None;
        }
        // SAFETY: `op` says the kernel filled in the `seccomp` member.
        let call = unsafe { info.u.seccomp };
        Some((call.ret_data as u16, call.nr as i64, call.args))
    }

    /// The descriptor the call `number` writes to, if it is one that writes.
    fn writes_to(number: i64, args: &[u64; 6]) -> Option<i32> {
        use nix::libc;
        let fd = match number {
            libc::SYS_write
            | libc::SYS_writev
            | libc::SYS_pwrite64
            | libc::SYS_pwritev
            | libc::SYS_pwritev2
            | libc::SYS_sendfile
            | libc::SYS_vmsplice => args[0],
            libc::SYS_tee => args[1],
            libc::SYS_splice | libc::SYS_copy_file_range => args[2],
            _ => return None,
        };
        Some(fd as i32)
    }

    /// The forbidden call `pid` is stopped at, in words: "clone(flags
    /// 0x800011), to create a process the witness cannot see, or a
    /// namespace".
    fn describe_call(pid: Pid) -> String {
        let Ok(info) = ptrace::syscall_info(pid) else {
            return "a system call the sandbox forbids".to_string();
        };
        if info.op != nix::libc::PTRACE_SYSCALL_INFO_SECCOMP {
            return "a system call the sandbox forbids".to_string();
        }
        // SAFETY: `op` says the kernel filled in the `seccomp` member.
        let call = unsafe { info.u.seccomp };
        match sandbox::forbidden_call(call.nr as i64) {
            Some(f) => format!("{}({:#x}, …), {}", f.name, call.args[0], f.why),
            None => format!("system call {}, which the sandbox forbids", call.nr),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::*;

    impl Tracer {
        pub fn attach(
            _main: Pid,
            _schedule: Schedule,
            _stdout: procfs::FdInfo,
            _limits: &Limits,
        ) -> nix::Result<Tracer> {
            Err(nix::errno::Errno::ENOSYS)
        }

        pub fn run_until_exit(&mut self, _main: Pid, _stop: &StopFlag, _cap: usize) -> Exit {
            Exit::Killed
        }

        pub fn run_on(&mut self, _until: Instant, _stop: &StopFlag, _cap: usize) {}

        pub fn drain(&mut self) {}
    }
}

impl Tracer {
    fn add_process(&mut self, pid: i32, parent: Option<i32>, how: &str) {
        self.index.insert(pid, self.processes.len());
        self.processes.push(ProcessRecord {
            pid,
            parent,
            how: how.to_string(),
            exec: None,
            exit: None,
            ended: None,
            threads: 0,
        });
    }

    /// What was seen: the witness, and the forbidden calls tried. `stdout`
    /// is the output captured, and `watched` whether the filter handed
    /// over every write to fd 1 (or why not).
    pub fn finish(self, stdout: &[u8], watched: Result<(), String>) -> (Witness, Vec<String>) {
        let held = self.hold.map_or(0, |h| h.count);
        let authors: Result<Authors, String> =
            watched.map(|()| super::authorship::attribute(stdout, &self.writes.seen));
        (Witness { processes: self.processes, threads: self.threads, held, authors }, self.forbidden)
    }
}
