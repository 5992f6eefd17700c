//! Hints for a student who is stuck: `cargo run -p grader -- hint q6`
//! grades the question, then shows the next hint. First comes what speaks
//! to the check that fails first (its hint in the rubric; for a written
//! answer, the nudge of each concept it misses), shown again when that
//! check fails again after another one did; then
//! the question's own hints, from a nudge to the concrete API, numbered
//! "hint 2 of 3" whatever fails; then it says there are no more. What was
//! shown is kept in the workspace's target directory (`grader-hints.json`).
//!
//! ```
//! use grader::student::hints::own;
//! use grader::rubric::Question;
//! assert_eq!(own(Question::Q6).len(), 3);
//! assert!(own(Question::Q1).len() >= 3); // a nudge per concept
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::grading::score::QuestionScore;
use crate::rubric::Question;

/// The question's own hints, in order: a nudge first, the API last (a
/// written question's: a nudge per concept a full answer covers).
pub fn own(question: Question) -> Vec<&'static str> {
    if question.is_written() {
        crate::checks::written::nudges(question)
    } else {
        question.spec().hints.to_vec()
    }
}

/// Every hint `next` may give of `question`, as last graded in `score`:
/// those about what fails first, then the question's own.
pub fn sequence(question: Question, score: Option<&QuestionScore>) -> Vec<String> {
    let mut all: Vec<String> = score.map(|s| s.hints.clone()).unwrap_or_default();
    for hint in own(question) {
        if !all.iter().any(|h| h == hint) {
            all.push(hint.to_string());
        }
    }
    all
}

/// What `next` has to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// A hint about the check that fails (`check`).
    About { check: crate::rubric::CheckId, text: String },
    /// The question's own hint `number` of `of`.
    Hint { number: usize, of: usize, text: String },
    /// All `of` of the question's own were shown, and what fails has had
    /// its hints.
    NoMore { of: usize },
}

impl Next {
    /// As `grader hint` prints it.
    pub fn said(&self, question: Question) -> String {
        let q = question.number();
        match self {
            Next::About { check, text } => format!("Q{q}, on {check}: {text}"),
            Next::Hint { number, of, text } => format!("Q{q}, hint {number} of {of}: {text}"),
            Next::NoMore { of: 1 } => {
                format!("Q{q} has no more hints: its one hint was shown (--again starts over)")
            }
            Next::NoMore { of } => {
                format!("Q{q} has no more hints: all {of} were shown (--again starts over)")
            }
        }
    }
}

/// What was shown of one question.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Shown {
    texts: Vec<String>,
    /// The last hint shown about a failing check.
    last_about: Option<String>,
}

/// The next hint of `question` for the workspace whose target directory
/// is `target` (and records that it was shown); `again` starts over.
/// `score` is the question as last graded, if it was.
pub fn next(target: &Path, question: Question, score: Option<&QuestionScore>, again: bool) -> Result<Next> {
    let path = state_file(target);
    let mut state: BTreeMap<String, Shown> = match std::fs::read(&path) {
        // A file that cannot be read is no reason to withhold a hint.
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => BTreeMap::new(),
    };
    let key = format!("q{}", question.number());
    if again {
        state.remove(&key);
    }
    let shown = state.entry(key).or_default();
    let about: Vec<String> = score.map(|s| s.hints.clone()).unwrap_or_default();
    let own = own(question);
    // What fails first speaks first, and again once another check has
    // failed in between (its hints were shown, then this one came back);
    // then the next of its hints, then the question's own.
    let next = score.and_then(|s| s.hints_about).and_then(|check| {
        let same_failure = shown.last_about.as_ref().is_some_and(|l| about.contains(l));
        let unseen = about.iter().find(|h| !shown.texts.contains(h));
        let text = if same_failure { unseen } else { unseen.or(about.first()) };
        text.map(|text| Next::About { check, text: text.clone() })
    });
    let next = next.or_else(|| {
        own.iter()
            .enumerate()
            .find(|(_, h)| !shown.texts.iter().any(|s| s == *h))
            .map(|(i, text)| Next::Hint { number: i + 1, of: own.len(), text: text.to_string() })
    });
    let Some(next) = next else { return Ok(Next::NoMore { of: own.len() }) };
    let text = match &next {
        Next::About { text, .. } | Next::Hint { text, .. } => text.clone(),
        Next::NoMore { .. } => unreachable!("returned above"),
    };
    if !shown.texts.contains(&text) {
        shown.texts.push(text.clone());
    }
    if matches!(next, Next::About { .. }) {
        shown.last_about = Some(text);
    }
    std::fs::create_dir_all(target).with_context(|| format!("creating {}", target.display()))?;
    std::fs::write(&path, serde_json::to_string_pretty(&state)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(next)
}

fn state_file(target: &Path) -> PathBuf {
    target.join("grader-hints.json")
}

pub use crate::report::hint_offer as offer;

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(id: &'static str) -> QuestionScore {
        let question = crate::rubric::check_by_id(id).unwrap().question();
        let mut score = crate::grading::score::score_question(crate::checks::QuestionReport::failed(
            question,
            "x",
            Vec::new(),
        ));
        score.hints = vec![crate::rubric::check_by_id(id).unwrap().hint.to_string()];
        score.hints_about = Some(crate::rubric::check_by_id(id).unwrap().id);
        score
    }

    #[test]
    fn the_questions_own_hints_come_one_at_a_time_then_no_more() {
        let dir = tempfile::tempdir().unwrap();
        for number in 1..=3 {
            match next(dir.path(), Question::Q6, None, false).unwrap() {
                Next::Hint { number: n, of: 3, .. } => assert_eq!(n, number),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(next(dir.path(), Question::Q6, None, false).unwrap(), Next::NoMore { of: 3 });
        // Each question counts for itself, and `again` starts over.
        assert!(matches!(next(dir.path(), Question::Q3, None, false).unwrap(), Next::Hint { number: 1, .. }));
        assert!(matches!(next(dir.path(), Question::Q6, None, true).unwrap(), Next::Hint { number: 1, .. }));
    }

    #[test]
    fn what_fails_first_speaks_first_and_again_after_another_failure() {
        let dir = tempfile::tempdir().unwrap();
        let wait = failing("6.4");
        let about = |n: Next| match n {
            Next::About { check, .. } => check,
            other => panic!("{other:?}"),
        };
        assert_eq!(about(next(dir.path(), Question::Q6, Some(&wait), false).unwrap()), "6.4");
        // Then the question's own, numbered as ever, without the same
        // failure's hint in between.
        for number in 1..=2 {
            assert!(matches!(
                next(dir.path(), Question::Q6, Some(&wait), false).unwrap(),
                Next::Hint { number: n, of: 3, .. } if n == number
            ));
        }
        // Something else fails now: its hint at once; then the wait fails
        // again: its hint again, though it was shown before.
        assert_eq!(about(next(dir.path(), Question::Q6, Some(&failing("6.2")), false).unwrap()), "6.2");
        assert_eq!(about(next(dir.path(), Question::Q6, Some(&wait), false).unwrap()), "6.4");
        assert!(matches!(
            next(dir.path(), Question::Q6, Some(&wait), false).unwrap(),
            Next::Hint { number: 3, of: 3, .. }
        ));
    }

    #[test]
    fn every_programming_question_has_hints_that_name_an_api() {
        for q in Question::ALL.into_iter().filter(|q| !q.is_written()) {
            let hints = own(q);
            assert!((2..=3).contains(&hints.len()), "{q:?}");
            assert!(hints.last().unwrap().contains('`'), "{q:?}: the last hint names the API");
        }
    }
}
