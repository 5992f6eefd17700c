//! Q6: four processes, each printing a different number.

use std::collections::BTreeMap;

use super::{
    QuestionReport, contract_lines, default_runs, excused, fields, foreign_pid_problem, held_note, judged,
    killed_note, misreport_problem, not_waited_for, outlived_problem, process_count_problem, raced_out,
    reaped, snapshot_verdict, unreaped_problem,
};
use crate::engine::context::Context;
use crate::engine::normalize::normalize;
use crate::engine::run::Observation;
use crate::rubric::{Question, id};

const CHILD_LINE: &str = "Process {} (pid {}) prints {}";
const LAST_LINE: &str = "All 4 processes finished";

pub fn grade(ctx: &Context) -> QuestionReport {
    let question = Question::Q6;
    let runs = match default_runs(ctx, question) {
        Ok(runs) => runs,
        Err(report) => return *report,
    };
    let seen = &runs[0];
    let normalized = seen.stdout_text().ok().map(|text| normalize(text, &["Process "]));
    let verdicts = vec![
        (id("6.1"), judged(&runs, |r| r.problem().map_or(Ok(()), Err), "ran and exited with status 0")),
        (id("6.2"), judged(&runs, check_numbers, "the numbers 1, 2, 3 and 4, one line each")),
        (id("6.3"), judged(&runs, check_own_processes, "four different processes, none of them the parent")),
        (id("6.4"), judged(&runs, check_waits, &reaped(seen, "its last line"))),
        (id("6.5"), excused(judged(&runs, check_no_leftovers, "every process had exited"), seen, id("6.4"))),
        (id("6.6"), snapshot_verdict(question, seen, normalized.as_deref(), id("6.4"))),
    ];
    QuestionReport::of_program(question, verdicts, seen, Vec::new(), normalized)
}

/// The child lines: (line index, k, pid, number printed).
fn child_lines<'a>(lines: &[&'a str]) -> Vec<(usize, &'a str, &'a str, &'a str)> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| fields(CHILD_LINE, line).map(|f| (i, f[0], f[1], f[2])))
        .collect()
}

fn check_numbers(seen: &Observation) -> Result<(), String> {
    let lines = contract_lines(seen)?;
    if let Some(bad) = lines.iter().find(|l| fields(CHILD_LINE, l).is_none() && **l != LAST_LINE) {
        return Err(format!(
            "unexpected line {bad:?}: stdout may only have \"{CHILD_LINE}\" lines and \"{LAST_LINE}\" (debug output goes to stderr)"
        ));
    }
    let children = child_lines(&lines);
    let mut numbers: Vec<&str> = children.iter().map(|c| c.3).collect();
    numbers.sort_by_key(|n| (n.len(), *n));
    if numbers != ["1", "2", "3", "4"] {
        let got = if numbers.is_empty() { "none".to_string() } else { numbers.join(", ") };
        return Err(format!(
            "expected 4 different numbers, 1 to 4, one line each; got {got}{}",
            killed_note(seen)
        ));
    }
    if let Some((_, k, _, n)) = children.iter().find(|(_, k, _, n)| k != n) {
        return Err(format!("the line of process {k} says it prints {n}: process k prints k"));
    }
    Ok(())
}

