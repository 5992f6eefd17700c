//! Q3: create a process.
//!
//! The default run (twice: with the worker held back until the main process
//! waits, and as the scheduler takes it) is judged for the contract, a
//! worker of its own, its parent and the wait. Then the worker is told to
//! exit with a status drawn at random (`--status N`), forked and spawned
//! (`--spawn`), so that only a status really read from the worker is
//! reported right, and the spawn path is run too.

use super::{
    QuestionReport, contract_lines, default_runs, excused, fields, foreign_pid_problem, held_note, judged,
    killed_note, not_waited_for, outlived_problem, process_count_problem, snapshot_verdict, unreaped_problem,
};
use super::{Verdict, misreport_problem, not_attempted, package, raced_out, reaped};
use crate::engine::context::{Context, Rng, SEED_ENV};
use crate::engine::normalize::normalize;
use crate::engine::run::{Exit, Observation};
use crate::rubric::{CheckId, Question, id};

/// The checks this module's messages point to.
const RUNS: CheckId = id("3.1");
const OWN_PROCESS: CheckId = id("3.3");

const STARTING: &str = "Worker 1 starting (pid {}, parent {})";
const FINISHING: &str = "Worker 1 finishing (pid {})";
const EXITING: &str = "Main process exiting (worker 1 exited with status {})";

pub fn grade(ctx: &Context) -> QuestionReport {
    let question = Question::Q3;
    let runs = match default_runs(ctx, question) {
        Ok(runs) => runs,
        Err(report) => return *report,
    };
    let seen = &runs[0];
    let normalized = seen.stdout_text().ok().map(|text| normalize(text, &[]));
    let verdicts = vec![
        (id("3.1"), judged(&runs, |r| r.problem().map_or(Ok(()), Err), "ran and exited with status 0")),
        (id("3.2"), judged(&runs, |r| Parsed::from(r).map(|_| ()), "the three lines of the contract")),
        (
            id("3.3"),
            judged(
                &runs,
                |r| Parsed::from(r).and_then(|p| p.own_process(r)),
                "the worker has a pid of its own",
            ),
        ),
        (
            id("3.4"),
            excused(
                judged(
                    &runs,
                    |r| Parsed::from(r).and_then(|p| p.parent(r)),
                    "the worker's parent is the main process",
                ),
                seen,
                id("3.5"),
            ),
        ),
        (id("3.5"), judged(&runs, check_waits, &reaped(seen, "its last line"))),
        (id("3.6"), snapshot_verdict(question, seen, normalized.as_deref(), id("3.5"))),
    ];
    let (status_runs, notes) = status_runs(ctx, seen);
    let mut verdicts = verdicts;
    verdicts.extend(status_runs);
    QuestionReport::of_program(question, verdicts, seen, notes, normalized)
}

/// 3.7 and 3.8: the worker told to exit with a status drawn at random,
/// forked, then spawned; and the note that says how to draw them again.
fn status_runs(ctx: &Context, seen: &Observation) -> (Vec<(CheckId, Verdict)>, Vec<String>) {
    let mut rng = Rng::new(ctx.settings.seed ^ 0x0003_0003);
    let forked = rng.range(1, 99);
    let spawned = (forked + rng.range(1, 97)) % 99 + 1;
    let note = format!(
        "the worker was told to exit with {forked} (forked) and {spawned} (spawned), drawn with seed {}; to draw them again: {SEED_ENV}={} cargo run -p grader",
        ctx.settings.seed, ctx.settings.seed
    );
    let run = |args: &[String]| -> Result<Observation, String> {
        let binary = ctx.binary(package(Question::Q3)).map_err(|f| f.message().to_string())?;
        ctx.run(&binary, args)
    };
    let judge = |args: Vec<String>, status: i64, spawn: bool, ok: &str| match run(&args) {
        Err(message) => Verdict::fail(message),
        Ok(run) => {
            excused(Verdict::from_result(check_status(&run, seen, status, spawn), ok), &run, id("3.5"))
        }
    };
    // The fork path is the default run's: if that hung, so would this.
    // The spawn path is code of its own, judged whatever the default did.
    let fork_verdict = if seen.finished() {
        judge(
            vec!["--status".into(), forked.to_string()],
            forked,
            false,
            "the worker exited with the status it was given, and the main process reported it",
        )
    } else {
        Verdict::fail(format!(
            "not run: the default run, which forks the same way, did not finish (see {RUNS})"
        ))
    };
    let verdicts = vec![
        (id("3.7"), fork_verdict),
        (
            id("3.8"),
            judge(
                vec!["--spawn".into(), "--status".into(), spawned.to_string()],
                spawned,
                true,
                "the worker was this program started again, and its real exit status was reported",
            ),
        ),
    ];
    (verdicts, vec![note])
}

