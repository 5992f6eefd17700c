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
//! The tracer is the supervisor's main thread (ptrace requests must come from
//! the tracing thread), in a process of its own: `waitpid(-1)` in the grader's
//! test process would reap other tests' children.

use std::collections::HashMap;

use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use serde_json::{Value, json};

use crate::sandbox::{Exit, StopFlag, Stopped};

/// A process the program created (or the program itself).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessRecord {
    pub pid: i32,
    /// The process that created it; `None` for the program itself.
    pub parent: Option<i32>,
    /// "fork", "vfork" or "clone" (how it was created), "main" for the program.
    pub how: String,
    /// The executable it ran last, if it called `exec`.
    pub exec: Option<String>,
    pub exit: Option<Exit>,
    /// Position in the order in which processes ended (0 first).
    pub ended: Option<u32>,
    /// Threads it started.
    pub threads: u32,
}

/// Everything the witness saw in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Witness {
    /// The program first, then every process in the order created.
    pub processes: Vec<ProcessRecord>,
    pub threads: u32,
}

impl Witness {
    pub fn main(&self) -> Option<&ProcessRecord> {
        self.processes.first()
    }

    /// Every process the program created, directly or not.
    pub fn children(&self) -> &[ProcessRecord] {
        self.processes.get(1..).unwrap_or_default()
    }

    pub fn to_json(&self) -> Value {
        let processes: Vec<Value> = self
            .processes
            .iter()
            .map(|p| {
                json!({
                    "pid": p.pid, "parent": p.parent, "how": p.how, "exec": p.exec,
                    "exit": p.exit.as_ref().map(Exit::to_json), "ended": p.ended, "threads": p.threads,
                })
            })
            .collect();
        json!({"processes": processes, "threads": self.threads})
    }

    pub fn from_json(value: &Value) -> Option<Witness> {
        let processes = value["processes"]
            .as_array()?
            .iter()
            .map(|p| ProcessRecord {
                pid: p["pid"].as_i64().unwrap_or(0) as i32,
                parent: p["parent"].as_i64().map(|v| v as i32),
                how: p["how"].as_str().unwrap_or("?").to_string(),
                exec: p["exec"].as_str().map(str::to_string),
                exit: Exit::from_json(&p["exit"]),
                ended: p["ended"].as_u64().map(|v| v as u32),
                threads: p["threads"].as_u64().unwrap_or(0) as u32,
            })
            .collect();
        Some(Witness { processes, threads: value["threads"].as_u64().unwrap_or(0) as u32 })
    }

    /// The process tree as a student reads it:
    ///
    /// ```text
    /// q6_four_procs 4101 (exit 0): 4 processes, 0 threads
    /// ├─ 4102 fork (exit 0)
    /// └─ 4105 fork (exit 0)
    /// ```
    pub fn draw(&self, name: &str) -> String {
        let Some(main) = self.main() else {
            return String::new();
        };
        let mut out = format!(
            "{name} {} ({}): {}, {}",
            main.pid,
            describe_exit(main.exit.as_ref()),
            count(self.children().len(), "process", "processes"),
            count(self.threads as usize, "thread", "threads"),
        );
        self.draw_children(main.pid, "", &mut out);
        out
    }

    fn draw_children(&self, parent: i32, indent: &str, out: &mut String) {
        let kids: Vec<&ProcessRecord> = self.children().iter().filter(|p| p.parent == Some(parent)).collect();
        for (i, kid) in kids.iter().enumerate() {
            let last = i + 1 == kids.len();
            let exec = kid.exec.as_deref().map(|e| format!(", exec {e}")).unwrap_or_default();
            let threads = if kid.threads > 0 { format!(", {} threads", kid.threads) } else { String::new() };
            out.push_str(&format!(
                "\n{indent}{} {} {}{exec}{threads} ({})",
                if last { "└─" } else { "├─" },
                kid.pid,
                kid.how,
                describe_exit(kid.exit.as_ref())
            ));
            self.draw_children(kid.pid, &format!("{indent}{}", if last { "   " } else { "│  " }), out);
        }
    }
}

/// "1 process", "4 processes".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn describe_exit(exit: Option<&Exit>) -> String {
    match exit {
        Some(Exit::Code(code)) => format!("exit {code}"),
        Some(Exit::Signal(signal)) => format!("killed by {signal}"),
        Some(Exit::Killed) | None => "killed by the grader".to_string(),
    }
}

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
}

#[cfg(target_os = "linux")]
mod imp {
    use nix::sys::ptrace::{self, Event, Options};
    use nix::sys::signal::Signal;

    use super::*;

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
                | Options::PTRACE_O_EXITKILL;
            ptrace::setoptions(main, options)?;
            let mut tracer = Tracer {
                tasks: HashMap::new(),
                index: HashMap::new(),
                processes: Vec::new(),
                threads: 0,
                ended: 0,
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
            let stop = StopFlag::default();
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
                        _ => {}
                    }
                    if self.processes.len() > process_cap.saturating_add(1) {
                        stop.stop(Stopped::TooManyProcesses);
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
                    let exit = Exit::from_status(status);
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
            let is_thread = how == "clone" && tgid_of(child) == Some(parent_tgid);
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
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
            let name = exe.and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
            if let Some(&i) = self.index.get(&pid.as_raw()) {
                self.processes[i].exec = name;
            }
        }
    }

    /// The process (thread group) a task belongs to.
    fn tgid_of(task: i32) -> Option<i32> {
        let status = std::fs::read_to_string(format!("/proc/{task}/status")).ok()?;
        status.lines().find_map(|l| l.strip_prefix("Tgid:")).and_then(|v| v.trim().parse().ok())
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

    pub fn into_witness(self) -> Witness {
        Witness { processes: self.processes, threads: self.threads }
    }
}
