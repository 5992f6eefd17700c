//! Runs a program under the supervisor, in the sandbox, and returns what was
//! observed.
//!
//! ```no_run
//! use grader::engine::run::{Runner, RunSpec};
//! let runner = Runner::new("target/debug/grader".into());
//! let seen = runner.run(&RunSpec::new("target/debug/q6_four_procs"))?;
//! println!("{:?} {}", seen.exit, String::from_utf8_lossy(&seen.stdout));
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Each run goes through a `grader supervise` process (see
//! [`supervisor`](crate::supervisor)) so that a hang, a flood or an orphan is
//! dealt with there, and this side only ever waits a bounded time on one
//! pipe that the supervisor alone holds. Each run gets a directory of its
//! own, its working directory and the only place it may write, removed
//! afterwards.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

pub use crate::supervisor::protocol::{
    AFTER_EXIT_MS, Blocked, Exit, Layers, Leftover, Limits, SandboxStatus, Schedule, Stopped, Witness,
};
use crate::supervisor::protocol::{Policy, Report, Request};
use crate::supervisor::sandbox;

/// One run to make: a program, its arguments, its limits.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub limits: Limits,
    /// Watch the run with the process [witness](crate::supervisor::witness)
    /// (Linux, where `ptrace` is permitted).
    pub witness: bool,
    /// Run it in the sandbox, with these layers (`None`: outside it, only
    /// to measure what the sandbox costs).
    pub sandbox: Option<Layers>,
    /// Refuse to run it unless every protection of the sandbox is in force.
    pub require_sandbox: bool,
    /// How its children are scheduled (see [`Schedule`]).
    pub schedule: Schedule,
}

impl RunSpec {
    pub fn new(program: impl Into<PathBuf>) -> RunSpec {
        RunSpec {
            program: program.into(),
            args: Vec::new(),
            limits: crate::rubric::LIMITS,
            witness: true,
            sandbox: Some(Layers::ALL),
            require_sandbox: false,
            schedule: Schedule::AsItComes,
        }
    }

    pub fn schedule(mut self, schedule: Schedule) -> RunSpec {
        self.schedule = schedule;
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> RunSpec {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    pub fn witness(mut self, witness: bool) -> RunSpec {
        self.witness = witness;
        self
    }

    pub fn limits(mut self, limits: Limits) -> RunSpec {
        self.limits = limits;
        self
    }

    pub fn sandbox(mut self, sandbox: Option<Layers>) -> RunSpec {
        self.sandbox = sandbox;
        self
    }

    pub fn require_sandbox(mut self, required: bool) -> RunSpec {
        self.require_sandbox = required;
        self
    }

    /// The command line as a student would type it, cut to a length a
    /// message can quote (31000 numbers are "… and 30998 more arguments").
    pub fn display(&self) -> String {
        const SHOWN: usize = 70;
        let name = self.program.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut shown = name;
        for (i, arg) in self.args.iter().enumerate() {
            if shown.len() + 1 + arg.len() > SHOWN && self.args.len() - i > 1 {
                return format!("{shown} … and {} more arguments", self.args.len() - i);
            }
            shown.push(' ');
            shown.push_str(&crate::engine::normalize::cut(arg, SHOWN));
        }
        shown
    }
}

/// What one run did.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The command line, for messages.
    pub command: String,
    /// The program's process id.
    pub pid: i32,
    /// The supervisor's process id: a process orphaned during the run is
    /// re-parented to it.
    pub supervisor_pid: i32,
    pub exit: Exit,
    /// Why the supervisor stopped the run, if it did.
    pub stopped: Option<Stopped>,
    pub limits: Limits,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub elapsed: Duration,
    /// Processes alive, or never reaped, when the program exited; `None`
    /// where that could not be checked (not Linux).
    pub leftovers: Option<Vec<Leftover>>,
    /// Of those, the ones still running a while after the program exited,
    /// which the supervisor killed: their output may be missing.
    pub killed_after_exit: Vec<Leftover>,
    /// Where each process was blocked when the run was stopped for its
    /// time limit.
    pub blocked: Vec<Blocked>,
    /// How its children were scheduled.
    pub schedule: Schedule,
    /// What the process witness saw, or why the run was not traced.
    pub witness: Result<Witness, String>,
    /// Which protections of the sandbox were in force.
    pub sandbox: SandboxStatus,
    /// Forbidden system calls the program tried (seen by the witness).
    pub forbidden: Vec<String>,
}

impl Observation {
    /// What went wrong with the run itself, in a student's terms, if anything
    /// did: a hang, a flood, a limit, a crash, a panic, a failure exit.
    pub fn problem(&self) -> Option<String> {
        let cmd = &self.command;
        if let Some(stopped) = self.stopped {
            let why = stopped.phrase(&self.limits);
            return Some(match stopped {
                Stopped::TooManyProcesses => format!(
                    "`{cmd}` {why} and was stopped: does a process fork in a loop (a child that goes on forking too)?"
                ),
                // Still printing when time ran out (each line a stop at the
                // witness, a flood of short lines can outlast the time
                // before it fills the cap).
                Stopped::TimedOut if self.stdout.len() >= self.limits.output_cap / 2 => format!(
                    "`{cmd}` {why} and was stopped, after printing {} KiB: is something printing in an endless loop?",
                    self.stdout.len() >> 10
                ),
                Stopped::TimedOut => format!(
                    "`{cmd}` {why} and was stopped: does a process wait for something that never comes (a child never reaped, a pipe never closed)?{}",
                    self.where_blocked()
                ),
                Stopped::Flooded => format!(
                    "`{cmd}` {why} and was stopped (the output was cut there): is something printing in an endless loop?"
                ),
                Stopped::Forbidden => format!(
                    "`{cmd}` tried {}, which the sandbox forbids, and was stopped",
                    self.forbidden.first().map_or("a forbidden system call", String::as_str)
                ),
                Stopped::Memory | Stopped::Disk => format!("`{cmd}` {why} and was stopped"),
            });
        }
        let stderr = String::from_utf8_lossy(&self.stderr);
        if self.exit == Exit::Signal(nix::sys::signal::Signal::SIGABRT)
            && stderr.contains("memory allocation of")
        {
            let why = Stopped::Memory.phrase(&self.limits);
            return Some(format!("`{cmd}` {why} (an allocation failed){}", self.stderr_hint()));
        }
        match &self.exit {
            Exit::Code(0) => None,
            Exit::Code(code) if *code != 101 => {
                Some(format!("`{cmd}` {}, expected 0{}", self.exit.phrase(), self.stderr_hint()))
            }
            exit => Some(format!("`{cmd}` {}{}", exit.phrase(), self.stderr_hint())),
        }
    }

