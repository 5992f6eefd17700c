//! The checks, one module per question. Each turns what was observed into a
//! [`Verdict`] for every check of its question in the [rubric](crate::rubric);
//! points are given out later, by [`score`](crate::grading::score).

pub mod answers;
pub mod flag;
pub mod q3;
pub mod q5;
pub mod q6;
pub mod written;

use predicates::prelude::*;

use crate::engine::context::Context;
use crate::engine::run::{Observation, Schedule};
use crate::rubric::CheckId;
use crate::rubric::Question;
use crate::supervisor::protocol::Author;

/// The outcome of one check: the fraction of its points earned, and what to
/// tell the student.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// From 0.0 to 1.0; 1.0 is a pass.
    pub fraction: f64,
    pub message: String,
    /// `false`: the check could not be judged, for a mistake another check
    /// counts (one mistake, one loss): it keeps its points, and says so.
    pub judged: bool,
}

impl Verdict {
    pub fn pass(message: impl Into<String>) -> Verdict {
        Verdict { fraction: 1.0, message: message.into(), judged: true }
    }

    pub fn fail(message: impl Into<String>) -> Verdict {
        Verdict { fraction: 0.0, message: message.into(), judged: true }
    }

    /// Not judged, for a mistake another check counts: its points are kept.
    pub fn not_judged(message: impl Into<String>) -> Verdict {
        Verdict { fraction: 1.0, message: message.into(), judged: false }
    }

    pub fn partial(got: usize, of: usize, message: impl Into<String>) -> Verdict {
        let fraction = if of == 0 { 0.0 } else { got as f64 / of as f64 };
        Verdict { fraction, message: message.into(), judged: true }
    }

    pub fn passed(&self) -> bool {
        self.fraction >= 1.0
    }

    /// Pass with `ok` when `result` is `Ok`, fail with its message otherwise.
    pub fn from_result(result: Result<(), String>, ok: &str) -> Verdict {
        match result {
            Ok(()) => Verdict::pass(ok),
            Err(message) => Verdict::fail(message),
        }
    }
}

/// What grading one question produced.
#[derive(Debug, Clone)]
pub struct QuestionReport {
    pub question: Question,
    /// A verdict for each check id of the question.
    pub verdicts: Vec<(CheckId, Verdict)>,
    /// Things worth saying that are not checks (a seed, how to reproduce).
    pub notes: Vec<String>,
    /// The normalized output of the default run, for the snapshot test.
    pub normalized: Option<String>,
    /// Whether the process checks were verified by the witness (`None`: no
    /// program was run).
    pub witnessed: Option<bool>,
    /// Why the instructor should look at this question's mark, if they
    /// should (a written answer that looks gamed, or holds a misconception).
    pub review: Vec<flag::Flag>,
    /// A written answer's text, as read.
    pub answer: Option<String>,
    /// Whether the student has started on it: `false` while the file still
    /// holds the prompt, or the program stops at its first `todo!()`.
    pub attempted: bool,
    /// For a written answer whose concepts fall short: what to think about
    /// next, most pressing first (the nudges of the concepts it misses).
    pub nudges: Vec<String>,
}

impl QuestionReport {
    /// Every check failed with one message: the program did not build, or
    /// could not be run.
    pub fn failed(question: Question, message: &str, notes: Vec<String>) -> QuestionReport {
        QuestionReport {
            question,
            verdicts: fail_all(question, message),
            notes,
            normalized: None,
            witnessed: None,
            review: Vec::new(),
            answer: None,
            attempted: true,
            nudges: Vec::new(),
        }
    }

    /// Every check failed because the student has not started yet: the
    /// scorecard says so in one line.
    pub fn not_attempted(question: Question, message: &str, notes: Vec<String>) -> QuestionReport {
        QuestionReport { attempted: false, ..QuestionReport::failed(question, message, notes) }
    }
}

