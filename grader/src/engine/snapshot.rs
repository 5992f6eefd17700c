//! The reference's normalized output, as accepted through insta's review
//! flow (`cargo insta review`) into `grader/tests/snapshots/`, and compiled
//! into the [rubric](crate::rubric::QUESTIONS).
//!
//! Grading compares against exactly what was reviewed, whatever insta
//! settings a workspace carries (`INSTA_FORCE_PASS`, `.config/insta.yaml`):
//! insta's own assertion only runs after this check.

use crate::rubric::{Question, Work};

/// The snapshot of `question`'s program (its body, without insta's header).
pub fn expected(question: Question) -> Option<&'static str> {
    match question.spec().work {
        Work::Program { snapshot, .. } => Some(body(snapshot)),
        Work::Answer => None,
    }
}

/// An insta snapshot file is a `---`-fenced header, then the body.
fn body(file: &str) -> &str {
    let mut parts = file.splitn(3, "---\n");
    match (parts.next(), parts.next(), parts.next()) {
        (Some(""), Some(_header), Some(body)) => body,
        _ => file,
    }
}

#[cfg(test)]
mod tests {
    use crate::rubric::Question;

    #[test]
    fn every_snapshot_has_a_body() {
        for q in Question::ALL.into_iter().filter(|q| q.package().is_some()) {
            let body = super::expected(q).unwrap();
            assert!(!body.contains("expression:") && body.contains("[pid]"), "{q:?}: {body}");
        }
    }
}
