//! The rubric: the questions, each with its checks and their points, the
//! check that is the point of it, where the student's work lives and the
//! reference's output (the concepts the written answers are read for are in `answers.toml`, read by [`written`](crate::checks::written)); and
//! the limits every run of a student's program gets. This is the one place
//! marks are set; they add up to 100 (a unit test makes sure).
//!
//! ```
//! use grader::rubric::Question;
//! let q6 = Question::Q6.spec();
//! assert_eq!((q6.package(), q6.points()), (Some("q6_four_procs"), 20));
//! assert_eq!(Question::parse("q6"), Some(Question::Q6));
//! ```
//!
//! A new question is one entry in [`QUESTIONS`] (and its variant of
//! [`Question`]), one module in [`checks`](crate::checks), and its snapshot.

use crate::supervisor::protocol::Limits;

/// The six questions of the assignment; what each is, is in [`QUESTIONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Question {
    Q1,
    Q2,
    Q3,
    Q4,
    Q5,
    Q6,
}

/// One question: everything the grader knows of it.
#[derive(Debug)]
pub struct Spec {
    pub question: Question,
    /// Its place (from 0) in the order a student is best taken through the
    /// questions: the smallest program first (Q6), then one process and its
    /// exit status (Q3), the pool (Q5), and the written answers, which the
    /// programs teach.
    pub suggested: usize,
    pub title: &'static str,
    /// Where the student's work for it lives.
    pub location: &'static str,
    pub work: Work,
    /// Its checks, in report order; ids are `"<question>.<n>"`.
    pub checks: &'static [Check],
    /// The id of the check that is the point of the question: separate
    /// processes (Q3, Q6), a pool of at most N processes, reused (Q5). When
    /// it fails, the question's other checks together count for at most
    /// [`MISSED_POINT_SHARE`] of its points: right output from the wrong kind
    /// of program is worth little.
    pub point: Option<CheckId>,
    /// Hints for a student who is stuck, from a nudge to the API, shown one
    /// at a time by `grader hint`. (A written question's hint is in
    /// `answers.toml`.)
    pub hints: &'static [&'static str],
}

/// What the student hands in for a question.
#[derive(Debug)]
pub enum Work {
    /// A written answer, checked by reading it.
    Answer,
    /// A program: its package, and the reference's normalized output, as
    /// reviewed with insta (compiled in, so that grading compares against
    /// exactly what was reviewed, whatever insta settings a workspace has).
    Program { package: &'static str, snapshot: &'static str },
}

/// A check's id, `<question>.<n>` (`6.2`): made by [`id`], whose form a
/// const context (the rubric's table) checks as it compiles.
///
/// ```
/// use grader::rubric::{Question, id};
/// let wait = id("6.4");
/// assert_eq!((wait.to_string(), wait.question()), ("6.4".to_string(), Question::Q6));
/// assert!(wait == "6.4");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CheckId(&'static str);

/// The id `text` says: digits, a dot, digits (a panic otherwise, at compile
/// time in a const).
pub const fn id(text: &'static str) -> CheckId {
    let bytes = text.as_bytes();
    let (mut i, mut dot) = (0, None);
    while i < bytes.len() {
        match bytes[i] {
            b'0'..=b'9' => {}
            b'.' if dot.is_none() && i > 0 => dot = Some(i),
            _ => panic!("a check's id is <question>.<n>, such as 6.2"),
        }
        i += 1;
    }
    match dot {
        Some(at) if at + 1 < bytes.len() => CheckId(text),
        _ => panic!("a check's id is <question>.<n>, such as 6.2"),
    }
}