    /// Where each process was when a run was stopped for its time limit,
    /// in a sentence (empty when nothing is known).
    pub fn where_blocked(&self) -> String {
        if self.blocked.is_empty() {
            return String::new();
        }
        let said: Vec<String> = self
            .blocked
            .iter()
            .map(|b| {
                let who = if b.pid == self.pid {
                    format!("the main process ({})", b.pid)
                } else {
                    format!("process {}", b.pid)
                };
                match b.calls.as_slice() {
                    [one] => format!("{who}: {one}"),
                    many => format!("{who}, its threads: {}", many.join("; ")),
                }
            })
            .collect();
        format!(" Where each process was when it was stopped: {}.", said.join("; "))
    }

    /// Whether the run went to its end by itself (not stopped by the
    /// supervisor for a time-out, a flood or a limit).
    pub fn finished(&self) -> bool {
        self.stopped.is_none()
    }

    pub fn timed_out(&self) -> bool {
        self.stopped == Some(Stopped::TimedOut)
    }

    /// The first lines of stderr, to quote in a message.
    pub fn stderr_hint(&self) -> String {
        let text = String::from_utf8_lossy(&self.stderr);
        let lines: Vec<String> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(3)
            .map(|l| crate::engine::normalize::cut(l, 200))
            .collect();
        let files = if text.contains("os error 24") {
            format!(" (more than {} files open at once)", self.limits.open_files)
        } else if text.contains("os error 13") || text.contains("kind: PermissionDenied") {
            REFUSED.to_string()
        } else {
            String::new()
        };
        if lines.is_empty() { files } else { format!(": {}{files}", lines.join(" / ")) }
    }

    /// Stdout as text, or a message saying where it is not UTF-8.
    pub fn stdout_text(&self) -> Result<&str, String> {
        std::str::from_utf8(&self.stdout).map_err(|e| {
            format!(
                "`{}` printed bytes that are not UTF-8 text (at byte {} of stdout)",
                self.command,
                e.valid_up_to()
            )
        })
    }
}

/// What "Permission denied" means in a sandboxed run, in a student's words.
const REFUSED: &str = " (the grader's sandbox refused it: a program may run only its own binary, not `/bin/sh` or another program, and touch only the files of its own run directory; do the work in your own processes, or run your own program again with `std::env::current_exe()`)";

/// Starts supervisors. `supervisor` is the grader executable, which has the
/// hidden `supervise` subcommand.
#[derive(Debug, Clone)]
pub struct Runner {
    supervisor: PathBuf,
}

impl Runner {
    pub fn new(supervisor: PathBuf) -> Runner {
        Runner { supervisor }
    }