impl QuestionReport {
    /// The report of a programming question: its verdicts, `notes`, then
    /// what the witness saw of `seen` (its default run).
    pub fn of_program(
        question: Question,
        verdicts: Vec<(CheckId, Verdict)>,
        seen: &Observation,
        mut notes: Vec<String>,
        normalized: Option<String>,
    ) -> QuestionReport {
        let (note, witnessed) = witness_note(seen, package(question));
        notes.push(note);
        QuestionReport {
            question,
            verdicts,
            notes,
            normalized,
            witnessed: Some(witnessed),
            review: Vec::new(),
            answer: None,
            attempted: true,
            nudges: Vec::new(),
        }
    }
}

/// Grades one question. Work found under another name is flagged for the
/// instructor, who may well take it: it is the easiest mark to set right.
pub fn grade(ctx: &Context, question: Question) -> QuestionReport {
    // Every question by name: a new one does not compile until it is
    // dispatched here.
    let mut report = match question {
        Question::Q1 | Question::Q2 | Question::Q4 => answers::grade(ctx, question),
        Question::Q3 => q3::grade(ctx),
        Question::Q5 => q5::grade(ctx),
        Question::Q6 => q6::grade(ctx),
    };
    if let Some(missing) = ctx.missing.get(question.location()).filter(|m| m.contains("found `")) {
        report.review.push(flag::Flag::Renamed { said: missing.clone() });
    }
    report
}

/// Matches `line` against a template where each `{}` stands for a word with
/// no spaces (a number, a pid), and returns those words.
///
/// ```
/// use grader::checks::fields;
/// assert_eq!(fields("Process {} (pid {}) prints {}", "Process 1 (pid 42) prints 1"), Some(vec!["1", "42", "1"]));
/// assert_eq!(fields("Process {} (pid {}) prints {}", "Process 1 prints 1"), None);
/// ```
pub fn fields<'a>(template: &str, line: &'a str) -> Option<Vec<&'a str>> {
    let mut parts = template.split("{}");
    let mut rest = line.strip_prefix(parts.next().unwrap_or(""))?;
    let mut found = Vec::new();
    let literals: Vec<&str> = parts.collect();
    for (i, literal) in literals.iter().enumerate() {
        let last = i + 1 == literals.len();
        let end = if literal.is_empty() && last {
            rest.len()
        } else if literal.is_empty() {
            return None; // two `{}` in a row: ambiguous, not used
        } else {
            rest.find(literal)?
        };
        let field = &rest[..end];
        if field.is_empty() || field.contains(char::is_whitespace) {
            return None;
        }
        found.push(field);
        rest = &rest[end + literal.len()..];
        if last && !rest.is_empty() {
            return None;
        }
    }
    Some(found)
}

/// Stdout as lines, or why it cannot be read as the contract's lines: not
/// UTF-8, empty, or a last line without its `\n`.
pub fn contract_lines(seen: &Observation) -> Result<Vec<&str>, String> {
    let text = seen.stdout_text()?;
    if predicate::str::is_empty().eval(text.trim()) {
        return Err(format!("`{}` printed nothing to stdout{}", seen.command, seen.stderr_hint()));
    }
    // Output cut at the cap ends mid-line: drop the partial line.
    if seen.stdout_truncated {
        let whole = text.rsplit_once('\n').map_or("", |(whole, _)| whole);
        return Ok(whole.lines().collect());
    }
    if !predicate::str::ends_with("\n").eval(text) {
        let last = text.lines().last().unwrap_or_default();
        return Err(format!("the last line, {last:?}, does not end with a newline (\\n): every line must"));
    }
    Ok(text.lines().map(|l| l.strip_suffix('\r').unwrap_or(l)).collect())
}

/// The message for processes that outlived the program, if any did.
pub fn leftovers_problem(seen: &Observation) -> Option<String> {
    outlived_problem(seen, &[])
}

