//! Q3: create a process.

use super::{
    QuestionReport, Verdict, contract_lines, default_run, fields, foreign_pid_problem, leftovers_problem,
    process_count_problem, snapshot_verdict, unreaped_problem, witness_note,
};
use crate::grade::Context;
use crate::normalize::normalize;
use crate::rubric::Question;
use crate::run::Observation;

const PACKAGE: &str = "q3_process";
const STARTING: &str = "Worker 1 starting (pid {}, parent {})";
const FINISHING: &str = "Worker 1 finishing (pid {})";
const EXITING: &str = "Main process exiting (worker 1 exited with status {})";

pub fn grade(ctx: &Context) -> QuestionReport {
    let question = Question::Q3;
    let (_, seen) = match default_run(ctx, question, PACKAGE, &[]) {
        Ok(ran) => ran,
        Err(report) => return report,
    };
    let normalized = seen.stdout_text().ok().map(|text| normalize(text, &[]));
    let parsed = Parsed::from(&seen);
    let verdicts = vec![
        ("3.1", Verdict::from_result(seen.problem().map_or(Ok(()), Err), "ran and exited with status 0")),
        (
            "3.2",
            Verdict::from_result(parsed.clone().map(|_| ()), "the three lines of the contract, in order"),
        ),
        (
            "3.3",
            Verdict::from_result(
                parsed.clone().and_then(|p| p.own_process(&seen)),
                "the worker has a pid of its own",
            ),
        ),
        (
            "3.4",
            Verdict::from_result(
                parsed.clone().and_then(|p| p.parent(&seen)),
                "the worker's parent is the main process",
            ),
        ),
        (
            "3.5",
            Verdict::from_result(
                check_waits(&seen),
                "the main process reaped its worker, then printed its last line",
            ),
        ),
        ("3.6", snapshot_verdict(PACKAGE, normalized.as_deref())),
    ];
    let (note, witnessed) = witness_note(&seen, PACKAGE);
    QuestionReport { question, verdicts, notes: vec![note], normalized, witnessed: Some(witnessed) }
}

/// The three lines, parsed.
#[derive(Debug, Clone)]
struct Parsed {
    worker: String,
    parent: String,
    finishing_pid: String,
}

impl Parsed {
    fn from(seen: &Observation) -> Result<Parsed, String> {
        let lines = contract_lines(seen)?;
        let expected = [STARTING, FINISHING, EXITING];
        for (i, template) in expected.iter().enumerate() {
            let shown = template.replace("{}", "…");
            match lines.get(i) {
                None => {
                    return Err(format!(
                        "line {} should be \"{shown}\", but stdout ended after {i} lines",
                        i + 1
                    ));
                }
                Some(line) if fields(template, line).is_none() => {
                    return Err(format!("line {} should be \"{shown}\", got {line:?}", i + 1));
                }
                Some(_) => {}
            }
        }
        if let Some(extra) = lines.get(3) {
            return Err(format!(
                "stdout had more than three lines, from {extra:?} on: debug output goes to stderr"
            ));
        }
        let start = fields(STARTING, lines[0]).unwrap_or_default();
        let finish = fields(FINISHING, lines[1]).unwrap_or_default();
        let status = fields(EXITING, lines[2]).unwrap_or_default();
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
        match self.parent.as_str() {
            p if p == main => Ok(()),
            p if orphaned(p) => Err(format!(
                "the worker's parent is {p}, not the main process: it was orphaned (its parent had exited) — the main process must wait for it"
            )),
            p => Err(format!("the worker reports parent {p}, but the main process is {main}")),
        }
    }
}

fn check_waits(seen: &Observation) -> Result<(), String> {
    let lines = contract_lines(seen)?;
    let last = lines.iter().position(|l| fields(EXITING, l).is_some());
    let worker = lines.iter().rposition(|l| fields(STARTING, l).is_some() || fields(FINISHING, l).is_some());
    match (last, worker) {
        (None, _) => Err("the main process's last line \"Main process exiting (…)\" is missing".into()),
        (_, None) => Err("the worker printed nothing, so there is nothing it could have waited for".into()),
        (Some(l), Some(w)) if l < w => {
            Err("the main process's last line came before the worker's: it must wait for the worker first"
                .into())
        }
        _ => unreaped_problem(seen).map_or(Ok(()), Err).and(leftovers_problem(seen).map_or(Ok(()), Err)),
    }
}
