//! The top of the pipeline: each question's checks run, then scored
//! ([`score`]), for this workspace or for another checkout graded as it
//! ([`submission`]). It sits above [`checks`](crate::checks), which sit
//! above the [`engine`](crate::engine) they build and run with; the
//! [`report`](crate::report), the classroom and the student's loop sit
//! above it.

pub mod score;
pub mod submission;

/// This grader, as its sources were when it was built: two gradings with
/// the same fingerprint were made by the same code.
pub fn grader_fingerprint() -> &'static str {
    env!("GRADER_SOURCE_FINGERPRINT")
}

/// The rubric: every question's checks, points, snapshots and hints, and
/// the written answers' concepts. Two gradings with the same fingerprint
/// were marked against the same rubric.
pub fn rubric_fingerprint() -> String {
    let rubric = format!("{:?}\n{}", crate::rubric::QUESTIONS, crate::checks::written::RUBRIC);
    crate::engine::normalize::fingerprint(rubric.as_bytes())
}

use crate::rubric::Question;

/// What a long job says as it goes, to whoever shows it: the one event
/// type of the scorecard's line, the batch's bar and the watch's status.
///
/// ```
/// use grader::grading::Progress;
/// use grader::rubric::Question;
/// assert_eq!(Progress::Grading(Question::Q6).to_string(), "grading Q6 (exercises/q6_four_procs)…");
/// assert_eq!(Progress::Graded { done: 3, all: 30 }.to_string(), "3/30 graded");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// This question's grading starts.
    Grading(Question),
    /// `done` of `all` repositories are fetched.
    Fetched { done: usize, all: usize },
    /// `done` of `all` submissions are graded.
    Graded { done: usize, all: usize },
    /// `done` of `all` students' results are merged from their shards.
    Merged { done: usize, all: usize },
}

impl Progress {
    /// How far, for a bar: `(done, all)`, or `None` for a question.
    pub fn count(self) -> Option<(usize, usize)> {
        match self {
            Progress::Grading(_) => None,
            Progress::Fetched { done, all }
            | Progress::Graded { done, all }
            | Progress::Merged { done, all } => Some((done, all)),
        }
    }
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Progress::Grading(q) => write!(f, "grading Q{} ({})…", q.number(), q.location()),
            Progress::Fetched { done, all } => write!(f, "{done}/{all} fetched"),
            Progress::Graded { done, all } => write!(f, "{done}/{all} graded"),
            Progress::Merged { done, all } => write!(f, "{done}/{all} merged"),
        }
    }
}