fn check_own_processes(seen: &Observation) -> Result<(), String> {
    let lines = contract_lines(seen)?;
    let children = child_lines(&lines);
    if children.is_empty() {
        return Err("no \"Process <k> (pid <pid>) prints <k>\" line to check".into());
    }
    let main = seen.pid.to_string();
    // Every line that carries it, in order of k: which came first is the
    // scheduler's.
    let mut theirs: Vec<&str> = children.iter().filter(|c| c.2 == main).map(|c| c.1).collect();
    theirs.sort_by_key(|k| (k.len(), *k));
    if !theirs.is_empty() {
        let whose = match theirs.as_slice() {
            [one] => format!("process {one}'s line carries"),
            many => format!("the lines of processes {} carry", many.join(", ")),
        };
        return Err(format!(
            "{whose} pid {main}, the main process's own pid: each line must come from a child process of its own, with that child's pid (`getpid()` in the child, not its parent's)"
        ));
    }
    let mut by_pid: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (_, k, pid, _) in &children {
        by_pid.entry(pid).or_default().push(k);
    }
    for ks in by_pid.values_mut() {
        ks.sort_by_key(|k| (k.len(), *k));
    }
    // The group of the smallest k: pids, and which is smaller, vary.
    let shared = by_pid.iter().filter(|(_, ks)| ks.len() > 1).min_by_key(|(_, ks)| (ks[0].len(), ks[0]));
    if let Some((pid, ks)) = shared {
        let all = if ks.len() == children.len() { "all" } else { "" };
        return Err(format!(
            "{all} {} lines carry pid {pid} (processes {}): each number needs its own process",
            ks.len(),
            ks.join(", ")
        )
        .trim_start()
        .to_string());
    }
    if let Some((_, k, pid, _)) = children.iter().find(|c| c.2.parse::<u32>().is_err()) {
        return Err(format!("process {k}'s pid {pid:?} is not a number"));
    }
    // What really happened, where the witness watched.
    if let Some(problem) = process_count_problem(seen, 4, "child processes") {
        return Err(problem);
    }
    let printed: Vec<&str> = children.iter().map(|c| c.2).collect();
    if let Some(problem) = foreign_pid_problem(seen, &printed, "a \"Process\" line carries") {
        return Err(problem);
    }
    // Each line from the child it names, as the witness saw it written.
    let claims: Vec<(usize, &str)> = children.iter().map(|c| (c.0, c.2)).collect();
    misreport_problem(seen, &claims).map_or(Ok(()), Err)
}

fn check_waits(seen: &Observation) -> Result<(), String> {
    // Whether the parent waited is a fact of the run, whatever the
    // scheduler did: said first, so it is said every time.
    if let Some(problem) = unreaped_problem(seen) {
        return Err(problem);
    }
    let lines = contract_lines(seen)?;
    let Some(last) = lines.iter().position(|l| *l == LAST_LINE) else {
        return Err(format!("the parent's last line \"{LAST_LINE}\" is missing"));
    };
    let times = lines.iter().filter(|l| **l == LAST_LINE).count();
    if times > 1 {
        return Err(format!(
            "\"{LAST_LINE}\" came {times} times: only the parent prints it, once, after waiting for its four children (does each child leave with _exit after its line, or does it go on with the parent's code?)"
        ));
    }
    let mut late: Vec<&str> = child_lines(&lines).into_iter().filter(|c| c.0 > last).map(|c| c.1).collect();
    late.sort_by_key(|k| (k.len(), *k));
    if !late.is_empty() {
        let whose = match late.as_slice() {
            [one] => format!("process {one}'s line"),
            many => format!("the lines of processes {}", many.join(", ")),
        };
        return Err(format!(
            "the last line came before {whose}{}: the parent must wait for its children before printing it",
            held_note(seen)
        ));
    }
    if last + 1 != lines.len() {
        return Err(format!("\"{LAST_LINE}\" must be the last line; stdout went on after it"));
    }
    if let Ok(witness) = &seen.witness
        && let Some(main_end) = witness.main().and_then(|m| m.ended)
        && let Some(late) = witness
            .children()
            .iter()
            .filter(|c| c.parent == Some(seen.pid))
            .find(|c| c.ended.is_none_or(|end| end > main_end))
    {
        return Err(format!(
            "process {} ended after the parent: the parent must wait for all four",
            late.pid
        ));
    }
    Ok(())
}

fn check_no_leftovers(seen: &Observation) -> Result<(), String> {
    // Children the parent never waited for are 6.4's: one mistake, one loss.
    let mut excused = not_waited_for(seen);
    excused.extend(raced_out(seen));
    if let Some(problem) = outlived_problem(seen, &excused) {
        return Err(problem);
    }
    if child_lines(&contract_lines(seen)?).is_empty() {
        return Err(format!("nothing to check: no child process printed its line (see {})", id("6.2")));
    }
    Ok(())
}
