//! Support for the grader's `#[test]`s: each rubric check is a test, which
//! fails with the check's own message exactly when its points are lost.
//!
//! ```ignore
//! // in grader/tests/your_work.rs (CARGO_BIN_EXE_grader exists only in integration tests)
//! grader::student::testing::assert_check(env!("CARGO_BIN_EXE_grader"), "6.2");
//! ```
//!
//! Each question is graded once per test process and the result shared by
//! its tests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::checks::QuestionReport;
use crate::engine::context::{Context, Settings};
use crate::grading::score::QuestionScore;
use crate::rubric::{self, Question};

/// A question's report and its scores.
pub type Graded = Arc<(QuestionReport, QuestionScore)>;

/// Grades `question` of this workspace (once per process).
pub fn report(supervisor: &str, question: Question) -> Graded {
    type Slot = Arc<OnceLock<Graded>>;
    static DONE: OnceLock<Mutex<HashMap<Question, Slot>>> = OnceLock::new();
    let slot = DONE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(question)
        .or_default()
        .clone();
    slot.get_or_init(|| {
        let home = crate::engine::workspace::home();
        let settings = Settings::from_env(&home, supervisor.as_ref())
            .unwrap_or_else(|e| panic!("the grader could not grade Q{}: {e:#}", question.number()));
        let ctx = Context::new(home, &settings);
        let graded = crate::grading::score::grade_question(&ctx, question)
            .unwrap_or_else(|e| panic!("the grader could not grade Q{}: {e:#}", question.number()));
        Arc::new(graded)
    })
    .clone()
}

/// Panics with the check's message unless it earned all its points.
pub fn assert_check(supervisor: &str, id: &str) {
    let check = rubric::check_by_id(id).unwrap_or_else(|| panic!("no check {id} in the rubric"));
    let graded = report(supervisor, check.question());
    let scored = graded.1.checks.iter().find(|c| c.check.id == id).expect("every rubric check is scored");
    let notes = graded.1.notes.iter().map(|n| format!("\n(note: {n})")).collect::<String>();
    assert!(
        scored.passed(),
        "\n{id} {} — {}/{} points\n{}{notes}\n",
        check.title,
        scored.score,
        check.points,
        scored.message
    );
}

/// The normalized output of the question's default run, for its snapshot.
pub fn normalized(supervisor: &str, question: Question) -> String {
    report(supervisor, question).0.normalized.clone().unwrap_or_else(|| "<no output>".to_string())
}
