//! Q5: a pool of worker processes.
//!
//! Besides the default run, the program is run on numbers drawn at random
//! (so output cannot be hard-coded), on edge cases, and with bad arguments.

use std::collections::BTreeSet;

use super::{
    QuestionReport, Verdict, contract_lines, default_run, fields, foreign_pid_problem, leftovers_problem,
    process_count_problem, snapshot_verdict, witness_note,
};
use crate::grade::{Context, Rng, SEED_ENV};
use crate::normalize::normalize;
use crate::rubric::Question;
use crate::run::{Exit, Observation};

const PACKAGE: &str = "q5_pool";
const WORKER_LINE: &str = "Worker pid {} squared {} = {}";
const DEFAULT_NUMBERS: [i64; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 9];

/// One run: its arguments and what a right program does with them.
#[derive(Debug, Clone)]
struct Case {
    args: Vec<String>,
    workers: usize,
    numbers: Vec<i64>,
}

impl Case {
    fn new(args: &[&str], workers: usize, numbers: &[i64]) -> Case {
        Case { args: args.iter().map(|s| s.to_string()).collect(), workers, numbers: numbers.to_vec() }
    }

    /// Random numbers and workers; `crowded` makes sure there are more
    /// numbers than workers, so a process per number shows.
    fn random(rng: &mut Rng, crowded: bool) -> Case {
        let workers = rng.range(1, if crowded { 4 } else { 6 }) as usize;
        let count = rng.range(if crowded { 5 } else { 1 }, 12) as usize;
        let numbers: Vec<i64> = (0..count)
            .map(|_| {
                if rng.range(0, 3) == 0 {
                    rng.range(-4_000_000_000, 4_000_000_000)
                } else {
                    rng.range(-999, 999)
                }
            })
            .collect();
        let mut args = vec!["--workers".to_string(), workers.to_string(), "--".to_string()];
        args.extend(numbers.iter().map(i64::to_string));
        Case { args, workers, numbers }
    }
}

fn edge_cases() -> Vec<Case> {
    vec![
        Case::new(&["--workers", "1", "7"], 1, &[7]),
        Case::new(&["--", "-5", "0", "-3037000500"], 4, &[-5, 0, -3_037_000_500]),
        Case::new(&["3037000500"], 4, &[3_037_000_500]),
        Case::new(&["--workers", "8", "2", "3"], 8, &[2, 3]),
    ]
}

const BAD_ARGUMENTS: &[&[&str]] = &[&["abc"], &["--workers", "0"], &["--workers"], &["--bogus"]];

pub fn grade(ctx: &Context) -> QuestionReport {
    let question = Question::Q5;
    let mut notes = vec![format!(
        "random inputs drawn with seed {}; to replay them: {SEED_ENV}={} cargo run -p grader",
        ctx.seed, ctx.seed
    )];
    let default_case = Case::new(&[], 4, &DEFAULT_NUMBERS);
    let (binary, seen) = match default_run(ctx, question, PACKAGE, &notes) {
        Ok(ran) => ran,
        Err(report) => return report,
    };
    let run = |args: &[String]| ctx.run(&binary, args);
    let normalized = seen.stdout_text().ok().map(|text| normalize(text, &["Worker pid "]));
    let mut all_runs = vec![seen.clone()];

    // A program that hangs would cost a time-out per run: stop after one.
    let more = if seen.timed_out() {
        let skipped = Err("skipped: the default run did not finish (see 5.1)".to_string());
        [skipped.clone(), skipped.clone(), skipped]
    } else {
        let mut rng = Rng::new(ctx.seed);
        let random: Vec<Case> = [true, true, false].map(|crowded| Case::random(&mut rng, crowded)).to_vec();
        let mut runs = Vec::new();
        let random_result = check_cases(&random, &run, &mut runs);
        let edge_result = check_cases(&edge_cases(), &run, &mut runs);
        let bad_result = check_bad_arguments(&run, &mut runs);
        all_runs.extend(runs);
        [random_result, edge_result, bad_result]
    };
    let [random, edge, bad] = more;
    let leftovers = match check_worker_lines(&seen, &default_case) {
        Err(_) if seen.finished() => {
            Err("nothing to check: the default run printed no worker line, so no worker was seen (see 5.2)"
                .into())
        }
        _ => all_runs.iter().find_map(leftovers_problem).map_or(Ok(()), Err),
    };
    let verdicts = vec![
        ("5.1", Verdict::from_result(seen.problem().map_or(Ok(()), Err), "ran and exited with status 0")),
        (
            "5.2",
            Verdict::from_result(
                check_worker_lines(&seen, &default_case).map(|_| ()),
                "one right worker line per number",
            ),
        ),
        (
            "5.3",
            Verdict::from_result(check_results(&seen, &default_case), "Results came last, in input order"),
        ),
        (
            "5.4",
            Verdict::from_result(
                check_pool(&seen, &default_case),
                "at most 4 worker processes did all 9 numbers",
            ),
        ),
        ("5.5", Verdict::from_result(random, "right for 3 runs on random numbers")),
        ("5.6", Verdict::from_result(edge, "right for every edge case")),
        ("5.7", Verdict::from_result(bad, "every bad argument was refused with status 2")),
        ("5.8", Verdict::from_result(leftovers, "every process had exited in every run")),
        ("5.9", snapshot_verdict(PACKAGE, normalized.as_deref())),
    ];
    let (note, witnessed) = witness_note(&seen, PACKAGE);
    notes.push(note);
    QuestionReport { question, verdicts, notes, normalized, witnessed: Some(witnessed) }
}

