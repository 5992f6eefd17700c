//! Q5: a pool of worker processes.
//!
//! Besides the default run, the program is run on numbers drawn at random
//! (so output cannot be hard-coded), on edge cases, with bad arguments, and
//! on more numbers than the pipes between a pool and its workers hold (a
//! pool that sends every task before it reads any result deadlocks there).
//! Each run is judged for its output; whether it was a pool is judged once,
//! over all of them, by 5.4.

use std::collections::BTreeSet;

use super::{
    QuestionReport, Verdict, contract_lines, default_run, fields, foreign_pid_problem, leftovers_problem,
    misreport_problem, package, process_count_problem, snapshot_verdict,
};
use crate::engine::context::{Context, Rng, SEED_ENV};
use crate::engine::normalize::normalize;
use crate::engine::run::{Exit, Observation};
use crate::rubric::{Question, id};

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

/// The workers of the large input.
const LARGE_WORKERS: usize = 3;
/// What the pipes between a pool and its workers can hold before a pool
/// that writes every task before reading any result deadlocks: a task pipe
/// and a result pipe per worker (the most a pool has), each 64 KiB (Linux's
/// default), and a buffered reader and writer of 8 KiB at each end.
const POOL_CAPACITY: usize = LARGE_WORKERS * (2 * 64 + 3 * 8) * 1024;
/// The fewest bytes a task and its result take in any encoding, for the
/// numbers of the large input (18 digits): the number, 8 bytes in binary,
/// and its square, 15 (it needs 120 bits).
const FEWEST_BYTES_PER_TASK: usize = 8 + 15;
/// More numbers than the pipes hold in any encoding, half again: 31000.
const LARGE: usize = (POOL_CAPACITY / FEWEST_BYTES_PER_TASK * 3 / 2).next_multiple_of(1000);
/// The time the large input may take.
const LARGE_TIMEOUT_MS: u64 = 15_000;
/// The output of the large input: a worker line of 80-odd bytes per
/// number and their squares on the Results line, 4 MiB; four times that,
/// for the writes it allows (a line may take a few).
const LARGE_OUTPUT_CAP: usize = 16 << 20;

fn large_case() -> Case {
    // 18 digits each (their squares need an `i128`), both signs; neither
    // ascending nor descending (7919 is prime, and no factor of LARGE):
    // results in any other order than the input's show.
    let numbers: Vec<i64> = (0..LARGE as i64)
        .map(|i| {
            let k = i * 7919 % LARGE as i64;
            let magnitude = 100_000_000_000_000_000 + k * 29_999_999_999_989;
            if k % 2 == 0 { magnitude } else { -magnitude }
        })
        .collect();
    let mut args = vec!["--workers".to_string(), LARGE_WORKERS.to_string(), "--".to_string()];
    args.extend(numbers.iter().map(i64::to_string));
    Case { args, workers: LARGE_WORKERS, numbers }
}

pub fn grade(ctx: &Context) -> QuestionReport {
    let question = Question::Q5;
    let notes = vec![format!(
        "random inputs drawn with seed {}; to replay them: {SEED_ENV}={} cargo run -p grader",
        ctx.settings.seed, ctx.settings.seed
    )];
    let default_case = Case::new(&[], 4, &DEFAULT_NUMBERS);
    let (binary, seen) = match default_run(ctx, question, &notes) {
        Ok(ran) => ran,
        Err(report) => return *report,
    };
    let run = |args: &[String]| ctx.run(&binary, args);
    let normalized = seen.stdout_text().ok().map(|text| normalize(text, &["Worker pid "]));
    let mut all_runs = vec![seen.clone()];

    let mut cases = vec![(seen.clone(), default_case.clone())];
    // Bad arguments are refused before any pool starts (by the given
    // args.rs): checked whatever the default run did.
    let mut bad_runs = Vec::new();
    let bad = check_bad_arguments(&run, &mut bad_runs);
    // They start no pool: they speak for 5.8 only beside runs that did.
    if !seen.timed_out() {
        all_runs.extend(bad_runs);
    }
    // A program that hangs would cost a time-out per run: stop after one.
    let [random, edge, large] = if seen.timed_out() {
        let skipped = Err(format!("skipped: the default run did not finish (see {})", id("5.1")));
        [skipped.clone(), skipped.clone(), skipped]
    } else {
        more_runs(ctx, &binary, &mut cases)
    };
    all_runs.extend(cases.iter().skip(1).map(|(seen, _)| seen.clone()));
    let pool = pool_problem(&cases).map_or(Ok(()), Err);
    let leftovers = leftovers_verdict(&seen, &all_runs, &default_case);
    let verdicts = vec![
        (id("5.1"), Verdict::from_result(seen.problem().map_or(Ok(()), Err), "ran and exited with status 0")),
        (
            id("5.2"),
            Verdict::from_result(
                check_worker_lines(&seen, &default_case).map(|_| ()),
                "one right worker line per number",
            ),
        ),
        (
            id("5.3"),
            Verdict::from_result(check_results(&seen, &default_case), "Results came last, in input order"),
        ),
        (
            id("5.4"),
            Verdict::from_result(pool, "in every run, at most N worker processes did all the numbers"),
        ),
        (id("5.5"), Verdict::from_result(random, "right for 3 runs on random numbers")),
        (id("5.6"), Verdict::from_result(edge, "right for every edge case")),
        (id("5.7"), Verdict::from_result(bad, "every bad argument was refused with status 2")),
        (id("5.8"), Verdict::from_result(leftovers, "every process had exited in every run")),
        (id("5.9"), snapshot_verdict(question, &seen, normalized.as_deref(), id("5.3"))),
        (
            id("5.10"),
            Verdict::from_result(large, &format!("right for {LARGE} numbers on {LARGE_WORKERS} workers")),
        ),
    ];
    QuestionReport::of_program(question, verdicts, &seen, notes, normalized)
}

