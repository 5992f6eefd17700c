//! Hints for a student who is stuck: `cargo run -p grader -- hint q6`
//! grades the question, then shows the next hint: first about the check
//! that fails first (its hint in the rubric; for a written answer, the
//! nudge of each concept it misses), then the question's own, from a nudge
//! to the concrete API; and says when there are no more. Which were shown
//! is kept in the workspace's target directory (`grader-hints.json`), by
//! their text, so that a hint is never shown twice and a new failing check
//! brings its own hint first.
//!
//! ```
//! use grader::hints::sequence;
//! use grader::rubric::Question;
//! assert_eq!(sequence(Question::Q6, None).len(), 3);
//! assert!(sequence(Question::Q1, None).len() >= 3); // a nudge per concept
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::rubric::Question;
use crate::score::QuestionScore;

/// The hints of `question`, in the order they are shown: about what fails
/// in `score` (as last graded) first, then the question's own.
pub fn sequence(question: Question, score: Option<&QuestionScore>) -> Vec<String> {
    let own: Vec<String> = if question.is_written() {
        crate::written::nudges(question).into_iter().map(String::from).collect()
    } else {
        question.spec().hints.iter().map(|h| h.to_string()).collect()
    };
    let mut all: Vec<String> = score.map(|s| s.hints.clone()).unwrap_or_default();
    for hint in own {
        if !all.contains(&hint) {
            all.push(hint);
        }
    }
    all
}

/// What `next` has to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Hint `number` of `of`.
    Hint { number: usize, of: usize, text: String },
    /// All `of` were shown.
    NoMore { of: usize },
}

/// The next hint of `question` not shown yet, for the workspace whose target
/// directory is `target` (and records that it was shown); `again` starts
/// over. `score` is the question as last graded, if it was.
pub fn next(target: &Path, question: Question, score: Option<&QuestionScore>, again: bool) -> Result<Next> {
    let path = state_file(target);
    let mut shown: BTreeMap<String, Vec<String>> = match std::fs::read(&path) {
        // A file that cannot be read is no reason to withhold a hint.
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => BTreeMap::new(),
    };
    let key = format!("q{}", question.number());
    if again {
        shown.remove(&key);
    }
    let all = sequence(question, score);
    let seen = shown.entry(key).or_default();
    let Some((at, text)) = all.iter().enumerate().find(|(_, h)| !seen.contains(h)) else {
        return Ok(Next::NoMore { of: all.len() });
    };
    seen.push(text.clone());
    std::fs::create_dir_all(target).with_context(|| format!("creating {}", target.display()))?;
    std::fs::write(&path, serde_json::to_string_pretty(&shown)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(Next::Hint { number: at + 1, of: all.len(), text: text.clone() })
}

fn state_file(target: &Path) -> PathBuf {
    target.join("grader-hints.json")
}

/// The line the scorecard gives a question that lost points.
pub fn offer(question: Question) -> String {
    format!(
        "stuck? `cargo run -p grader -- hint q{}` gives a hint on what fails first, then more, one at a time",
        question.number()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_come_one_at_a_time_then_no_more() {
        let dir = tempfile::tempdir().unwrap();
        let mut seen = Vec::new();
        for number in 1..=3 {
            match next(dir.path(), Question::Q6, None, false).unwrap() {
                Next::Hint { number: n, of: 3, text } => {
                    assert_eq!(n, number);
                    assert!(!seen.contains(&text));
                    seen.push(text);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(next(dir.path(), Question::Q6, None, false).unwrap(), Next::NoMore { of: 3 });
        // Each question counts for itself, and `again` starts over.
        assert!(matches!(next(dir.path(), Question::Q3, None, false).unwrap(), Next::Hint { number: 1, .. }));
        assert!(matches!(next(dir.path(), Question::Q6, None, true).unwrap(), Next::Hint { number: 1, .. }));
    }

    #[test]
    fn what_fails_first_has_its_hint_first_even_after_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let wait = crate::rubric::check_by_id("6.4").unwrap().hint;
        let mut score = crate::score::score_question(crate::checks::QuestionReport::failed(
            Question::Q6,
            "x",
            Vec::new(),
        ));
        score.hints = vec![wait.to_string()];
        match next(dir.path(), Question::Q6, Some(&score), false).unwrap() {
            Next::Hint { number: 1, of: 4, text } => assert_eq!(text, wait),
            other => panic!("{other:?}"),
        }
        // Then the question's own; and a new failing check brings its hint
        // at once.
        assert!(matches!(
            next(dir.path(), Question::Q6, Some(&score), false).unwrap(),
            Next::Hint { number: 2, .. }
        ));
        let order = crate::rubric::check_by_id("6.2").unwrap().hint;
        score.hints = vec![order.to_string()];
        match next(dir.path(), Question::Q6, Some(&score), false).unwrap() {
            Next::Hint { text, .. } => assert_eq!(text, order),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_programming_question_has_hints_that_name_an_api() {
        for q in Question::ALL.into_iter().filter(|q| !q.is_written()) {
            let hints = sequence(q, None);
            assert!((2..=3).contains(&hints.len()), "{q:?}");
            assert!(hints.last().unwrap().contains('`'), "{q:?}: the last hint names the API");
        }
    }
}
