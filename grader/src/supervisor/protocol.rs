//! The one protocol between the grader and `grader supervise`: a
//! [`Request`] goes in on the supervisor's stdin as JSON; a [`Report`] comes
//! back on its stdout as one line of JSON, followed by the program's captured
//! stdout and stderr bytes.
//!
//! ```
//! use grader::supervisor::protocol::{Exit, Report};
//! assert_eq!(Exit::Code(0).short(), "exit 0");
//! // Both sides use these types: a renamed or missing field is an error.
//! assert!(serde_json::from_str::<Report>(r#"{"pid": 1}"#).is_err());
//! ```
//!
//! Both sides use these types, derived with serde, without defaults and
//! with unknown fields refused: a field renamed on one side is an error on
//! the other, never a silent `false`. How a program ended is worded here
//! too ([`Exit`], [`Stopped`]), once for every message that says it.

use std::path::PathBuf;

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

/// One program to run (a student's, or cargo building one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Its working directory.
    pub dir: PathBuf,
    /// Its whole environment: nothing of the grader's is passed on.
    pub env: Vec<(String, String)>,
    pub limits: Limits,
    /// Watch it with the process witness (ptrace), where the system allows.
    pub trace: bool,
    /// What it may touch; `None` only for the grader's own trusted steps
    /// (building the template's dependencies).
    pub sandbox: Option<Policy>,
    /// How the witness lets the program's children run.
    pub schedule: Schedule,
}

/// How the witness schedules the processes the program creates. A race
/// between a parent and its children (a last line printed before the
/// children's, a child still running when the parent exits) shows or not as
/// the scheduler decides; held back, it shows every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Schedule {
    /// As the kernel schedules them.
    AsItComes,
    /// Each process the program's main process creates is held, stopped
    /// before its first instruction, until the main process waits (every
    /// thread of it blocked, none in a sleep or a call with a timeout) or
    /// exits, or for
    /// [`HOLD_AT_MOST_MS`] at most. Needs the witness (ptrace); untraced, it
    /// is [`Schedule::AsItComes`].
    ChildrenLate,
}

/// The longest the witness holds a child back (a parent that waits by
/// polling never blocks).
pub const HOLD_AT_MOST_MS: u64 = 1_000;

/// How long the processes a program left behind may go on after it exited
/// (within its time limit) before the supervisor kills them: what they print
/// meanwhile is captured, as a terminal would show it.
pub const AFTER_EXIT_MS: u64 = 1_000;

/// The limits of one run. The defaults for students' programs are in the
/// [rubric](crate::rubric::LIMITS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Wall-clock time for the whole run.
    pub timeout_ms: u64,
    /// Bytes kept of stdout, and of stderr; more stops the run.
    pub output_cap: usize,
    /// Processes the program may create (enforced by the witness).
    pub processes: usize,
    /// Memory of each process (`RLIMIT_DATA`) and of all of them together.
    pub memory_mib: u64,
    /// The largest file a process may write (`RLIMIT_FSIZE`), and, when
    /// `disk` is set, all it may write into its directory together.
    pub file_size_mib: u64,
    /// Watch the run's directory and stop the run when it holds more than
    /// `file_size_mib` (a build's directory is not watched).
    pub disk: bool,
    /// CPU time of each process (`RLIMIT_CPU`).
    pub cpu_seconds: u64,
    /// Files each process may have open at once (`RLIMIT_NOFILE`).
    pub open_files: u64,
}

impl Limits {
    /// The most writes to stdout a traced run may make: one for every 128
    /// bytes of the output cap (8192 for 1 MiB). Each write is a stop at
    /// the witness, so a flood of short lines is stopped by its number of
    /// writes, in a moment, where its bytes would take seconds to fill the
    /// cap; a program prints a line with one write, or a few.
    pub fn stdout_writes(&self) -> usize {
        self.output_cap / BYTES_PER_WRITE
    }
}

/// See [`Limits::stdout_writes`].
const BYTES_PER_WRITE: usize = 128;

/// Threads a program may start for each process it may create before the
/// run is stopped: many threads exhaust the machine's process ids as surely
/// as many processes.
pub const THREADS_PER_PROCESS: usize = 16;