impl CheckId {
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The question the check belongs to (its id says).
    pub fn question(self) -> Question {
        let number = self.0.split('.').next().unwrap_or_default();
        Question::parse(number).expect("a check's id starts with its question's number")
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl PartialEq<&str> for CheckId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for CheckId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<CheckId> for &str {
    fn eq(&self, other: &CheckId) -> bool {
        *self == other.0
    }
}

impl serde::Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

/// One check of the rubric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    pub id: CheckId,
    pub title: &'static str,
    pub points: u32,
    /// What to try when it fails: the first hint `grader hint` gives, about
    /// this check, before the question's own. (A written answer's concepts
    /// check gives the nudge of its first missing concept instead, from
    /// `answers.toml`.)
    pub hint: &'static str,
}

const fn check(text: &'static str, title: &'static str, points: u32, hint: &'static str) -> Check {
    Check { id: id(text), title, points, hint }
}

const OWN_ANSWER: &str = "an answer of the student's own, in sentences, on the question asked";
const OWN_ANSWER_HINT: &str = "Write the answer in whole sentences of your own, on the question asked: a list of keywords, repeated or filler text, or an answer to another question earns nothing here.";
const KEY_CONCEPTS: &str = "the answer explains the concepts a full answer covers";
const SNAPSHOT_HINT: &str = "This compares your lines with the reference's, pids aside and in any order: hold each line against the README's contract, character by character (spaces and punctuation too).";

/// The assignment, question by question, in order.
pub const QUESTIONS: &[Spec] = &[
    Spec {
        question: Question::Q1,
        suggested: 3,
        title: "What is multiprocessing? Why is it useful?",
        location: "answers/q1.md",
        work: Work::Answer,
        checks: &[check("1.1", OWN_ANSWER, 2, OWN_ANSWER_HINT), check("1.2", KEY_CONCEPTS, 8, "")],
        point: None,
        hints: &[],
    },
    Spec {
        question: Question::Q2,
        suggested: 4,
        title: "What are the differences between multiprocessing and multithreading?",
        location: "answers/q2.md",
        work: Work::Answer,
        checks: &[check("2.1", OWN_ANSWER, 2, OWN_ANSWER_HINT), check("2.2", KEY_CONCEPTS, 8, "")],
        point: None,
        hints: &[],
    },
    Spec {
        question: Question::Q3,
        suggested: 1,
        title: "Write code that creates a process.",
        location: "exercises/q3_process",
        work: Work::Program {
            package: "q3_process",
            snapshot: include_str!("../tests/snapshots/q3_process.snap"),
        },
        checks: &[
            check(
                "3.1",
                "builds, runs and exits with status 0",
                3,
                "Run `cargo run -p q3_process` and read stderr: a panic (a `todo!()` left, an `unwrap` on an error) says where; a run that never ends says which call each process was blocked in.",
            ),
            check(
                "3.2",
                "prints the three lines of the contract",
                4,
                "Exactly the README's three lines, each once and ending with a newline, printed with one `write` each (`print_line` does); anything else goes to stderr (`eprintln!`).",
            ),
            check(
                "3.3",
                "the worker is a process of its own",
                3,
                "The worker's lines must come from a new process: `fork` (or `Command`) creates it, and the worker prints its own `getpid()`, which differs from the main process's. A thread is not a process.",
            ),
            check(
                "3.4",
                "the worker's parent is the main process",
                2,
                "The worker prints `getppid()`: it is the main process's pid only while the main process is alive, so the main process must still be there, waiting.",
            ),
            check(
                "3.5",
                "the main process waits for the worker, then prints its last line",
                3,
                "Call `waitpid(child, None)` (or `child.wait()`) before printing the main process's line: until it returns, nothing says the worker has finished.",
            ),
            check("3.6", "normalized output matches the reference snapshot", 1, SNAPSHOT_HINT),
            check(
                "3.7",
                "--status N: the main process reports the worker's real exit status",
                2,
                "`cargo run -p q3_process -- --status 7` must end with \"exited with status 7\": the worker leaves with `nix::libc::_exit(status)`, and the main process prints the code `waitpid` returns (`WaitStatus::Exited(_, code)`), not the number it asked for.",
            ),
            check(
                "3.8",
                "--spawn: the worker is the program run again, its status reported",
                2,
                "`--spawn` starts this program again: `Command::new(std::env::current_exe()?)` with `.env(WORKER_ENV, status.to_string())`; the given `main` turns that process into the worker. `.status()?.code()` is what to report.",
            ),
        ],
        point: Some(id("3.3")),
        hints: &[
            "A process is a running copy of a program. Yours asks the operating system for a second one, the worker, which prints its two lines; the main process waits for the worker to end, then prints its last line with the worker's exit status.",
            "`unsafe { nix::unistd::fork() }` returns twice: `ForkResult::Child` in the new process, `ForkResult::Parent { child }` in the old one. Flush stdout before forking (or its buffer is printed twice), and leave the child with `nix::libc::_exit(status)`, not by returning from main.",
            "In the parent, `nix::sys::wait::waitpid(child, None)` blocks until the worker ends and returns `WaitStatus::Exited(pid, code)`: `code`, not the status you asked for, goes in the last line. The worker prints `nix::unistd::getpid()` and `getppid()`. For `--spawn`, `std::process::Command::new(std::env::current_exe()?)` with `.env(WORKER_ENV, status.to_string())` re-runs the program as the worker, and `.status()?.code()` is its exit status.",
        ],
    },
    Spec {
        question: Question::Q4,
        suggested: 5,
        title: "What is a pool of worker processes? Why is it used?",
        location: "answers/q4.md",
        work: Work::Answer,
        checks: &[check("4.1", OWN_ANSWER, 2, OWN_ANSWER_HINT), check("4.2", KEY_CONCEPTS, 8, "")],
        point: None,
        hints: &[],
    },
    Spec {
        question: Question::Q5,
        suggested: 2,
        title: "Create a pool of worker processes.",
        location: "exercises/q5_pool",
        work: Work::Program { package: "q5_pool", snapshot: include_str!("../tests/snapshots/q5_pool.snap") },
        checks: &[
            check(
                "5.1",
                "builds, runs and exits with status 0",
                3,
                "Run `cargo run -p q5_pool` and read stderr. A run that never ends says which call each process was blocked in: a read that never sees end-of-file means some process still holds that pipe's write end.",
            ),
            check(
                "5.2",
                "a worker line for every number, each square right",
                4,
                "Every number must reach exactly one worker, which runs the job on it (the job prints the worker's line): check that each task is written once and read once, whole (16 bytes).",
            ),
            check(
                "5.3",
                "the Results line comes last, squares in input order",
                4,
                "Results come back in the order the workers finish: put each square at the index its task carried, then return them all.",
            ),
            check(
                "5.4",
                "a pool: at most N worker processes, reused, in every run",
                4,
                "Fork the N workers once, in `start`, and let each take task after task from the one shared task pipe until end-of-file: a process per number, or workers that never get a task, is not a pool.",
            ),
            check(
                "5.5",
                "right for numbers drawn at random",
                3,
                "Random numbers include negative and big ones: the number travels as 8 bytes (`i64::to_le_bytes`), its square as 16 (`i128`); check both records carry them whole. `GRADER_SEED` replays the same numbers.",
            ),
            check(
                "5.6",
                "right for edge cases (one number, negatives, big squares, more workers than numbers)",
                3,
                "Try `cargo run -p q5_pool -- --workers 8 2 3` (workers with nothing to do must still see end-of-file and exit) and `-- -5 0 -3037000500` (negative numbers, a square beyond i64).",
            ),
            check(
                "5.7",
                "bad arguments: exit status 2, a message on stderr, nothing on stdout",
                3,
                "Bad arguments are refused by the given `main.rs` and `args.rs` before any pool starts: if this fails, one of them was changed; take them back from the assignment.",
            ),
            check(
                "5.8",
                "no process outlives the program",
                1,
                "Every worker must have exited before the program exits: close the task pipe (the workers then read end-of-file and leave), then `waitpid` each one, in `shut_down`.",
            ),
            check("5.9", "normalized output matches the reference snapshot", 1, SNAPSHOT_HINT),
            check(
                "5.10",
                "right for more numbers than the pipes hold: no deadlock",
                4,
                "31000 tasks do not fit in the pipes (64 KiB each), whatever their encoding: never have more than `IN_FLIGHT` tasks out before reading results back, or the task pipe and the results pipe both fill and every process waits for another.",
            ),
        ],
        point: Some(id("5.4")),
        hints: &[
            "A pool is started once: N worker processes, each in a loop (read a task, compute its square, write the result back). The main process hands out the numbers, collects the results, puts them back in input order, then shuts the workers down and reaps them.",
            "Make the pipes before you fork (`nix::unistd::pipe`), so the workers inherit them; then each process closes the ends it does not use, or a read never sees end-of-file. Send each task and each result as one `write` of a few bytes that carries the number's index, so results can be put back in order.",
            "Do not write every task before reading any result: once a pipe holds 64 KiB, the main process waits for the workers to read while they wait for it to read their results, for ever. Read results while you send tasks, then close the task pipe: the workers see end-of-file and exit, and `waitpid` reaps each one.",
        ],
    },
    Spec {
        question: Question::Q6,
        suggested: 0,
        title: "Create 4 processes, each printing a different number.",
        location: "exercises/q6_four_procs",
        work: Work::Program {
            package: "q6_four_procs",
            snapshot: include_str!("../tests/snapshots/q6_four_procs.snap"),
        },
        checks: &[
            check(
                "6.1",
                "builds, runs and exits with status 0",
                3,
                "Run `cargo run -p q6_four_procs` and read stderr: a panic says where; a run that never ends says which call each process was blocked in.",
            ),
            check(
                "6.2",
                "prints the numbers 1 to 4, one line each",
                5,
                "Four lines `Process k (pid …) prints k`, k from 1 to 4, each once, and the last line: each child prints its own k (the loop variable it was forked with). A number that comes more than once means a child went on with the parent's loop: leave the child with `nix::libc::_exit(0)` right after its line.",
            ),
            check(
                "6.3",
                "each number comes from a process of its own",
                4,
                "Each line must come from its own child process: fork four times from the main process, and print in the child, with its own `getpid()`. Four threads are one process, with one pid.",
            ),
            check(
                "6.4",
                "the parent waits for all four, then prints the last line",
                4,
                "Keep the four pids, `waitpid` each one, and only then print \"All 4 processes finished\": a parent that prints first is only lucky when the line comes last.",
            ),
            check(
                "6.5",
                "no process outlives the program",
                2,
                "Each child leaves with `nix::libc::_exit(0)` right after its line (a child that returns into the loop forks children of its own), and the parent waits for every one.",
            ),
            check("6.6", "normalized output matches the reference snapshot", 2, SNAPSHOT_HINT),
        ],
        point: Some(id("6.3")),
        hints: &[
            "Each number is printed by a process of its own, which the main process creates; the main process prints its last line only after all four have ended, so it always comes last.",
            "Call `unsafe { nix::unistd::fork() }` four times, in a loop. In the `ForkResult::Child` branch, print the line and leave with `nix::libc::_exit(0)`; in the parent, keep the child's pid. Flush stdout before each fork.",
            "After the loop, `nix::sys::wait::waitpid(pid, None)` for each of the four pids, and only then print \"All 4 processes finished\". Print each line with one `write` (`print_line` does), so that lines of different processes never mix. (Or re-run the program with `std::process::Command` and `child.wait()` for each.)",
        ],
    },
];

impl Spec {
    /// The package of a programming question.
    pub fn package(&self) -> Option<&'static str> {
        match self.work {
            Work::Program { package, .. } => Some(package),
            Work::Answer => None,
        }
    }