/// Runs each case and checks all of its output; the first failure is the message.
fn check_cases(
    cases: &[Case],
    run: &dyn Fn(&[String]) -> Result<Observation, String>,
    runs: &mut Vec<Observation>,
) -> Result<(), String> {
    for case in cases {
        let seen = run(&case.args)?;
        let result = seen
            .problem()
            .map_or(Ok(()), Err)
            .and_then(|()| check_worker_lines(&seen, case).map(|_| ()))
            .and_then(|()| check_results(&seen, case))
            .and_then(|()| check_pool(&seen, case));
        runs.push(seen.clone());
        result.map_err(|message| format!("`{}`: {message}", seen.command))?;
    }
    Ok(())
}

fn check_bad_arguments(
    run: &dyn Fn(&[String]) -> Result<Observation, String>,
    runs: &mut Vec<Observation>,
) -> Result<(), String> {
    for args in BAD_ARGUMENTS {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let seen = run(&args)?;
        runs.push(seen.clone());
        let cmd = &seen.command;
        if !seen.finished() {
            return Err(seen.problem().unwrap_or_default());
        }
        if seen.exit != Exit::Code(2) {
            return Err(format!("`{cmd}` {}: bad arguments must give exit status 2", seen.exit.phrase()));
        }
        if !seen.stdout.is_empty() {
            let text = String::from_utf8_lossy(&seen.stdout);
            let first = text.lines().next().unwrap_or_default();
            return Err(format!(
                "`{cmd}` printed {first:?} to stdout: on bad arguments stdout must stay empty"
            ));
        }
        let stderr = String::from_utf8_lossy(&seen.stderr);
        let lines = stderr.lines().filter(|l| !l.trim().is_empty()).count();
        if lines != 1 {
            return Err(format!(
                "`{cmd}` wrote {lines} lines to stderr: expected a one-line message naming the problem"
            ));
        }
    }
    Ok(())
}

/// The header and worker lines; returns the pids the worker lines carry.
fn check_worker_lines(seen: &Observation, case: &Case) -> Result<Vec<String>, String> {
    let lines = contract_lines(seen)?;
    let header = format!("Pool of {} worker processes", case.workers);
    if lines[0] != header {
        return Err(format!("the first line should be {header:?}, got {:?}", lines[0]));
    }
    let mut expected: Vec<i64> = case.numbers.clone();
    let mut pids = Vec::new();
    for line in &lines[1..] {
        if line.starts_with("Results: ") {
            continue;
        }
        let Some(f) = fields(WORKER_LINE, line) else {
            return Err(format!(
                "unexpected line {line:?}: stdout may only have the header, \"Worker pid <pid> squared <x> = <x*x>\" lines and the Results line"
            ));
        };
        let x: i64 =
            f[1].parse().map_err(|_| format!("in {line:?}, {:?} is not one of the numbers", f[1]))?;
        let square = i128::from(x) * i128::from(x);
        if f[2] != square.to_string() {
            return Err(format!("{line:?}: {x} squared is {square}, not {}", f[2]));
        }
        match expected.iter().position(|&n| n == x) {
            Some(i) => {
                expected.swap_remove(i);
            }
            None => {
                return Err(format!("{line:?}: {x} was squared more often than it was given"));
            }
        }
        pids.push(f[0].to_string());
    }
    if let Some(missing) = expected.first() {
        return Err(format!(
            "no worker line for the number {missing}: each number gets a \"Worker pid …\" line from the worker that squared it"
        ));
    }
    Ok(pids)
}

fn check_results(seen: &Observation, case: &Case) -> Result<(), String> {
    let lines = contract_lines(seen)?;
    let Some(at) = lines.iter().position(|l| l.starts_with("Results: ")) else {
        return Err("the \"Results: [...]\" line is missing".into());
    };
    if at + 1 != lines.len() {
        return Err(format!("stdout had text after the Results line: {:?}", lines[at + 1]));
    }
    let expected: Vec<String> =
        case.numbers.iter().map(|&x| (i128::from(x) * i128::from(x)).to_string()).collect();
    let want = format!("Results: [{}]", expected.join(", "));
    if lines[at] == want {
        return Ok(());
    }
    let got: Vec<String> = lines[at]
        .trim_start_matches("Results: ")
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let (mut sorted_got, mut sorted_want) = (got.clone(), expected.clone());
    sorted_got.sort();
    sorted_want.sort();
    if sorted_got == sorted_want {
        Err(format!("Results are not in input order: expected {want:?}, got {:?}", lines[at]))
    } else {
        Err(format!("expected {want:?}, got {:?}", lines[at]))
    }
}

fn check_pool(seen: &Observation, case: &Case) -> Result<(), String> {
    let pids = check_worker_lines(seen, case)?;
    let main = seen.pid.to_string();
    if pids.contains(&main) {
        return Err(format!(
            "a worker line carries pid {main}, the main process's own: the squaring must happen in worker processes"
        ));
    }
    let distinct: BTreeSet<&String> = pids.iter().collect();
    if distinct.len() > case.workers {
        let per_number = if distinct.len() == case.numbers.len() { ", one per number" } else { "" };
        return Err(format!(
            "{} different worker pids for {} workers{per_number}: a pool starts its workers once and reuses them",
            distinct.len(),
            case.workers
        ));
    }
    // What really happened, where the witness watched: exactly N worker
    // processes (threads do not count), and the printed pids are theirs.
    let workers = format!("worker processes for {} workers", case.workers);
    if let Some(problem) = process_count_problem(seen, case.workers, &workers) {
        return Err(problem);
    }
    let printed: Vec<&str> = pids.iter().map(String::as_str).collect();
    foreign_pid_problem(seen, &printed, "a worker line carries").map_or(Ok(()), Err)
}