/// The message for processes that outlived the program, other than
/// `excused` (children of the main process it never waited for, which the
/// wait check counts), if any did.
pub fn outlived_problem(seen: &Observation, excused: &[i32]) -> Option<String> {
    if !seen.finished() {
        return Some(
            "could not be checked: the program did not finish by itself and was killed (see the first check)"
                .into(),
        );
    }
    let Some(leftovers) = &seen.leftovers else {
        return Some(format!(
            "could not be checked here: watching for leftover processes needs Linux (this is {}); grading runs on Linux",
            std::env::consts::OS
        ));
    };
    let running: Vec<String> = leftovers
        .iter()
        .filter(|l| l.running && !excused.contains(&l.pid))
        .map(|l| format!("{} ({})", l.pid, l.name))
        .collect();
    if running.is_empty() {
        return None;
    }
    let killed = seen.killed_after_exit.iter().filter(|k| !excused.contains(&k.pid)).count();
    let later = crate::engine::run::AFTER_EXIT_MS / 1000;
    let end = match (killed, running.len()) {
        (0, 1) => "it ended on its own soon after".to_string(),
        (0, _) => "they ended on their own soon after".to_string(),
        (1, 1) => format!("still running {later} s later, it was killed by the grader"),
        (k, n) if k == n => format!("still running {later} s later, they were killed by the grader"),
        (k, _) => format!("{k} of them, still running {later} s later, were killed by the grader"),
    };
    Some(format!(
        "{} still running after the program exited ({end}): every process the program starts must have exited first",
        processes(&running)
    ))
}

/// "process 7 was" or "processes 7, 8 were".
fn processes(pids: &[String]) -> String {
    match pids {
        [one] => format!("process {one} was"),
        many => format!("processes {} were", many.join(", ")),
    }
}

/// In a run as the scheduler takes it (the second of [`default_runs`]):
/// the processes left behind that ended on their own soon after the program
/// exited. Whether one was quick enough is the scheduler's, not the
/// program's: the held run, which runs first, settles what was left behind,
/// the same way every time; here only what had to be killed counts.
pub fn raced_out(seen: &Observation) -> Vec<i32> {
    if seen.schedule != Schedule::AsItComes {
        return Vec::new();
    }
    let killed: Vec<i32> = seen.killed_after_exit.iter().map(|k| k.pid).collect();
    seen.leftovers.iter().flatten().filter(|l| l.running && !killed.contains(&l.pid)).map(|l| l.pid).collect()
}

/// The children of the main process that it never waited for: still
/// running when it exited, or exited but never reaped. With the witness,
/// only the main process's own children; without it, every leftover.
pub fn not_waited_for(seen: &Observation) -> Vec<i32> {
    let own: Option<Vec<i32>> = seen
        .witness
        .as_ref()
        .ok()
        .map(|w| w.children().iter().filter(|c| c.parent == Some(seen.pid)).map(|c| c.pid).collect());
    seen.leftovers
        .iter()
        .flatten()
        .map(|l| l.pid)
        .filter(|pid| own.as_ref().is_none_or(|own| own.contains(pid)))
        .collect()
}

/// The message for children the main process never waited for (still
/// running when it exited, or exited but never reaped): the same words
/// whichever it was, for that is the scheduler's choice.
pub fn unreaped_problem(seen: &Observation) -> Option<String> {
    // Killed by the grader, it had no chance to wait: the first check says
    // why it was stopped.
    if !seen.finished() {
        return None;
    }
    let pids: Vec<String> = not_waited_for(seen).iter().map(i32::to_string).collect();
    (!pids.is_empty()).then(|| {
        let them = if pids.len() == 1 { "it" } else { "them" };
        format!(
            "the main process never waited for its child {}: it must wait for each child (waitpid, or Child::wait) before it exits, or nothing makes {them} finish first",
            match pids.as_slice() {
                [one] => format!("process {one}"),
                many => format!("processes {}", many.join(", ")),
            }
        )
    })
}

