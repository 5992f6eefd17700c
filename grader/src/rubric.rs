//! The rubric: every check, its number and its points, the concepts the
//! written answers are read for, and the limits every run of a student's
//! program gets. This is the one place marks are set; they add up to 100 (a
//! unit test makes sure).

use crate::supervisor::protocol::Limits;

/// The six questions of the assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Question {
    Q1,
    Q2,
    Q3,
    Q4,
    Q5,
    Q6,
}

impl Question {
    pub const ALL: [Question; 6] =
        [Question::Q1, Question::Q2, Question::Q3, Question::Q4, Question::Q5, Question::Q6];

    pub fn number(self) -> u32 {
        self as u32 + 1
    }

    /// Where the student's work for this question lives.
    pub fn location(self) -> &'static str {
        match self {
            Question::Q1 => "answers/q1.md",
            Question::Q2 => "answers/q2.md",
            Question::Q3 => "exercises/q3_process",
            Question::Q4 => "answers/q4.md",
            Question::Q5 => "exercises/q5_pool",
            Question::Q6 => "exercises/q6_four_procs",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Question::Q1 => "What is multiprocessing? Why is it useful?",
            Question::Q2 => "What are the differences between multiprocessing and multithreading?",
            Question::Q3 => "Write code that creates a process.",
            Question::Q4 => "What is a pool of worker processes? Why is it used?",
            Question::Q5 => "Create a pool of worker processes.",
            Question::Q6 => "Create 4 processes, each printing a different number.",
        }
    }

    /// The question `text` names: `6`, `q6` or `Q6`.
    pub fn parse(text: &str) -> Option<Question> {
        let number = text.trim().trim_start_matches(['q', 'Q']).parse::<u32>().ok()?;
        Question::ALL.into_iter().find(|q| q.number() == number)
    }

    /// A written answer, checked by reading it rather than running code.
    pub fn is_written(self) -> bool {
        matches!(self, Question::Q1 | Question::Q2 | Question::Q4)
    }
}

/// One check of the rubric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// `"<question>.<check>"`, e.g. `"6.2"`.
    pub id: &'static str,
    pub question: Question,
    pub title: &'static str,
    pub points: u32,
}

const fn check(id: &'static str, question: Question, title: &'static str, points: u32) -> Check {
    Check { id, question, title, points }
}

/// Every check, in report order.
pub const CHECKS: &[Check] = &[
    check("1.1", Question::Q1, "answer is written out (not the prompt, not a placeholder)", 4),
    check("1.2", Question::Q1, "answer covers the key concepts", 6),
    check("2.1", Question::Q2, "answer is written out (not the prompt, not a placeholder)", 4),
    check("2.2", Question::Q2, "answer covers the key concepts", 6),
    check("3.1", Question::Q3, "builds, runs and exits with status 0", 4),
    check("3.2", Question::Q3, "prints the three lines of the contract", 4),
    check("3.3", Question::Q3, "the worker is a process of its own", 3),
    check("3.4", Question::Q3, "the worker's parent is the main process", 3),
    check("3.5", Question::Q3, "the main process waits for the worker, then prints its last line", 4),
    check("3.6", Question::Q3, "normalized output matches the reference snapshot", 2),
    check("4.1", Question::Q4, "answer is written out (not the prompt, not a placeholder)", 4),
    check("4.2", Question::Q4, "answer covers the key concepts", 6),
    check("5.1", Question::Q5, "builds, runs and exits with status 0", 3),
    check("5.2", Question::Q5, "a worker line for every number, each square right", 4),
    check("5.3", Question::Q5, "the Results line comes last, squares in input order", 4),
    check("5.4", Question::Q5, "a pool: at most N worker processes, reused, in every run", 4),
    check("5.5", Question::Q5, "right for numbers drawn at random", 3),
    check(
        "5.6",
        Question::Q5,
        "right for edge cases (one number, negatives, big squares, more workers than numbers)",
        3,
    ),
    check("5.7", Question::Q5, "bad arguments: exit status 2, a message on stderr, nothing on stdout", 3),
    check("5.8", Question::Q5, "no process outlives the program", 1),
    check("5.9", Question::Q5, "normalized output matches the reference snapshot", 1),
    check("5.10", Question::Q5, "right for more numbers than the pipes hold: no deadlock", 4),
    check("6.1", Question::Q6, "builds, runs and exits with status 0", 3),
    check("6.2", Question::Q6, "prints the numbers 1 to 4, one line each", 5),
    check("6.3", Question::Q6, "each number comes from a process of its own", 4),
    check("6.4", Question::Q6, "the parent waits for all four, then prints the last line", 4),
    check("6.5", Question::Q6, "no process outlives the program", 2),
    check("6.6", Question::Q6, "normalized output matches the reference snapshot", 2),
];