/// The runs after the default one: three on random numbers, the edge
/// cases, and the large input (with its own time and output limits). Each
/// run is added to `cases`; returns the verdicts of 5.5, 5.6 and 5.10.
fn more_runs(
    ctx: &Context,
    binary: &std::path::Path,
    cases: &mut Vec<(Observation, Case)>,
) -> [Result<(), String>; 3] {
    let run = |args: &[String]| ctx.run(binary, args);
    let mut rng = Rng::new(ctx.settings.seed);
    let random: Vec<Case> = [true, true, false].map(|crowded| Case::random(&mut rng, crowded)).to_vec();
    let random_result = check_cases(&random, &run, cases);
    let edge_result = check_cases(&edge_cases(), &run, cases);
    let large = large_case();
    let mut limits = ctx.settings.limits;
    limits.timeout_ms = limits.timeout_ms.max(LARGE_TIMEOUT_MS);
    limits.output_cap = limits.output_cap.max(LARGE_OUTPUT_CAP);
    let large_result = ctx.run_with(binary, &large.args, limits).and_then(|seen| {
        let result = check_large(&seen, &large);
        cases.push((seen, large));
        result
    });
    [random_result, edge_result, large_result]
}

/// Whether it is a pool, judged once, over every run: the first run's
/// problem, naming the run unless it is the default one.
fn pool_problem(cases: &[(Observation, Case)]) -> Option<String> {
    cases.iter().find_map(|(seen, case)| {
        check_pool(seen, case).err().map(|m| match seen.command == default_case_command() {
            true => m,
            false => format!("`{}`: {m}", seen.command),
        })
    })
}

/// 5.8: every process had exited, in every run that ended by itself (a
/// run the supervisor had to stop is judged by the check that stopped it).
fn leftovers_verdict(
    seen: &Observation,
    all_runs: &[Observation],
    default_case: &Case,
) -> Result<(), String> {
    match check_worker_lines(seen, default_case) {
        Err(_) if seen.finished() => Err(format!(
            "nothing to check: the default run printed no worker line, so no worker was seen (see {})",
            id("5.2")
        )),
        _ => match all_runs.iter().filter(|r| r.finished()).find_map(leftovers_problem) {
            None if all_runs.iter().all(|r| !r.finished()) => leftovers_problem(seen).map_or(Ok(()), Err),
            found => found.map_or(Ok(()), Err),
        },
    }
}

/// Runs each case and checks its output; the first failure is the message.
/// Each run is kept (with its case), for 5.4 to judge whether it was a pool.
fn check_cases(
    cases: &[Case],
    run: &dyn Fn(&[String]) -> Result<Observation, String>,
    runs: &mut Vec<(Observation, Case)>,
) -> Result<(), String> {
    for case in cases {
        let seen = run(&case.args)?;
        let result = check_output(&seen, case);
        runs.push((seen.clone(), case.clone()));
        result.map_err(|message| format!("`{}`: {message}", seen.command))?;
    }
    Ok(())
}

