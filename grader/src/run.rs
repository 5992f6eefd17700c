//! Runs a program under the supervisor and returns what was observed.
//!
//! ```no_run
//! use grader::run::{Runner, RunSpec};
//! let runner = Runner::new("target/debug/grader".into());
//! let seen = runner.run(&RunSpec::new("target/debug/q6_four_procs"))?;
//! println!("{:?} {}", seen.exit, String::from_utf8_lossy(&seen.stdout));
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Each run goes through a `grader supervise` process (see
//! [`sandbox`](crate::sandbox)) so that a hang, a flood or an orphan is dealt
//! with there, and this side only ever waits a bounded time on one pipe that
//! the supervisor alone holds.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

pub use crate::sandbox::{Exit, Leftover};
pub use crate::witness::Witness;

/// The default time limit for one run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Processes a program may create before it is stopped.
pub const PROCESS_CAP: usize = 64;
/// Bytes kept of stdout, and of stderr.
pub const OUTPUT_CAP: usize = 1 << 20;

/// One run to make: a program, its arguments, its limits.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub timeout: Duration,
    /// Watch the run with the process [witness](crate::witness) (Linux,
    /// where `ptrace` is permitted).
    pub witness: bool,
}

impl RunSpec {
    pub fn new(program: impl Into<PathBuf>) -> RunSpec {
        RunSpec { program: program.into(), args: Vec::new(), timeout: DEFAULT_TIMEOUT, witness: true }
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> RunSpec {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    pub fn witness(mut self, witness: bool) -> RunSpec {
        self.witness = witness;
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> RunSpec {
        self.timeout = timeout;
        self
    }

    /// The command line as a student would type it.
    pub fn display(&self) -> String {
        let name = self.program.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        std::iter::once(name).chain(self.args.iter().cloned()).collect::<Vec<_>>().join(" ")
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
    pub timed_out: bool,
    pub timeout: Duration,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub elapsed: Duration,
    /// Processes alive, or never reaped, when the program exited.
    pub leftovers: Vec<Leftover>,
    /// Whether `leftovers` could be checked (Linux only).
    pub leftovers_checked: bool,
    /// Stopped for creating more than [`PROCESS_CAP`] processes.
    pub too_many_processes: bool,
    /// What the process witness saw; `None` when the run was not traced.
    pub witness: Option<Witness>,
    /// Why the run was not traced, if it was not.
    pub witness_error: Option<String>,
}

impl Observation {
    /// What went wrong with the run itself, in a student's terms, if anything
    /// did: a hang, a flood, a crash, a panic, a failure exit.
    pub fn problem(&self) -> Option<String> {
        let cmd = &self.command;
        if self.too_many_processes {
            return Some(format!(
                "`{cmd}` created more than {PROCESS_CAP} processes and was stopped: does a process fork in a loop (a child that goes on forking too)?"
            ));
        }
        if self.timed_out {
            return Some(format!(
                "`{cmd}` did not finish within {} s and was stopped: does a process wait for something that never comes (a child never reaped, a pipe never closed)?",
                self.timeout.as_secs_f64()
            ));
        }
        if self.stdout_truncated || self.stderr_truncated {
            let which = if self.stdout_truncated { "stdout" } else { "stderr" };
            return Some(format!(
                "`{cmd}` wrote more than {} MiB to {which} and was stopped (the output was cut there): is something printing in an endless loop?",
                OUTPUT_CAP >> 20
            ));
        }
        match &self.exit {
            Exit::Code(0) => None,
            Exit::Code(101) => Some(format!("`{cmd}` panicked (exit status 101){}", self.stderr_hint())),
            Exit::Code(code) => {
                Some(format!("`{cmd}` exited with status {code}, expected 0{}", self.stderr_hint()))
            }
            Exit::Signal(signal) => Some(format!("`{cmd}` was killed by {signal}{}", self.stderr_hint())),
            Exit::Killed => Some(format!("`{cmd}` had to be killed")),
        }
    }

    /// Whether the program ran to its end by itself (no time-out, no flood).
    pub fn finished(&self) -> bool {
        !self.timed_out && !self.too_many_processes && !self.stdout_truncated && !self.stderr_truncated
    }

    /// The first lines of stderr, to quote in a message.
    pub fn stderr_hint(&self) -> String {
        let text = String::from_utf8_lossy(&self.stderr);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(3).collect();
        if lines.is_empty() { String::new() } else { format!(": {}", lines.join(" / ")) }
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

    /// Runs `spec` and returns what it did. An `Err` means the run could not
    /// be made at all (no supervisor, no program), not that the program failed.
    pub fn run(&self, spec: &RunSpec) -> Result<Observation> {
        if !spec.program.is_file() {
            bail!("{} does not exist", spec.program.display());
        }
        let mut child = Command::new(&self.supervisor)
            .arg("supervise")
            .arg("--timeout-ms")
            .arg(spec.timeout.as_millis().to_string())
            .arg("--output-cap")
            .arg(OUTPUT_CAP.to_string())
            .arg("--process-cap")
            .arg(PROCESS_CAP.to_string())
            .args((!spec.witness).then_some("--no-witness"))
            .arg("--")
            .arg(&spec.program)
            .args(&spec.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting the supervisor {}", self.supervisor.display()))?;
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
        // net in case it cannot (it kills the program when it dies).
        let grace = spec.timeout + Duration::from_secs(10);
        let (report, errors) = match rx.recv_timeout(grace) {
            Ok(read) => read.context("reading the supervisor's report")?,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the supervisor for `{}` did not finish in {} s", spec.display(), grace.as_secs());
            }
        };
        let status = child.wait()?;
        if !status.success() {
            bail!("the supervisor for `{}` failed ({status}): {}", spec.display(), errors.trim());
        }
        parse_report(spec, &report)
    }
}

fn parse_report(spec: &RunSpec, report: &[u8]) -> Result<Observation> {
    let newline = report.iter().position(|&b| b == b'\n').context("the supervisor's report is empty")?;
    let header: Value = serde_json::from_slice(&report[..newline]).context("the supervisor's report")?;
    let body = &report[newline + 1..];
    let len = |key: &str| header[key].as_u64().map(|n| n as usize).context("a length in the report");
    let (out_len, err_len) = (len("stdout_len")?, len("stderr_len")?);
    if body.len() != out_len + err_len {
        bail!("the supervisor's report is cut short");
    }
    let exit = Exit::from_json(&header["exit"]).unwrap_or(Exit::Killed);
    let leftovers = header["leftovers"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|l| Leftover {
                    pid: l["pid"].as_i64().unwrap_or(0) as i32,
                    name: l["name"].as_str().unwrap_or("?").to_string(),
                    running: l["running"].as_bool().unwrap_or(true),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Observation {
        command: spec.display(),
        pid: header["pid"].as_i64().unwrap_or(0) as i32,
        supervisor_pid: header["supervisor"].as_i64().unwrap_or(0) as i32,
        exit,
        timed_out: header["timed_out"].as_bool().unwrap_or(false),
        timeout: spec.timeout,
        stdout: body[..out_len].to_vec(),
        stderr: body[out_len..].to_vec(),
        stdout_truncated: header["stdout_truncated"].as_bool().unwrap_or(false),
        stderr_truncated: header["stderr_truncated"].as_bool().unwrap_or(false),
        elapsed: Duration::from_secs_f64(header["elapsed_ms"].as_f64().unwrap_or(0.0) / 1000.0),
        leftovers,
        leftovers_checked: header["leftovers_checked"].as_bool().unwrap_or(false),
        too_many_processes: header["too_many_processes"].as_bool().unwrap_or(false),
        witness: Witness::from_json(&header["witness"]),
        witness_error: header["witness_error"].as_str().map(str::to_string),
    })
}