/// What to add to a message about missing output when the grader killed
/// processes the program left running: their lines may never have come.
pub fn killed_note(seen: &Observation) -> String {
    let pids: Vec<String> = seen.killed_after_exit.iter().map(|k| k.pid.to_string()).collect();
    match pids.as_slice() {
        [] => String::new(),
        [one] => format!(
            " (process {one} was still running {} s after the program exited, and the grader killed it: what it had not printed by then is missing)",
            crate::engine::run::AFTER_EXIT_MS / 1000
        ),
        many => format!(
            " (processes {} were still running {} s after the program exited, and the grader killed them: what they had not printed by then is missing)",
            many.join(", "),
            crate::engine::run::AFTER_EXIT_MS / 1000
        ),
    }
}

/// When the children were held back in `seen` (see [`Schedule`]): words
/// that say so, for a message about the order of lines, which the student
/// may not see in their own terminal.
pub fn held_note(seen: &Observation) -> &'static str {
    let held = seen.witness.as_ref().is_ok_and(|w| w.held > 0);
    if seen.schedule == Schedule::ChildrenLate && held {
        " (the grader started the children late, as a busy machine may: the order must not depend on the scheduler)"
    } else {
        ""
    }
}

/// The runs a question about a parent and its children is judged on: its
/// default run with each child held back until the parent waits (a race
/// shows every time), then the same run as the scheduler takes it (unless
/// the first had to be stopped: a hang costs one time limit, not two).
pub fn default_runs(ctx: &Context, question: Question) -> Result<Vec<Observation>, Box<QuestionReport>> {
    let failed = |message: &str| Box::new(QuestionReport::failed(question, message, Vec::new()));
    let binary = ctx.binary(package(question)).map_err(|f| failed(f.message()))?;
    let held = ctx
        .run_scheduled(&binary, &[], ctx.settings.limits, Schedule::ChildrenLate)
        .map_err(|m| failed(&m))?;
    if let Some(message) = not_attempted(&held) {
        return Err(Box::new(QuestionReport::not_attempted(question, &message, Vec::new())));
    }
    if !held.finished() {
        return Ok(vec![held]);
    }
    let as_it_comes = ctx.run(&binary, &[]).map_err(|m| failed(&m))?;
    Ok(vec![held, as_it_comes])
}

/// A verdict that passed only because the children the main process never
/// waited for were left to `wait_check` (one mistake, one loss) says so.
pub fn excused(verdict: Verdict, seen: &Observation, wait_check: CheckId) -> Verdict {
    let pids: Vec<String> = not_waited_for(seen).iter().map(i32::to_string).collect();
    if !verdict.passed() || pids.is_empty() {
        return verdict;
    }
    let them = match pids.as_slice() {
        [one] => format!("process {one}"),
        many => format!("processes {}", many.join(", ")),
    };
    Verdict::not_judged(format!(
        "not judged: the main process never waited for {them}, a mistake {wait_check} counts; this check is judged once it waits"
    ))
}

/// What a wait check says when it passes: what the main process really
/// waited for, as the witness saw it (never "all four" of threads).
pub fn reaped(seen: &Observation, then: &str) -> String {
    let children = seen
        .witness
        .as_ref()
        .ok()
        .map(|w| w.children().iter().filter(|c| c.parent == Some(seen.pid)).count());
    match children {
        Some(0) => {
            format!("{then} came last, but there was no child process to wait for (see the process check)")
        }
        Some(1) => format!("the main process reaped its child process, then printed {then}"),
        Some(n) => format!("the main process reaped its {n} child processes, then printed {then}"),
        None => format!("{then} came after every other line"),
    }
}

/// Judges one check on each of `runs` (see [`default_runs`]): it passes
/// only where it passes in all; the first run's failure is said first, so
/// that a race held to show in it is named the same way every time.
pub fn judged(runs: &[Observation], check: impl Fn(&Observation) -> Result<(), String>, ok: &str) -> Verdict {
    for (i, run) in runs.iter().enumerate() {
        if let Err(message) = check(run) {
            return Verdict::fail(if i == 0 {
                message
            } else {
                format!("in the run where the children were not held back: {message}")
            });
        }
    }
    Verdict::pass(ok)
}