/// The run ended well, with a right line for every number and the results.
fn check_output(seen: &Observation, case: &Case) -> Result<(), String> {
    seen.problem()
        .map_or(Ok(()), Err)
        .and_then(|()| check_worker_lines(seen, case).map(|_| ()))
        .and_then(|()| check_results(seen, case))
}

/// The large input: as any case, but a hang there is named for what it
/// most likely is.
fn check_large(seen: &Observation, case: &Case) -> Result<(), String> {
    let cmd = &seen.command;
    if seen.timed_out() {
        return Err(format!(
            "`{cmd}` ({LARGE} numbers, {LARGE_WORKERS} workers) did not finish within {} s: a deadlock? A pool that writes every task before it reads any result stops once the pipes are full (a pipe holds 64 KiB; these tasks outgrow a pool's pipes in any encoding): the workers wait to write results nobody reads, the pool waits to write tasks nobody takes. Read results while tasks are still being sent (another thread, or a few tasks at a time).{}",
            seen.limits.timeout_ms / 1000,
            seen.where_blocked()
        ));
    }
    check_output(seen, case).map_err(|message| format!("`{cmd}` ({LARGE} numbers): {message}"))
}

/// The default run's command line, as messages show it.
fn default_case_command() -> String {
    package(Question::Q5).to_string()
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
    // How often each number is still to be seen.
    let mut expected: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for &n in &case.numbers {
        *expected.entry(n).or_default() += 1;
    }
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
        match expected.get_mut(&x) {
            Some(left) if *left > 0 => *left -= 1,
            _ => return Err(format!("{line:?}: {x} was squared more often than it was given")),
        }
        pids.push(f[0].to_string());
    }
    if let Some(missing) = case.numbers.iter().find(|n| expected.get(n).is_some_and(|&left| left > 0)) {
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

/// Whether the run was a pool: judged on the worker lines it printed, even
/// if it did not print them all (that is 5.2's, or its case's, to say), and
/// on what the witness saw.
fn check_pool(seen: &Observation, case: &Case) -> Result<(), String> {
    let text = String::from_utf8_lossy(&seen.stdout);
    let pids: Vec<String> =
        text.lines().filter_map(|l| fields(WORKER_LINE, l)).map(|f| f[0].to_string()).collect();
    if pids.is_empty() {
        return Err(check_worker_lines(seen, case).err().unwrap_or_else(|| "no worker line to check".into()));
    }
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
    if let Some(problem) = foreign_pid_problem(seen, &printed, "a worker line carries") {
        return Err(problem);
    }
    // Each worker line from the worker it names, as the witness saw it.
    let claims: Vec<(usize, &str)> =
        text.lines().enumerate().filter_map(|(i, l)| fields(WORKER_LINE, l).map(|f| (i, f[0]))).collect();
    if let Some(problem) = misreport_problem(seen, &claims) {
        return Err(problem);
    }
    if case.numbers.len() >= LARGE { idle_workers(seen, &claims).map_or(Ok(()), Err) } else { Ok(()) }
}

/// Where the witness saw who wrote each line, on the large input: the
/// message for a pool some of whose workers did nothing. With thousands of
/// tasks on a queue, every worker takes some, however the scheduler runs
/// them; a pool that hands every task to one worker does not share them.
fn idle_workers(seen: &Observation, claims: &[(usize, &str)]) -> Option<String> {
    let witness = seen.witness.as_ref().ok()?;
    let authors = witness.authors.as_ref().ok()?;
    let workers = witness.children();
    let done = |pid: i32| {
        claims.iter().filter(|(line, _)| authors.of(*line).is_some_and(|a| a.origin() == pid)).count()
    };
    let counts: Vec<usize> = workers.iter().map(|w| done(w.pid)).collect();
    if counts.iter().all(|&n| n > 0) {
        return None;
    }
    let said: Vec<String> = workers
        .iter()
        .zip(&counts)
        .enumerate()
        .map(|(i, (w, &n))| match n {
            0 => format!("worker {} (pid {}) none", i + 1, w.pid),
            n if n == claims.len() => format!("worker {} (pid {}) squared all {n} numbers", i + 1, w.pid),
            n => format!("worker {} (pid {}) {n}", i + 1, w.pid),
        })
        .collect();
    Some(format!(
        "the workers did not share the {} tasks: {}. A pool's workers all take tasks from its queue: does every task go to the same worker (a new iterator, or a counter, per task)?",
        claims.len(),
        said.join("; ")
    ))
}