/// What a sandboxed program may touch: everything else on the file system
/// is out of reach, and so are the network and other processes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Files, or directories and all beneath them, it may read.
    pub read: Vec<PathBuf>,
    /// ... read and execute.
    pub exec: Vec<PathBuf>,
    /// ... read, write, create and remove in (never execute).
    pub write: Vec<PathBuf>,
    /// Refuse to start the program unless every protection is in force.
    pub required: bool,
    /// The grader's own process ids, which the program may not signal
    /// (kept by the system-call filter where Landlock cannot scope signals).
    pub protect_pids: Vec<i32>,
    pub layers: Layers,
    /// A build (cargo, rustc, the linker: tools, not the student's code)
    /// rather than a student's program: it may change files' metadata.
    pub build: bool,
}

/// Which of the sandbox's kernel layers to use: both, but in the grader's
/// own tests of what it does and says on a system without them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layers {
    /// Landlock, where the kernel has it.
    pub landlock: bool,
    /// The seccomp filters.
    pub seccomp: bool,
}

impl Layers {
    pub const ALL: Layers = Layers { landlock: true, seccomp: true };
}

/// What the supervisor saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// The program's process id.
    pub pid: i32,
    /// The supervisor's: orphans are re-parented to it.
    pub supervisor: i32,
    pub exit: Exit,
    /// Why the supervisor stopped the run, if it did.
    pub stopped: Option<Stopped>,
    pub stdout_len: usize,
    pub stderr_len: usize,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub elapsed_ms: f64,
    /// Processes alive, or never reaped, when the program exited; `None`
    /// where that cannot be seen (not Linux).
    pub leftovers: Option<Vec<Leftover>>,
    /// Of those, the ones still running [`AFTER_EXIT_MS`] after the program
    /// exited (or at its time limit), which the supervisor killed: what
    /// they had not printed by then is missing from the output.
    pub killed_after_exit: Vec<Leftover>,
    /// What the witness saw, or why the run was not traced.
    pub witness: Result<Witness, String>,
    /// Which protections were in force.
    pub sandbox: SandboxStatus,
    /// System calls the sandbox refused and the witness saw being tried.
    pub forbidden: Vec<String>,
    /// Where each process was blocked when the run was stopped for its time
    /// limit (nothing otherwise, or where `/proc` cannot be read).
    pub blocked: Vec<Blocked>,
}

/// How a process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Exit {
    Code(i32),
    /// Killed by this signal (named in the protocol, "SIGABRT").
    Signal(#[serde(with = "signal_name")] Signal),
    /// Killed by the supervisor (see [`Stopped`]).
    Killed,
}

impl Exit {
    /// How a process ended, from its wait status (`None`: it only stopped).
    pub fn from_wait(status: nix::sys::wait::WaitStatus) -> Option<Exit> {
        use nix::sys::wait::WaitStatus;
        match status {
            WaitStatus::Exited(_, code) => Some(Exit::Code(code)),
            WaitStatus::Signaled(_, signal, _) => Some(Exit::Signal(signal)),
            _ => None,
        }
    }

    /// For a process tree: "exit 0", "killed by SIGABRT".
    pub fn short(&self) -> String {
        match self {
            Exit::Code(code) => format!("exit {code}"),
            Exit::Signal(signal) => format!("killed by {}", signal.as_str()),
            Exit::Killed => "killed by the grader".to_string(),
        }
    }

    /// For a sentence about the command: "exited with status 3",
    /// "panicked (exit status 101)", "was killed by SIGABRT".
    pub fn phrase(&self) -> String {
        match self {
            Exit::Code(101) => "panicked (exit status 101)".to_string(),
            Exit::Code(code) => format!("exited with status {code}"),
            Exit::Signal(signal) => match signal_meaning(*signal) {
                Some(meaning) => format!("was killed by {} ({meaning})", signal.as_str()),
                None => format!("was killed by {}", signal.as_str()),
            },
            Exit::Killed => "had to be killed".to_string(),
        }
    }
}

/// What the signals the sandbox's limits send mean, in a student's words.
fn signal_meaning(signal: Signal) -> Option<&'static str> {
    match signal {
        Signal::SIGSYS => Some("it made a system call the sandbox forbids"),
        Signal::SIGXFSZ => Some("it wrote a file larger than the limit"),
        Signal::SIGXCPU => Some("it used more CPU time than the limit"),
        _ => None,
    }
}

