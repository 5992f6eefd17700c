//! The process tree below the supervisor: what is left of it, killing all
//! of it, reaping it; and the [`StopFlag`] by which the supervisor's two
//! threads stop a run for the first reason either finds.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::procfs::{ProcInfo, descendants};
use super::protocol::{Leftover, Stopped};

/// Everything below the supervisor, started by the program `main`.
#[derive(Debug, Clone, Copy)]
pub struct Tree {
    /// The program, and the process group it leads.
    pub main: Pid,
}

impl Tree {
    /// Every process below the supervisor except `main`: after `main`
    /// exits, these are what it left behind (re-parented to us, the
    /// subreaper).
    pub fn leftovers(&self) -> Vec<Leftover> {
        descendants()
            .into_iter()
            .filter(|p| p.pid != self.main.as_raw())
            .map(|p| Leftover { pid: p.pid, running: p.state != 'Z', name: p.name })
            .collect()
    }

    /// Untraced, after `main` exited: reaps what ends and waits until
    /// nothing is left running, or `until`.
    pub fn run_on(&self, until: Instant) {
        while !self.alive().is_empty() && Instant::now() < until {
            while let Ok(status) = waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG | all_children())) {
                if status == WaitStatus::StillAlive {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The processes still running (not zombies).
    pub fn alive(&self) -> Vec<ProcInfo> {
        // 'Z': a zombie, already dead; 'X': dying.
        descendants().into_iter().filter(|p| !matches!(p.state, 'Z' | 'X')).collect()
    }

    /// Kills everything below the supervisor, including processes that left
    /// the program's process group or session. Gives up after two seconds
    /// of a fork bomb outrunning it. Reaping is left to the main thread.
    pub fn kill_all(&self) {
        let end = Instant::now() + Duration::from_secs(2);
        while self.kill_once() > 0 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Stops, then kills, the program's process group and every process
    /// below the supervisor that has not ended yet; returns how many there
    /// were. Stopped first, all of them: a process being killed one at a
    /// time while its siblings fork would have them outrun the killing (a
    /// stopped process forks no more).
    pub fn kill_once(&self) -> usize {
        // The process group first: where `/proc` cannot be read (not
        // Linux), that is all there is to go on.
        let _ = killpg(self.main, Signal::SIGSTOP);
        let _ = killpg(self.main, Signal::SIGKILL);
        let alive = self.alive();
        for signal in [Signal::SIGSTOP, Signal::SIGKILL] {
            for p in &alive {
                let _ = kill(Pid::from_raw(p.pid), signal);
            }
        }
        alive.len()
    }
}

/// Reaps every child until none is left, for at most two seconds.
pub fn reap_all() {
    let end = Instant::now() + Duration::from_secs(2);
    while Instant::now() < end {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG | all_children())) {
            Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(1)),
            Ok(status) => let_go(status),
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break, // ECHILD: nothing left
        }
    }
}

/// A traced process that stopped on its way out (killed, it stops once more
/// at its exit) waits for its tracer, this process, to let it go: let it,
/// or it would die only once the tracer is gone, re-parented away.
fn let_go(status: WaitStatus) {
    #[cfg(target_os = "linux")]
    if let WaitStatus::Stopped(pid, _) | WaitStatus::PtraceEvent(pid, ..) = status {
        let _ = nix::sys::ptrace::cont(pid, None);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = status;
}

/// Reaps every child that has ended, without waiting for the others.
pub fn reap_ready() {
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG | all_children())) {
            Ok(WaitStatus::StillAlive) => break,
            Ok(status) => let_go(status),
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break, // ECHILD: none left
        }
    }
}

/// Wait for every kind of child (Linux: threads' clones too).
#[cfg(target_os = "linux")]
fn all_children() -> WaitPidFlag {
    WaitPidFlag::__WALL
}

#[cfg(not(target_os = "linux"))]
fn all_children() -> WaitPidFlag {
    WaitPidFlag::empty()
}

/// Shared by the supervisor's two threads: the first reason to stop the
/// run wins, and stopping kills the whole tree.
#[derive(Debug)]
pub struct StopFlag {
    why: AtomicU8,
    tree: Option<Tree>,
}

impl StopFlag {
    pub fn new(tree: Tree) -> StopFlag {
        StopFlag { why: AtomicU8::new(0), tree: Some(tree) }
    }

    /// A flag that records but kills nothing (the tracer's drain, when all
    /// is being killed already).
    pub fn inert() -> StopFlag {
        StopFlag { why: AtomicU8::new(0), tree: None }
    }

    /// Records why the run stops and kills the whole tree.
    pub fn stop(&self, why: Stopped) {
        self.record(why);
        if let Some(tree) = &self.tree {
            tree.kill_all();
        }
    }

    /// For the tracer: records why and kills what is alive once. (Killed
    /// tracees stop on their way out until the tracer lets them go on, so
    /// it must get back to its events rather than wait for them to end.)
    pub fn stop_once(&self, why: Stopped) {
        self.record(why);
        if let Some(tree) = &self.tree {
            tree.kill_once();
        }
    }

    fn record(&self, why: Stopped) {
        let code = Self::ALL.iter().position(|&s| s == why).expect("listed") as u8 + 1;
        let _ = self.why.compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
    }

    pub fn get(&self) -> Option<Stopped> {
        match self.why.load(Ordering::SeqCst) {
            0 => None,
            code => Self::ALL.get(usize::from(code) - 1).copied(),
        }
    }

    const ALL: [Stopped; 6] = [
        Stopped::TimedOut,
        Stopped::Flooded,
        Stopped::TooManyProcesses,
        Stopped::Memory,
        Stopped::Disk,
        Stopped::Forbidden,
    ];
}