/// The check that is the point of each programming question: separate
/// processes (Q3, Q6), a pool of at most N processes, reused (Q5). When it
/// fails, the question's other checks together count for at most
/// [`MISSED_POINT_SHARE`] of its points: right output from the wrong kind of
/// program is worth little.
pub const POINTS_OF_QUESTIONS: &[(Question, &str)] =
    &[(Question::Q3, "3.3"), (Question::Q5, "5.4"), (Question::Q6, "6.3")];

/// What a question is worth at most when its point is missed: 40%.
pub const MISSED_POINT_SHARE: (u32, u32) = (2, 5);

/// The check that is the point of `question`, if it has one.
pub fn point_of(question: Question) -> Option<&'static Check> {
    POINTS_OF_QUESTIONS.iter().find(|(q, _)| *q == question).and_then(|(_, id)| check_by_id(id))
}

/// The checks of one question.
pub fn checks_of(question: Question) -> impl Iterator<Item = &'static Check> {
    CHECKS.iter().filter(move |c| c.question == question)
}

/// The check with this id.
pub fn check_by_id(id: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.id == id)
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

/// The least a written answer must have to count as an answer.
pub const MIN_WORDS: usize = 150;
pub const MIN_SENTENCES: usize = 6;
/// Text that marks an answer as not written yet.
pub const PLACEHOLDERS: &[&str] =
    &["todo", "tbd", "write your answer", "your answer here", "lorem ipsum", "fill in", "not attempted"];

/// A concept a written answer should cover. It is covered when, for every
/// group, the answer contains one of the group's phrasings (lowercase; the
/// answer is lowercased and stripped of Markdown emphasis first).
#[derive(Debug, Clone, Copy)]
pub struct Concept {
    pub name: &'static str,
    pub all_of: &'static [&'static [&'static str]],
}

const fn concept(name: &'static str, all_of: &'static [&'static [&'static str]]) -> Concept {
    Concept { name, all_of }
}

const CPU_BOUND: &[&str] =
    &["cpu-bound", "cpu bound", "cpu-intensive", "cpu intensive", "compute-bound", "computation"];
const IO_BOUND: &[&str] =
    &["i/o-bound", "io-bound", "i/o bound", "io bound", "i/o-intensive", "waiting on", "waiting for i/o"];

/// The concepts each written answer is read for.
pub fn concepts(question: Question) -> &'static [Concept] {
    match question {
        Question::Q1 => Q1_CONCEPTS,
        Question::Q2 => Q2_CONCEPTS,
        Question::Q4 => Q4_CONCEPTS,
        _ => &[],
    }
}