/// The package of a programming question.
pub fn package(question: Question) -> &'static str {
    question.package().unwrap_or_else(|| panic!("Q{} is not a programming question", question.number()))
}

/// Builds `package` and runs it without arguments (its default run): the
/// binary and what the run did; or, when it did not build, could not be run
/// or is still the stub it started as, a report failing every check of
/// `question` with that message (and `notes`).
pub fn default_run(
    ctx: &Context,
    question: Question,
    notes: &[String],
) -> Result<(std::path::PathBuf, Observation), Box<QuestionReport>> {
    let failed = |message: &str| Box::new(QuestionReport::failed(question, message, notes.to_vec()));
    let binary = ctx.binary(package(question)).map_err(|f| failed(f.message()))?;
    let seen = ctx.run(&binary, &[]).map_err(|m| failed(&m))?;
    match not_attempted(&seen) {
        Some(message) => Err(Box::new(QuestionReport::not_attempted(question, &message, notes.to_vec()))),
        None => Ok((binary, seen)),
    }
}

/// If the program is still the stub it started as (it panics at `todo!()`),
/// the message saying so.
pub fn not_attempted(seen: &Observation) -> Option<String> {
    let stderr = String::from_utf8_lossy(&seen.stderr);
    (seen.exit == crate::engine::run::Exit::Code(101) && stderr.contains("not yet implemented")).then(|| {
        format!("not attempted yet: `{}` stops at a `todo!()`; replace it with your solution", seen.command)
    })
}

/// A note on what the process witness saw in `seen` (the process tree), or
/// that it could not watch; and whether it watched.
pub fn witness_note(seen: &Observation, name: &str) -> (String, bool) {
    let (note, watched) = process_note(seen, name);
    match seen.witness.as_ref().map(|w| &w.authors) {
        Ok(Err(why)) => (format!("{note}\nwho wrote each line was NOT verified: {why}"), watched),
        Err(_) => (format!("{note}; who wrote each line was NOT verified either"), watched),
        Ok(Ok(_)) => (note, watched),
    }
}

/// The note on the process tree alone.
fn process_note(seen: &Observation, name: &str) -> (String, bool) {
    match &seen.witness {
        Ok(witness) if seen.schedule == Schedule::ChildrenLate => (
            format!(
                "run twice: once with each child held back until the parent waited for it (or exited), once as the scheduler chose; a check passes only if it passes in both. What `{}` did in the first, seen with ptrace:\n{}",
                seen.command,
                witness.draw(name)
            ),
            true,
        ),
        Ok(witness) => {
            (format!("what `{}` did, seen with ptrace:\n{}", seen.command, witness.draw(name)), true)
        }
        Err(why) => (
            format!("process checks were NOT verified: {why}; the process checks used the output alone"),
            false,
        ),
    }
}

/// When the witness watched: the message for a program that did not create
/// exactly `expected` processes, naming what it did create.
pub fn process_count_problem(seen: &Observation, expected: usize, what: &str) -> Option<String> {
    let witness = seen.witness.as_ref().ok()?;
    let created = witness.children().len();
    if created == expected {
        return None;
    }
    let threads = match witness.threads {
        0 => String::new(),
        n => format!(" and {n} threads (threads share one process; they are not processes)"),
    };
    Some(format!("expected {expected} {what}, but the program created {created} processes{threads}"))
}

/// When the witness watched: the message for a printed pid that is not one
/// of the processes the program created.
pub fn foreign_pid_problem(seen: &Observation, printed: &[&str], whose: &str) -> Option<String> {
    let witness = seen.witness.as_ref().ok()?;
    let created: Vec<String> = witness.children().iter().map(|p| p.pid.to_string()).collect();
    let foreign = printed.iter().find(|p| !created.contains(&p.to_string()))?;
    let list = if created.is_empty() { "none".to_string() } else { created.join(", ") };
    Some(format!(
        "{whose} pid {foreign}, but the program created no process {foreign} (the processes it created: {list}): print the pid of the process that does the work"
    ))
}

