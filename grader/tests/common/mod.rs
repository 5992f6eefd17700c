//! Shared by the test files: each rubric check is a `#[test]` that fails
//! with the check's message exactly when it loses points.

use grader::rubric::Question;

/// The grader's own executable, which supervises every run.
pub const GRADER: &str = env!("CARGO_BIN_EXE_grader");

pub fn check(id: &str) {
    grader::testing::assert_check(GRADER, id);
}

/// Compares the question's normalized output with its insta snapshot (so an
/// instructor can review a change with `cargo insta review`), and also runs
/// the grading check, which compares with the compiled-in snapshot whatever
/// insta is told: a forced pass in insta's settings changes nothing.
#[allow(dead_code)] // not every test file has a snapshot
pub fn snapshot(question: Question, name: &str, id: &str) {
    let normalized = grader::testing::normalized(GRADER, question);
    let insta = std::panic::catch_unwind(|| {
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(name, normalized);
        });
    });
    check(id);
    if let Err(panic) = insta {
        std::panic::resume_unwind(panic);
    }
}
