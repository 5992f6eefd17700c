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
//! The tracer is the supervisor's main thread (ptrace requests must come from
//! the tracing thread), in a process of its own: `waitpid(-1)` in the grader's
//! test process would reap other tests' children.

use std::collections::HashMap;

use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::protocol::{Exit, ProcessRecord, Stopped, THREADS_PER_PROCESS, Witness};
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
}

#[cfg(target_os = "linux")]
mod imp {
    use nix::sys::ptrace::{self, Event, Options};
    use nix::sys::signal::Signal;

    use super::*;
    use crate::supervisor::{procfs, sandbox};

    impl Tracer {
        /// Takes control of `main`, which called `PTRACE_TRACEME` and is
        /// stopped at its `exec`.
        pub fn attach(main: Pid) -> nix::Result<Tracer> {
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
                | Options::PTRACE_O_EXITKILL;
            ptrace::setoptions(main, options)?;
            let mut tracer = Tracer {
                tasks: HashMap::new(),
                index: HashMap::new(),
                processes: Vec::new(),
                threads: 0,
                ended: 0,
                forbidden: Vec::new(),
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
                let status = match waitpid(None::<Pid>, Some(WaitPidFlag::__WALL)) {
                    Ok(status) => status,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => return Exit::Killed, // ECHILD: nothing left to wait for
                };
                if let Some(exit) = self.handle(status, stop, process_cap)
                    && status.pid() == Some(main)
                {
                    return exit;
                }
            }
        }

        /// Follows the remaining events (of processes being killed) until no
        /// traced task is left.
        pub fn drain(&mut self) {
            let stop = StopFlag::inert();
            let end = std::time::Instant::now() + std::time::Duration::from_secs(2);
            while !self.tasks.is_empty() && std::time::Instant::now() < end {
                match waitpid(None::<Pid>, Some(WaitPidFlag::__WALL | WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) => std::thread::sleep(std::time::Duration::from_millis(1)),
                    Ok(status) => {
                        self.handle(status, &stop, usize::MAX);
                    }
                    Err(nix::errno::Errno::EINTR) => {}
                    Err(_) => break,
                }
            }
        }

        /// Handles one event; returns the exit of a task that ended.
        fn handle(&mut self, status: WaitStatus, stop: &StopFlag, process_cap: usize) -> Option<Exit> {
            match status {
                WaitStatus::PtraceEvent(pid, _, event) => {
                    let new = ptrace::getevent(pid).map(|v| v as i32);
                    match (event, new) {
                        (e, Ok(child)) if e == Event::PTRACE_EVENT_FORK as i32 => {
                            self.created(pid, child, "fork")
                        }
                        (e, Ok(child)) if e == Event::PTRACE_EVENT_VFORK as i32 => {
                            self.created(pid, child, "vfork")
                        }
                        (e, Ok(child)) if e == Event::PTRACE_EVENT_CLONE as i32 => {
                            self.created(pid, child, "clone")
                        }
                        (e, _) if e == Event::PTRACE_EVENT_EXEC as i32 => self.executed(pid),
                        (e, _) if e == Event::PTRACE_EVENT_SECCOMP as i32 => {
                            // Stopped before a forbidden call: it must never
                            // be continued into it.
                            self.forbidden.push(describe_call(pid));
                            let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
                            stop.stop_once(Stopped::Forbidden);
                            return None;
                        }
                        _ => {}
                    }
                    if self.processes.len() > process_cap.saturating_add(1)
                        || self.threads as usize > process_cap.saturating_mul(THREADS_PER_PROCESS)
                    {
                        stop.stop_once(Stopped::TooManyProcesses);
                    }
                    let _ = ptrace::cont(pid, None);
                    None
                }
                WaitStatus::Stopped(pid, signal) => {
                    let task =
                        self.tasks.entry(pid.as_raw()).or_insert(Task { tgid: pid.as_raw(), started: false });
                    // A new task's first stop is the tracer's, not the program's.
                    let forward =
                        if signal == Signal::SIGSTOP && !task.started { None } else { Some(signal) };
                    task.started = true;
                    let _ = ptrace::cont(pid, forward);
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
                        let _ = ptrace::cont(pid, None);
                    }
                    None
                }
            }
        }

        /// `parent` created the task `child`: a process, or a thread of
        /// `parent`'s process.
        fn created(&mut self, parent: Pid, child: i32, how: &str) {
            let parent_tgid = self.tasks.get(&parent.as_raw()).map_or(parent.as_raw(), |t| t.tgid);
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
            }
        }

        fn executed(&mut self, pid: Pid) {
            if let Some(&i) = self.index.get(&pid.as_raw()) {
                self.processes[i].exec = procfs::exe_name(pid.as_raw());
            }
        }
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
        pub fn attach(_main: Pid) -> nix::Result<Tracer> {
            Err(nix::errno::Errno::ENOSYS)
        }

        pub fn run_until_exit(&mut self, _main: Pid, _stop: &StopFlag, _cap: usize) -> Exit {
            Exit::Killed
        }

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

    /// What was seen: the witness, and the forbidden calls tried.
    pub fn finish(self) -> (Witness, Vec<String>) {
        (Witness { processes: self.processes, threads: self.threads }, self.forbidden)
    }
}