/// When the witness saw who wrote each line: the message for a line that
/// names a process (`claims`: each line's index in stdout, and the pid it
/// names) but was written by another, or through a descriptor the witness
/// could not follow.
pub fn misreport_problem(seen: &Observation, claims: &[(usize, &str)]) -> Option<String> {
    let authors = seen.witness.as_ref().ok()?.authors.as_ref().ok()?;
    claims.iter().find_map(|&(line, named)| match authors.of(line) {
        None => Some(format!(
            "the line naming pid {named} was written where the witness cannot see which process wrote it (through a copy of stdout, or moved there from another descriptor): print from each process to its own stdout (`println!`)"
        )),
        Some(author) if author.origin().to_string() == named => None,
        Some(author) => Some(format!(
            "the line naming pid {named} was written by {}: each process must print its own line",
            writer(author, seen.pid)
        )),
    })
}

/// "pid 409, the main process", "a thread of pid 409, the main process",
/// "pid 412 (and printed by pid 409, the main process)".
fn writer(author: &Author, main: i32) -> String {
    let process =
        |pid: i32| if pid == main { format!("pid {pid}, the main process") } else { format!("pid {pid}") };
    match (author.relayed_from, author.thread) {
        (Some(first), _) => format!("{} (and printed by {})", process(first), process(author.process)),
        (None, Some(_)) => format!("a thread of {}", process(author.process)),
        (None, None) => process(author.process),
    }
}

/// Fails every check of a question for one reason (it did not build, its
/// program could not be run, it is not attempted yet): said in full once, by
/// the first check; the others say they were not run, and why, in a line.
pub fn fail_all(question: Question, message: &str) -> Vec<(CheckId, Verdict)> {
    let mut checks = crate::rubric::checks_of(question);
    let Some(first) = checks.next() else { return Vec::new() };
    let reason = message.lines().next().unwrap_or_default().trim_end_matches(':');
    let not_run = format!("not run: {reason} (see {})", first.id);
    std::iter::once((first.id, Verdict::fail(message)))
        .chain(checks.map(|c| (c.id, Verdict::fail(&not_run))))
        .collect()
}

/// Compares normalized output with the reference snapshot, line for line
/// but not in order: the order is `order_check`'s to judge, and one
/// mistake costs its points once. A run the grader had to stop is not
/// compared: where its output was cut is the scheduler's, not the program's.
pub fn snapshot_verdict(
    question: Question,
    seen: &Observation,
    normalized: Option<&str>,
    order_check: CheckId,
) -> Verdict {
    let Some(expected) = crate::engine::snapshot::expected(question) else {
        return Verdict::fail(format!("the rubric has no snapshot for Q{}", question.number()));
    };
    if !seen.finished() {
        return Verdict::fail(format!(
            "not compared: the program was stopped before it finished (see {}.1)",
            question.number()
        ));
    }
    let sorted = |text: &str| {
        let mut lines: Vec<String> = text.trim_end().lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    match normalized {
        None => Verdict::fail("there was no output to compare with the snapshot"),
        // One message whatever the order, which is the scheduler's to vary.
        Some(actual) if sorted(expected) == sorted(actual) => Verdict::pass(format!(
            "the same lines as the reference, PIDs aside (their order is {order_check}'s to judge)"
        )),
        Some(actual) => {
            const SHOWN: usize = 30;
            // Sorted, as they are compared: their order is another check's,
            // and the scheduler's to vary.
            let mut lines: Vec<&str> = actual.trim_end().lines().collect();
            lines.sort();
            let more = match lines.len().saturating_sub(SHOWN) {
                0 => String::new(),
                n => format!("\n… and {n} more lines"),
            };
            Verdict::fail(format!(
                "differs from the reference (PIDs shown as [pid], lines sorted):\n--- expected\n{}\n--- got\n{}{more}",
                sorted(expected).join("\n"),
                lines[..lines.len().min(SHOWN)].join("\n")
            ))
        }
    }
}