const Q1_CONCEPTS: &[Concept] = &[
    concept(
        "several processes running at once",
        &[&["process"], &["several", "multiple", "more than one", "many", "two or more"]],
    ),
    concept(
        "parallel execution on several cores",
        &[&["core", "cpu", "processor"], &["parallel", "at the same time", "simultaneous"]],
    ),
    concept(
        "speeding up CPU-bound work",
        &[&[
            "cpu-bound",
            "cpu bound",
            "cpu-intensive",
            "computation",
            "compute-heavy",
            "number crunching",
            "speed",
        ]],
    ),
    concept(
        "isolation: separate memory, a crash stays in its process",
        &[&["isolat", "crash", "own memory", "address space", "separate memory"]],
    ),
    concept(
        "how a process is created (fork, spawn, exec)",
        &[&["fork", "spawn", "exec", "std::process", "command::new"]],
    ),
    concept(
        "the costs: creation and communication overhead",
        &[&["overhead", "cost", "expensive", "slower"]],
    ),
];

const Q2_CONCEPTS: &[Concept] = &[
    concept(
        "separate address spaces versus shared memory",
        &[&["address space", "own memory", "separate memory", "own copy"], &["share"]],
    ),
    concept("the GIL: Rust has none, CPython has one", &[&["gil", "global interpreter lock"]]),
    concept(
        "the cost of creating each",
        &[&["cost", "overhead", "expensive", "cheap", "lightweight", "heavyweight"]],
    ),
    concept(
        "communication: pipes, sockets, channels, shared memory",
        &[&["pipe", "socket", "message passing", "ipc", "inter-process communication", "channel", "queue"]],
    ),
    concept("synchronization: locks, mutexes, atomics", &[&["mutex", "lock", "atomic", "synchroniz"]]),
    concept("fault isolation", &[&["crash", "isolat", "fault", "takes down"]]),
    concept("CPU-bound versus I/O-bound work", &[CPU_BOUND, IO_BOUND]),
    concept(
        "why fork in a multi-threaded program is hazardous",
        &[
            &["fork"],
            &["thread"],
            &[
                "deadlock",
                "only the calling thread",
                "async-signal-safe",
                "held a lock",
                "lock held",
                "locked state",
            ],
        ],
    ),
];

const Q4_CONCEPTS: &[Concept] = &[
    concept(
        "a fixed set of workers, created once and reused",
        &[&["reuse", "re-use", "created once", "started once", "long-lived", "kept alive"]],
    ),
    concept(
        "bounded parallelism (pool size, number of cores)",
        &[&["bound", "limit", "cap ", "caps", "fixed number", "number of cores", "at most"]],
    ),
    concept(
        "load balancing through a shared queue",
        &[&["queue"], &["idle", "load balanc", "next task", "pull", "free worker", "available worker"]],
    ),
    concept("results returned in input order", &[&["order"]]),
    concept("saving the cost of creating a process per task", &[&["overhead", "cost", "expensive"]]),
    concept(
        "when a pool is the wrong tool",
        &[&[
            "wrong tool",
            "not worth",
            "don't use",
            "do not use",
            "avoid",
            "not a good fit",
            "slower than",
            "not suit",
            "not needed",
            "plain loop",
            "instead",
        ]],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_add_up_to_100() {
        assert_eq!(CHECKS.iter().map(|c| c.points).sum::<u32>(), 100);
    }

    #[test]
    fn every_point_of_a_question_is_a_check_of_it() {
        for (question, id) in POINTS_OF_QUESTIONS {
            assert_eq!(check_by_id(id).map(|c| c.question), Some(*question), "{id}");
        }
    }

    #[test]
    fn ids_are_unique_and_name_their_question() {
        for (i, c) in CHECKS.iter().enumerate() {
            assert!(c.id.starts_with(&format!("{}.", c.question.number())), "{}", c.id);
            assert!(CHECKS[..i].iter().all(|d| d.id != c.id), "{} twice", c.id);
        }
    }

    #[test]
    fn every_written_question_has_concepts_in_lowercase() {
        for q in Question::ALL.into_iter().filter(|q| q.is_written()) {
            assert!(!concepts(q).is_empty());
            for c in concepts(q) {
                for phrase in c.all_of.iter().flat_map(|g| g.iter()) {
                    assert_eq!(*phrase, phrase.to_lowercase(), "{}", c.name);
                }
            }
        }
    }
}
