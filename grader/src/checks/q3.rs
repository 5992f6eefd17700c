//! Q3: create a process.

use super::{
    QuestionReport, contract_lines, default_runs, excused, fields, foreign_pid_problem, held_note, judged,
    killed_note, not_waited_for, outlived_problem, process_count_problem, snapshot_verdict, unreaped_problem,
};
use crate::grade::Context;
use crate::normalize::normalize;
use crate::rubric::Question;
use crate::run::Observation;

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
        ("3.1", judged(&runs, |r| r.problem().map_or(Ok(()), Err), "ran and exited with status 0")),
        ("3.2", judged(&runs, |r| Parsed::from(r).map(|_| ()), "the three lines of the contract")),
        (
            "3.3",
            judged(
                &runs,
                |r| Parsed::from(r).and_then(|p| p.own_process(r)),
                "the worker has a pid of its own",
            ),
        ),
        (
            "3.4",
            excused(
                judged(
                    &runs,
                    |r| Parsed::from(r).and_then(|p| p.parent(r)),
                    "the worker's parent is the main process",
                ),
                seen,
                "3.5",
            ),
        ),
        ("3.5", judged(&runs, check_waits, "the main process reaped its worker, then printed its last line")),
        ("3.6", snapshot_verdict(question, seen, normalized.as_deref(), "3.5")),
    ];
    QuestionReport::of_program(question, verdicts, seen, Vec::new(), normalized)
}

/// The three lines, parsed.
#[derive(Debug, Clone)]
struct Parsed {
    worker: String,
    parent: String,
    finishing_pid: String,
}

impl Parsed {
    /// The three lines, each once, the worker's two in order; where the
    /// main process's line falls is [`check_waits`]'s to judge.
    fn from(seen: &Observation) -> Result<Parsed, String> {
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
        if status[0] != "0" {
            return Err(format!(
                "the main process reports the worker's exit status as {}: it should exit with 0",
                status[0]
            ));
        }
        Ok(Parsed { worker: start[0].into(), parent: start[1].into(), finishing_pid: finish[0].into() })
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
        foreign_pid_problem(seen, &[self.worker.as_str()], "the worker line carries").map_or(Ok(()), Err)
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
        _ => outlived_problem(seen, &[]).map_or(Ok(()), Err),
    }
}