    pub fn points(&self) -> u32 {
        self.checks.iter().map(|c| c.points).sum()
    }
}

impl Question {
    /// Every question, in the table's order.
    pub const ALL: [Question; QUESTIONS.len()] = {
        let mut all = [Question::Q1; QUESTIONS.len()];
        let mut i = 0;
        while i < QUESTIONS.len() {
            all[i] = QUESTIONS[i].question;
            i += 1;
        }
        all
    };

    /// Every question, in the order a student is best taken through them
    /// (each one's [`Spec::suggested`]).
    pub const SUGGESTED: [Question; QUESTIONS.len()] = {
        let mut order = [Question::Q1; QUESTIONS.len()];
        let mut i = 0;
        while i < QUESTIONS.len() {
            order[QUESTIONS[i].suggested] = QUESTIONS[i].question;
            i += 1;
        }
        order
    };

    /// Everything the rubric says of this question.
    pub fn spec(self) -> &'static Spec {
        &QUESTIONS[self as usize]
    }

    pub fn number(self) -> u32 {
        self as u32 + 1
    }

    /// Where the student's work for this question lives.
    pub fn location(self) -> &'static str {
        self.spec().location
    }

    pub fn title(self) -> &'static str {
        self.spec().title
    }

    /// The package of a programming question.
    pub fn package(self) -> Option<&'static str> {
        self.spec().package()
    }

    /// The question `text` names: `6`, `q6` or `Q6`.
    pub fn parse(text: &str) -> Option<Question> {
        let number = text.trim().trim_start_matches(['q', 'Q']).parse::<u32>().ok()?;
        Question::ALL.into_iter().find(|q| q.number() == number)
    }

    /// A written answer, checked by reading it rather than running code.
    pub fn is_written(self) -> bool {
        matches!(self.spec().work, Work::Answer)
    }
}

