//! `grader batch`: a class graded into a gradebook. The directories given
//! and the roster's repositories (fetched at the deadline) are graded
//! together, with a bar on a terminal, then summed up in a few lines.

use std::process::ExitCode;

use anyhow::{Result, bail};
use grader::classroom::batch::{Batch, Batched, Submission, batch, chosen_by, same_student};
use grader::classroom::gradebook::{CSV_FILE, Row};
use grader::classroom::roster::{Fetch, Student, fetch_all, read_roster, safe_name, unique_names};
use grader::classroom::shard::Shard;
use grader::rubric::Question;

use crate::args::BatchArgs;
use crate::progress::Shown;

pub fn run(args: &BatchArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let settings = args.limits.settings(Question::ALL.to_vec(), true)?;
    let shard = match args.shard {
        Some(shard) => Some(shard),
        None => Shard::from_env(args.shards).map_err(anyhow::Error::msg)?,
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut submissions = Submission::from_dirs(&args.dirs);
    let mut students = match &args.roster {
        Some(roster) => read_roster(roster)?,
        None => Vec::new(),
    };
    check_only(args, &students, &submissions)?;
    if let Some(shard) = shard {
        // Cut from the whole class, the directories and the roster together.
        let all: Vec<String> =
            submissions.iter().map(|s| key(&s.name)).chain(students.iter().map(|s| key(&s.name))).collect();
        let members = shard.members(&all);
        submissions.retain(|s| members.contains(&key(&s.name)));
        students.retain(|s| members.contains(&key(&s.name)));
        eprintln!("shard {shard}: {} of the class's {}", members.len(), all.len());
    }
    if args.fetch_only {
        return Ok(fetched_only(args, &fetch_roster(args, students)));
    }
    submissions.extend(fetch_roster(args, students));
    // Unique over directories and roster together: each names a directory of OUT.
    let names = unique_names(submissions.iter().map(|s| Some(s.name.clone())));
    for (submission, name) in submissions.iter_mut().zip(names) {
        submission.name = name;
    }
    let jobs = args.jobs.unwrap_or(cores).clamp(1, cores.max(1) * 4);
    let (out, only, regrade) = (args.out.clone(), args.only.clone(), args.regrade);
    let taken = args.before.as_ref().map(|deadline| match &args.late {
        Some(late) => format!("at {}, late work: {late}", deadline.utc()),
        None => format!("at {}", deadline.utc()),
    });
    let spec = Batch { settings, submissions, out, jobs, only, shard, regrade, taken };
    let shown = Shown::on_stderr();
    let batched = batch(&spec, |p| shown.show(p))?;
    shown.keep();
    Ok(summary(args, &batched, started.elapsed()))
}

/// A student as shards and `--only` match them.
fn key(name: &str) -> String {
    safe_name(name).to_lowercase()
}

/// Refuses, before anything is fetched or graded, a name of `--only` in
/// neither the roster nor the directories.
fn check_only(args: &BatchArgs, students: &[Student], dirs: &[Submission]) -> Result<()> {
    let (Some(only), Some(_)) = (&args.only, &args.roster) else { return Ok(()) };
    let mut known: Vec<String> = students.iter().map(|s| s.name.clone()).collect();
    known.extend(dirs.iter().map(|s| s.name.clone()));
    let unknown: Vec<&String> = only.iter().filter(|o| !known.iter().any(|k| same_student(o, k))).collect();
    if !unknown.is_empty() {
        bail!(
            "--only names {} not in the roster or the directories given (they name: {})",
            unknown.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "),
            known.join(", ")
        );
    }
    Ok(())
}

/// The roster's students to grade (those of `--only`), fetched.
fn fetch_roster(args: &BatchArgs, students: Vec<Student>) -> Vec<Submission> {
    let students: Vec<_> =
        students.into_iter().filter(|s| chosen_by(args.only.as_deref(), &s.name)).collect();
    if students.is_empty() {
        return Vec::new();
    }
    let cache = args.cache.clone().unwrap_or_else(|| args.out.join(".repositories"));
    let fetch = Fetch { cache, deadline: args.before.clone(), late: args.late, offline: args.offline };
    match (&args.before, &args.late) {
        (Some(deadline), None) => eprintln!(
            "deadline: {deadline} (each repository's last commit at or before it is graded; a student's own, in the roster's deadline column, comes first)"
        ),
        (Some(deadline), Some(late)) => eprintln!(
            "deadline: {deadline}, late work: {late} (each repository's last commit up to {} is graded; a student's own deadline, in the roster's deadline column, comes first)",
            grader::classroom::roster::Deadline { unix: late.limit(deadline.unix), ..deadline.clone() }
        ),
        _ => {}
    }
    let shown = Shown::on_stderr();
    let fetched = fetch_all(&students, &fetch, |p| shown.show(p));
    shown.keep();
    fetched.into_iter().map(Submission::from).collect()
}

/// Says what `--fetch-only` fetched; exit status 1 if a repository could
/// not be.
fn fetched_only(args: &BatchArgs, fetched: &[Submission]) -> ExitCode {
    let failed: Vec<String> =
        fetched.iter().filter_map(|s| s.dir.as_ref().err().map(|why| format!("{}: {why}", s.name))).collect();
    let cache = args.cache.clone().unwrap_or_else(|| args.out.join(".repositories"));
    println!(
        "fetched {} of {} repositories into {} (grade them with --offline)",
        fetched.len() - failed.len(),
        fetched.len(),
        cache.display()
    );
    for line in &failed {
        println!("not fetched, or nothing to grade in it: {line}");
    }
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// Says what the batch did, and returns its exit status: 1 when a
/// submission could not be graded.
fn summary(args: &BatchArgs, batched: &Batched, took: std::time::Duration) -> ExitCode {
    let rows = &batched.rows;
    let graded_now = |row: &&Row| chosen_by(args.only.as_deref(), &row.name);
    let now: Vec<&Row> = rows.iter().filter(graded_now).collect();
    let failed: Vec<&str> = now.iter().filter(|r| r.error.is_some()).map(|r| r.name.as_str()).collect();
    let deadline = args.before.as_ref().map(|d| format!(" at the deadline {d}")).unwrap_or_default();
    let of = if now.len() == rows.len() {
        String::new()
    } else {
        format!(" (of {} in the gradebook)", rows.len())
    };
    let could_not = match failed.len() {
        0 => String::new(),
        n => format!(", {n} could not be graded"),
    };
    let reused = match batched.reused {
        0 => String::new(),
        n => format!(
            ", {n} reused (graded before from the same commit, by the same grader, rubric and limits)"
        ),
    };
    println!(
        "{}{deadline}{of}: {} graded{reused}{could_not}, in {:.1} s; the gradebook: {}",
        plural(now.len(), "submission", "submissions"),
        now.len() - failed.len() - batched.reused,
        took.as_secs_f64(),
        args.out.join(CSV_FILE).display()
    );
    if !failed.is_empty() {
        println!("could not be graded (see the errors column): {}", failed.join(", "));
    }
    // Those whose own deadline (the roster's) is not the batch's.
    let own_deadlines: Vec<String> = now
        .iter()
        .filter(|r| r.deadline.is_some() && r.deadline != args.before.as_ref().map(|d| d.local()))
        .map(|r| format!("{} at {}", r.name, r.deadline.as_deref().unwrap_or_default()))
        .collect();
    if !own_deadlines.is_empty() {
        println!("graded at their own deadline: {}", own_deadlines.join(", "));
    }
    let no_work = now.iter().filter(|r| r.no_work_of_its_own()).count();
    let late = now.iter().filter(|r| r.late_commits() > 0).count();
    if no_work + late > 0 {
        println!(
            "{no_work} with no work of their own, {late} with commits after the deadline (see the notes column)"
        );
    }
    let kept_errors: Vec<&str> =
        rows.iter().filter(|r| r.error.is_some() && !graded_now(r)).map(|r| r.name.as_str()).collect();
    if !kept_errors.is_empty() {
        println!("rows kept from before, with errors: {}", kept_errors.join(", "));
    }
    let open: usize = rows.iter().map(|r| r.open_flags()).sum();
    if open > 0 {
        println!(
            "{} flagged for your review: cargo run -p grader -- review {}",
            plural(open, "answer", "answers"),
            args.out.display()
        );
    }
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