/// A signal in the protocol: its name.
mod signal_name {
    use nix::sys::signal::Signal;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(signal: &Signal, to: S) -> Result<S::Ok, S::Error> {
        to.serialize_str(signal.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Signal, D::Error> {
        let name = String::deserialize(from)?;
        name.parse().map_err(|_| D::Error::custom(format!("no signal {name:?}")))
    }
}

/// Why the supervisor stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stopped {
    TimedOut,
    Flooded,
    TooManyProcesses,
    Memory,
    Disk,
    /// A system call the sandbox forbids was tried (seen by the witness).
    Forbidden,
}

impl Stopped {
    /// What happened, after the command's name: "did not finish within 5 s".
    pub fn phrase(self, limits: &Limits) -> String {
        match self {
            Stopped::TimedOut => format!("did not finish within {} s", limits.timeout_ms as f64 / 1000.0),
            Stopped::Flooded => format!(
                "wrote more than {} to stdout or stderr (or more than {} separate writes to stdout)",
                mib(limits.output_cap as u64),
                limits.stdout_writes()
            ),
            Stopped::TooManyProcesses => format!(
                "created more than {} processes (or {} threads)",
                limits.processes,
                limits.processes.saturating_mul(THREADS_PER_PROCESS)
            ),
            Stopped::Memory => format!("used more than {} MiB of memory", limits.memory_mib),
            Stopped::Disk => format!("wrote more than {} MiB of files", limits.file_size_mib),
            Stopped::Forbidden => "tried something the sandbox forbids".to_string(),
        }
    }
}

fn mib(bytes: u64) -> String {
    if bytes >= 1 << 20 { format!("{} MiB", bytes >> 20) } else { format!("{} KiB", bytes >> 10) }
}

/// Where one process of a run was when the run was stopped for its time
/// limit: what each of its threads was blocked in, in words ("read from
/// pipe 4411, whose write end processes 10 and 12 hold"), read from `/proc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blocked {
    pub pid: i32,
    /// One phrase per thread (the same phrase once).
    pub calls: Vec<String>,
}

/// A process found alive, or dead but never reaped, after the program exited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Leftover {
    pub pid: i32,
    pub name: String,
    /// `true`: still running; `false`: it exited, but nobody waited for it.
    pub running: bool,
}

/// A process the program created (or the program itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// Everything the [witness](super::witness) saw in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Witness {
    /// The program first, then every process in the order created.
    pub processes: Vec<ProcessRecord>,
    pub threads: u32,
    /// Processes held back before their first instruction
    /// ([`Schedule::ChildrenLate`]).
    pub held: u32,
    /// Who wrote each line of stdout, or why the writes were not watched.
    pub authors: Result<Authors, String>,
}

/// Who wrote each line of a run's stdout (see [`authorship`](super::authorship)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authors {
    /// Each writer once.
    pub writers: Vec<Author>,
    /// For each line of stdout (split at `\n`), its writer's index in
    /// `writers`; `None`: no write the witness saw made it.
    pub lines: Vec<Option<u32>>,
}

impl Authors {
    /// The writer of line `line` (counted from 0), if the witness saw it.
    pub fn of(&self, line: usize) -> Option<&Author> {
        self.lines.get(line).copied().flatten().and_then(|i| self.writers.get(i as usize))
    }
}

/// The writer of one line of output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Author {
    /// The process that wrote the line to the program's stdout.
    pub process: i32,
    /// The thread that wrote it, when not its process's main thread.
    pub thread: Option<i32>,
    /// The process that wrote the line before, to its own stdout (a pipe
    /// the first process read it from), when another did: a line relayed.
    pub relayed_from: Option<i32>,
}

impl Author {
    /// The process the line comes from: who first wrote it.
    pub fn origin(&self) -> i32 {
        self.relayed_from.unwrap_or(self.process)
    }
}

impl Witness {
    pub fn main(&self) -> Option<&ProcessRecord> {
        self.processes.first()
    }

    /// Every process the program created, directly or not.
    pub fn children(&self) -> &[ProcessRecord] {
        self.processes.get(1..).unwrap_or_default()
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
            ended(main.exit.as_ref()),
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
            out.push_str(&format!(
                "\n{indent}{} {} {}{exec} ({})",
                if last { "└─" } else { "├─" },
                kid.pid,
                kid.how,
                ended(kid.exit.as_ref())
            ));
            self.draw_children(kid.pid, &format!("{indent}{}", if last { "   " } else { "│  " }), out);
        }
    }
}