/// A run with `--status N` (and `--spawn`): the contract's lines, the
/// status reported is N, and, where the witness watched, it is the status
/// the worker really exited with (and a spawned worker ran this program).
/// What the default run did wrong too (a crash, a missing wait, no worker
/// at all) is its checks' to count: one mistake, one loss.
fn check_status(seen: &Observation, default: &Observation, status: i64, spawn: bool) -> Result<(), String> {
    let cmd = &seen.command;
    if let Some(message) = not_attempted(seen) {
        return Err(message);
    }
    match seen.problem() {
        Some(_) if seen.finished() && seen.exit == default.exit => {}
        Some(problem) => return Err(problem),
        None => {}
    }
    // A main process that never waited cannot know the status. If the
    // default run never waited either, that one mistake is 3.5's; if it
    // did (the spawn path is code of its own), this check counts it.
    if !not_waited_for(seen).is_empty() {
        return match not_waited_for(default).is_empty() {
            false => Ok(()),
            true => Err(format!("`{cmd}`: {}", unreaped_problem(seen).unwrap_or_default())),
        };
    }
    if seen.witness.as_ref().is_ok_and(|w| !w.children().iter().any(|p| p.parent == Some(seen.pid))) {
        return Err(format!("`{cmd}` created no worker process (see {OWN_PROCESS})"));
    }
    let parsed = Parsed::read(seen, &status.to_string())?;
    if parsed.worker == seen.pid.to_string() {
        return Err(format!(
            "`{cmd}` created no worker process: the main process printed the worker's lines (see {OWN_PROCESS})"
        ));
    }
    // The worker's lines must be the worker's: its pid, its parent the
    // main process (where the witness watched, the process it saw).
    parsed.own_process(seen).map_err(|m| format!("`{cmd}`: {m}"))?;
    parsed.parent(seen).map_err(|m| format!("`{cmd}`: {m}"))?;
    let Ok(witness) = &seen.witness else { return Ok(()) };
    let Some(worker) = witness.children().iter().find(|p| p.parent == Some(seen.pid)) else {
        return Err(format!("`{cmd}` created no worker process (see {OWN_PROCESS})"));
    };
    match &worker.exit {
        Some(Exit::Code(code)) if i64::from(*code) == status => {}
        Some(exit) => {
            return Err(format!(
                "`{cmd}`: the main process reported status {status}, but the worker (pid {}) really {}: report the status that waitpid (or Child::wait) returns, and make the worker exit with the status it is given",
                worker.pid,
                exit.phrase()
            ));
        }
        None => return Err(format!("`{cmd}`: the worker (pid {}) never exited", worker.pid)),
    }
    if spawn {
        let program = package(Question::Q3);
        match worker.exec.as_deref() {
            None => {
                return Err(format!(
                    "`{cmd}` forked the worker (it never started a program): with --spawn, the worker must be this program started again (std::process::Command on std::env::current_exe())"
                ));
            }
            Some(name) if name != program => {
                return Err(format!(
                    "`{cmd}`: the worker ran `{name}`, not this program: with --spawn, start std::env::current_exe() again"
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The three lines, parsed.
#[derive(Debug, Clone)]
struct Parsed {
    worker: String,
    parent: String,
    finishing_pid: String,
    /// The lines of the worker's "starting" and "finishing", in stdout.
    worker_lines: [usize; 2],
}

impl Parsed {
    /// The three lines of the default run (the worker exits with 0).
    fn from(seen: &Observation) -> Result<Parsed, String> {
        Parsed::read(seen, "0")
    }

    /// The three lines, each once, the worker's two in order, the status
    /// reported `status`; where the main process's line falls is
    /// [`check_waits`]'s to judge.
    fn read(seen: &Observation, asked: &str) -> Result<Parsed, String> {
        let lines = contract_lines(seen)?;
        let find = |template: &str| -> Result<(usize, Vec<&str>), String> {
            let shown = template.replace("{}", "…");
            let mut found = lines.iter().enumerate().filter_map(|(i, l)| fields(template, l).map(|f| (i, f)));
            let first = found
                .next()
                .ok_or_else(|| format!("the line \"{shown}\" is missing{}", killed_note(seen)))?;
            if found.next().is_some() {
                return Err(format!("the line \"{shown}\" came more than once"));
            }
            Ok(first)
        };
        let (start_at, start) = find(STARTING)?;
        let (finish_at, finish) = find(FINISHING)?;
        let (_, status) = find(EXITING)?;
        if let Some(extra) =
            lines.iter().find(|l| [STARTING, FINISHING, EXITING].iter().all(|t| fields(t, l).is_none()))
        {
            return Err(format!(
                "unexpected line {extra:?}: stdout may only have the three lines (debug output goes to stderr)"
            ));
        }
        if finish_at < start_at {
            return Err("the worker's \"finishing\" line came before its \"starting\" line".into());
        }
        match (status[0], asked) {
            (reported, "0") if reported != "0" => {
                return Err(format!(
                    "the main process reports the worker's exit status as {reported}: without --status, the worker exits with 0"
                ));
            }
            (reported, asked) if reported != asked => {
                return Err(format!(
                    "`{}`: the main process reported status {reported}, but the worker was told to exit with {asked}: make the worker exit with the status it is given, and report the status waitpid (or Child::wait) returns",
                    seen.command
                ));
            }
            _ => {}
        }
        Ok(Parsed {
            worker: start[0].into(),
            parent: start[1].into(),
            finishing_pid: finish[0].into(),
            worker_lines: [start_at, finish_at],
        })
    }

    fn own_process(&self, seen: &Observation) -> Result<(), String> {
        if self.worker == seen.pid.to_string() {
            return Err(format!(
                "the worker reports pid {}, the main process's own pid: it must run in a new process",
                self.worker
            ));
        }
        if self.worker != self.finishing_pid {
            return Err(format!(
                "the worker's two lines carry different pids, {} and {}: both come from the one worker process",
                self.worker, self.finishing_pid
            ));
        }
        if let Some(problem) = process_count_problem(seen, 1, "worker process") {
            return Err(problem);
        }
        if let Some(problem) = foreign_pid_problem(seen, &[self.worker.as_str()], "the worker line carries") {
            return Err(problem);
        }
        // Both lines from the worker itself, as the witness saw them written.
        let claims = self.worker_lines.map(|line| (line, self.worker.as_str()));
        misreport_problem(seen, &claims).map_or(Ok(()), Err)
    }

    fn parent(&self, seen: &Observation) -> Result<(), String> {
        let main = seen.pid.to_string();
        if self.worker == main {
            return Err(
                "no worker process was created, so there is no worker whose parent could be checked".into()
            );
        }
        let orphaned = |p: &str| p == "1" || p == seen.supervisor_pid.to_string();
        let not_waited = not_waited_for(seen).iter().any(|p| p.to_string() == self.worker);
        match self.parent.as_str() {
            p if p == main => Ok(()),
            // Orphaned because the main process did not wait: 3.5's loss.
            p if orphaned(p) && not_waited => Ok(()),
            p if orphaned(p) => Err(format!(
                "the worker's parent is {p}, not the main process: it was orphaned (its parent had exited) — the main process must wait for it"
            )),
            p => Err(format!("the worker reports parent {p}, but the main process is {main}")),
        }
    }
}

fn check_waits(seen: &Observation) -> Result<(), String> {
    // Whether it waited is a fact of the run, whatever the scheduler did:
    // said first, so it is said every time.
    if let Some(problem) = unreaped_problem(seen) {
        return Err(problem);
    }
    let lines = contract_lines(seen)?;
    let last = lines.iter().position(|l| fields(EXITING, l).is_some());
    let worker = lines.iter().rposition(|l| fields(STARTING, l).is_some() || fields(FINISHING, l).is_some());
    match (last, worker) {
        (None, _) => Err("the main process's last line \"Main process exiting (…)\" is missing".into()),
        (_, None) => Err("the worker printed nothing, so there is nothing it could have waited for".into()),
        (Some(l), Some(w)) if l < w => Err(format!(
            "the main process's last line came before the worker's{}: it must wait for the worker first",
            held_note(seen)
        )),
        _ => outlived_problem(seen, &raced_out(seen)).map_or(Ok(()), Err),
    }
}