/// A question is kept in files (gradebooks, decisions) as its number.
impl serde::Serialize for Question {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.number())
    }
}

impl<'de> serde::Deserialize<'de> for Question {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Question, D::Error> {
        let number = u32::deserialize(deserializer)?;
        Question::ALL
            .into_iter()
            .find(|q| q.number() == number)
            .ok_or_else(|| serde::de::Error::custom(format!("{number} is not a question (1 to 6)")))
    }
}

impl Check {
    /// The question the check belongs to (its id says).
    pub fn question(&self) -> Question {
        self.id.question()
    }
}

/// What a question is worth at most when its point is missed: 40%.
pub const MISSED_POINT_SHARE: (u32, u32) = (2, 5);

/// Every check of every question, in report order.
pub fn checks() -> impl Iterator<Item = &'static Check> {
    QUESTIONS.iter().flat_map(|q| q.checks)
}

/// The points of the whole assignment: every question's, together.
pub fn total_points() -> u32 {
    QUESTIONS.iter().map(Spec::points).sum()
}

/// The check that is the point of `question`, if it has one.
pub fn point_of(question: Question) -> Option<&'static Check> {
    question.spec().point.and_then(|point| check_by_id(point.as_str()))
}

/// The checks of one question.
pub fn checks_of(question: Question) -> impl Iterator<Item = &'static Check> {
    question.spec().checks.iter()
}