    /// Runs `spec` in a directory of its own and returns what it did. An
    /// `Err` means the run could not be made at all (no supervisor, no
    /// program, a required sandbox missing), not that the program failed.
    pub fn run(&self, spec: &RunSpec) -> Result<Observation> {
        let program = spec
            .program
            .canonicalize()
            .ok()
            .filter(|p| p.is_file())
            .with_context(|| format!("{} does not exist", spec.program.display()))?;
        let dir = RunDir::new()?;
        let request = Request {
            env: sandbox::program_env(dir.path()),
            sandbox: spec.sandbox.map(|layers| Policy {
                layers,
                ..sandbox::program_policy(&program, dir.path(), spec.require_sandbox)
            }),
            program,
            args: spec.args.clone(),
            dir: dir.path().to_path_buf(),
            limits: Limits { disk: true, ..spec.limits },
            trace: spec.witness,
            schedule: spec.schedule,
        };
        let (report, stdout, stderr) = self.request(&request, &spec.display())?;
        drop(dir);
        Ok(Observation {
            command: spec.display(),
            pid: report.pid,
            supervisor_pid: report.supervisor,
            exit: report.exit,
            stopped: report.stopped,
            limits: request.limits,
            stdout,
            stderr,
            stdout_truncated: report.stdout_truncated,
            stderr_truncated: report.stderr_truncated,
            elapsed: Duration::from_secs_f64(report.elapsed_ms.max(0.0) / 1000.0),
            leftovers: report.leftovers,
            killed_after_exit: report.killed_after_exit,
            blocked: report.blocked,
            schedule: spec.schedule,
            witness: report.witness,
            sandbox: report.sandbox,
            forbidden: report.forbidden,
        })
    }

    /// Which protections of the sandbox are in force here: runs the
    /// grader's own executable (`--version`) as a student's program is run.
    pub fn probe_sandbox(&self) -> Result<SandboxStatus> {
        let seen = self.run(&RunSpec::new(&self.supervisor).args(["--version"]))?;
        if seen.exit != Exit::Code(0) {
            bail!("the grader's own `--version` {} in the sandbox{}", seen.exit.phrase(), seen.stderr_hint());
        }
        Ok(seen.sandbox)
    }

    /// Sends `request` to a supervisor and returns its report and the
    /// captured stdout and stderr. `what` names the run in errors.
    pub fn request(&self, request: &Request, what: &str) -> Result<(Report, Vec<u8>, Vec<u8>)> {
        let mut child = Command::new(&self.supervisor)
            .arg("supervise")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting the supervisor {}", self.supervisor.display()))?;
        let mut stdin = child.stdin.take().context("supervisor stdin")?;
        // The supervisor reads all of its stdin before it writes anything.
        let sent = serde_json::to_writer(&mut stdin, request).map_err(std::io::Error::from);
        drop(stdin);
        let mut stdout = child.stdout.take().context("supervisor stdout")?;
        let mut stderr = child.stderr.take().context("supervisor stderr")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut report = Vec::new();
            let mut errors = String::new();
            let read = stdout.read_to_end(&mut report).and_then(|_| stderr.read_to_string(&mut errors));
            let _ = tx.send(read.map(|_| (report, errors)));
        });
        // The supervisor enforces the time limit itself; this is the safety
        // net in case it cannot. Killed, it can clean up nothing: what the
        // program started goes with it where it was traced (the witness's
        // PTRACE_O_EXITKILL), and a root grader kills all of the run's own
        // user.
        let grace = Duration::from_millis(request.limits.timeout_ms) + Duration::from_secs(30);
        let (report, errors) = match rx.recv_timeout(grace) {
            Ok(read) => read.context("reading the supervisor's report")?,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                sandbox::kill_user(sandbox::run_user(child.id()));
                bail!("the supervisor for `{what}` did not finish in {} s", grace.as_secs());
            }
        };
        let status = child.wait()?;
        if !status.success() {
            bail!("the supervisor for `{what}` failed ({status}): {}", errors.trim());
        }
        sent.context("sending the request to the supervisor")?;
        parse_report(&report)
    }
}

fn parse_report(report: &[u8]) -> Result<(Report, Vec<u8>, Vec<u8>)> {
    let newline = report.iter().position(|&b| b == b'\n').context("the supervisor's report is empty")?;
    let header: Report = serde_json::from_slice(&report[..newline]).context("the supervisor's report")?;
    let body = &report[newline + 1..];
    if body.len() != header.stdout_len + header.stderr_len {
        bail!("the supervisor's report is cut short");
    }
    let (out, err) = body.split_at(header.stdout_len);
    Ok((header, out.to_vec(), err.to_vec()))
}

/// A run's own directory: its working directory, `HOME` and `TMPDIR`, the
/// one place it may write. Removed afterwards, whatever the program did to
/// its permissions.
#[derive(Debug)]
struct RunDir(tempfile::TempDir);

impl RunDir {
    fn new() -> Result<RunDir> {
        let dir =
            tempfile::Builder::new().prefix("grader-run-").tempdir().context("making the run's directory")?;
        Ok(RunDir(dir))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        // However deep and unreadable the program made it (the supervisor
        // has killed everything that could still write in it).
        let _ = crate::engine::workspace::remove_tree(self.0.path());
    }
}