fn ended(exit: Option<&Exit>) -> String {
    exit.unwrap_or(&Exit::Killed).short()
}

/// "1 process", "4 processes".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Which protections were in force for one run, or for a whole grading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxStatus {
    pub protections: Vec<Protection>,
}

/// One protection and how far it was in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protection {
    pub guard: Guard,
    pub level: Level,
    /// How it was enforced, or what it lacked and what would provide it.
    pub detail: String,
}

/// What a protection guards against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    Files,
    Network,
    Signals,
    Syscalls,
    Privileges,
    Resources,
    Environment,
}

impl Guard {
    pub const ALL: [Guard; 7] = [
        Guard::Files,
        Guard::Network,
        Guard::Signals,
        Guard::Syscalls,
        Guard::Privileges,
        Guard::Resources,
        Guard::Environment,
    ];

    /// What it keeps a submission from doing.
    pub fn title(self) -> &'static str {
        match self {
            Guard::Files => "reading or writing files outside its run",
            Guard::Network => "connecting to the network",
            Guard::Signals => "signalling the grader or other runs",
            Guard::Syscalls => "escaping the witness (untraced clone, ptrace, namespaces, io_uring, bpf)",
            Guard::Privileges => "using root's privileges",
            Guard::Resources => "using more memory, disk, CPU, files or processes than the limits",
            Guard::Environment => "reading the grader's environment",
        }
    }
}

/// How far a protection was in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Off,
    Partial,
    Full,
}

impl SandboxStatus {
    /// The protection of `guard`, if reported.
    pub fn get(&self, guard: Guard) -> Option<&Protection> {
        self.protections.iter().find(|p| p.guard == guard)
    }

    /// Whether every protection was fully in force.
    pub fn complete(&self) -> bool {
        Guard::ALL.iter().all(|&g| self.get(g).is_some_and(|p| p.level == Level::Full))
    }

    /// The weaker of the two, protection by protection: what held for both.
    pub fn meet(&self, other: &SandboxStatus) -> SandboxStatus {
        let protections = Guard::ALL
            .iter()
            .filter_map(|&g| match (self.get(g), other.get(g)) {
                (Some(a), Some(b)) => Some(if b.level < a.level { b.clone() } else { a.clone() }),
                (Some(p), None) | (None, Some(p)) => Some(p.clone()),
                (None, None) => None,
            })
            .collect();
        SandboxStatus { protections }
    }

    /// The protections not fully in force, for a warning.
    pub fn missing(&self) -> Vec<&Protection> {
        self.protections.iter().filter(|p| p.level != Level::Full).collect()
    }

    /// Why `--require-sandbox` refuses to grade.
    pub fn refusal(&self) -> String {
        let list: Vec<String> = self
            .missing()
            .iter()
            .map(|p| format!("{} ({:?}): {}", p.guard.title(), p.level, p.detail))
            .collect();
        format!(
            "the sandbox is not fully in force here, and --require-sandbox was given: {}",
            list.join("; ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_travels_by_name() {
        let text = serde_json::to_string(&Exit::Signal(Signal::SIGABRT)).unwrap();
        assert_eq!(text, r#"{"Signal":"SIGABRT"}"#);
        assert_eq!(serde_json::from_str::<Exit>(&text).unwrap(), Exit::Signal(Signal::SIGABRT));
        assert!(serde_json::from_str::<Exit>(r#"{"Signal":"SIGNOPE"}"#).is_err());
        assert_eq!(
            Exit::Signal(Signal::SIGSYS).phrase(),
            "was killed by SIGSYS (it made a system call the sandbox forbids)"
        );
    }

    #[test]
    fn meet_keeps_the_weaker_protection() {
        let p = |level, detail: &str| Protection { guard: Guard::Signals, level, detail: detail.into() };
        let full = SandboxStatus { protections: vec![p(Level::Full, "landlock")] };
        let partial = SandboxStatus { protections: vec![p(Level::Partial, "seccomp only")] };
        assert_eq!(full.meet(&partial), partial);
        assert_eq!(partial.meet(&full), partial);
        assert!(!full.complete(), "the other guards were not reported");
    }
}