/// The check with this id.
pub fn check_by_id(id: &str) -> Option<&'static Check> {
    checks().find(|c| c.id == id)
}

/// The limits of every run of a student's program. Each has a flag of
/// `grade` and `batch` (`--timeout`, `--memory`, `--file-size`,
/// `--cpu-time`, `--open-files`, `--processes`); a limit hit is said in the
/// student's terms ("used more than 512 MiB of memory").
pub const LIMITS: Limits = Limits {
    timeout_ms: 5_000,
    output_cap: 1 << 20,
    processes: 64,
    memory_mib: 512,
    file_size_mib: 64,
    disk: true,
    cpu_seconds: 10,
    open_files: 256,
};

/// Said in every prompt left where an answer goes.
pub const ANSWER_PROMPT: &str = "_Not attempted yet: write your answer here, in your own words._";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renamed_field_is_an_error_not_a_default() {
        let limits = LIMITS;
        let text = serde_json::to_string(&limits).unwrap();
        assert_eq!(serde_json::from_str::<crate::supervisor::protocol::Limits>(&text).unwrap(), limits);
        let renamed = text.replace("timeout_ms", "timeout");
        assert!(serde_json::from_str::<crate::supervisor::protocol::Limits>(&renamed).is_err());
        let missing = text.replace("\"disk\":false,", "").replace("\"disk\":true,", "");
        assert!(serde_json::from_str::<crate::supervisor::protocol::Limits>(&missing).is_err(), "{missing}");
    }

    #[test]
    fn points_add_up_to_100() {
        assert_eq!(total_points(), 100);
    }

    #[test]
    fn the_suggested_order_has_each_question_once_programs_first() {
        let mut sorted = Question::SUGGESTED;
        sorted.sort();
        assert_eq!(sorted, Question::ALL);
        assert!(Question::SUGGESTED[..3].iter().all(|q| !q.is_written()));
    }

    #[test]
    fn the_table_has_each_question_once_in_order() {
        for (i, spec) in QUESTIONS.iter().enumerate() {
            assert_eq!(spec.question as usize, i, "{:?} is not at its place in the table", spec.question);
            assert_eq!(spec.question.spec().question, spec.question);
        }
    }

    #[test]
    fn every_point_of_a_question_is_a_check_of_it() {
        for spec in QUESTIONS {
            if let Some(id) = spec.point {
                assert_eq!(check_by_id(id.as_str()).map(Check::question), Some(spec.question), "{id}");
            }
            // A written answer has no process to miss.
            assert_eq!(spec.point.is_some(), spec.package().is_some(), "{:?}", spec.question);
        }
    }

    #[test]
    fn every_check_has_a_hint_but_a_written_answers_concepts() {
        for spec in QUESTIONS {
            for (i, c) in spec.checks.iter().enumerate() {
                let computed = spec.package().is_none() && i == 1;
                assert_eq!(c.hint.is_empty(), computed, "{}", c.id);
            }
        }
    }

    #[test]
    fn ids_are_unique_and_name_their_question() {
        let all: Vec<&Check> = checks().collect();
        for spec in QUESTIONS {
            assert!(!spec.checks.is_empty(), "{:?}", spec.question);
            for c in spec.checks {
                assert!(c.id.as_str().starts_with(&format!("{}.", spec.question.number())), "{}", c.id);
                assert_eq!(c.question(), spec.question, "{}", c.id);
                assert_eq!(all.iter().filter(|d| d.id == c.id).count(), 1, "{} twice", c.id);
            }
        }
    }

    #[test]
    fn every_program_lives_in_its_package_with_a_snapshot() {
        let home =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf();
        for spec in QUESTIONS {
            match spec.work {
                Work::Program { package, snapshot } => {
                    assert_eq!(spec.location, format!("exercises/{package}"));
                    assert!(home.join(spec.location).join("Cargo.toml").is_file(), "{}", spec.location);
                    assert!(snapshot.contains("[pid]"), "{package}: {snapshot}");
                }
                Work::Answer => {
                    assert!(spec.location.starts_with("answers/") && spec.location.ends_with(".md"));
                }
            }
        }
    }
}
