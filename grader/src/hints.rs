//! Hints for a student who is stuck: `cargo run -p grader -- hint q6` shows
//! the question's next hint, from a nudge to the concrete API, and says
//! when there are no more. Which were shown is kept in the workspace's
//! target directory (`grader-hints.json`), so each call goes one further.
//!
//! ```
//! use grader::hints::hints;
//! use grader::rubric::Question;
//! assert_eq!(hints(Question::Q6).len(), 3);
//! assert_eq!(hints(Question::Q1).len(), 1); // what a full answer covers
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::rubric::Question;

/// The hints of `question`, in the order they are shown.
pub fn hints(question: Question) -> Vec<&'static str> {
    if question.is_written() { vec![crate::written::hint(question)] } else { question.spec().hints.to_vec() }
}

/// What `next` has to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Hint `number` of `of`.
    Hint { number: usize, of: usize, text: &'static str },
    /// All `of` were shown.
    NoMore { of: usize },
}

/// The next hint of `question` for the workspace whose target directory
/// is `target` (and records that it was shown); `again` starts over.
pub fn next(target: &Path, question: Question, again: bool) -> Result<Next> {
    let path = state_file(target);
    let mut shown: BTreeMap<String, usize> = match std::fs::read(&path) {
        // A file that cannot be read is no reason to withhold a hint.
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => BTreeMap::new(),
    };
    let key = format!("q{}", question.number());
    let all = hints(question);
    let count = if again { 0 } else { shown.get(&key).copied().unwrap_or(0) };
    let Some(text) = all.get(count).copied() else {
        return Ok(Next::NoMore { of: all.len() });
    };
    shown.insert(key, count + 1);
    std::fs::create_dir_all(target).with_context(|| format!("creating {}", target.display()))?;
    std::fs::write(&path, serde_json::to_string_pretty(&shown)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(Next::Hint { number: count + 1, of: all.len(), text })
}

fn state_file(target: &Path) -> PathBuf {
    target.join("grader-hints.json")
}

/// The line the scorecard gives a question that lost points.
pub fn offer(question: Question) -> String {
    let n = hints(question).len();
    let hints = if n == 1 { "a hint".to_string() } else { format!("{n} hints, one at a time") };
    format!("stuck? `cargo run -p grader -- hint q{}` gives {hints}", question.number())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_come_one_at_a_time_then_no_more() {
        let dir = tempfile::tempdir().unwrap();
        let mut seen = Vec::new();
        for number in 1..=3 {
            match next(dir.path(), Question::Q6, false).unwrap() {
                Next::Hint { number: n, of: 3, text } => {
                    assert_eq!(n, number);
                    assert!(!seen.contains(&text));
                    seen.push(text);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(next(dir.path(), Question::Q6, false).unwrap(), Next::NoMore { of: 3 });
        // Each question counts for itself, and `again` starts over.
        assert!(matches!(next(dir.path(), Question::Q3, false).unwrap(), Next::Hint { number: 1, .. }));
        assert!(matches!(next(dir.path(), Question::Q6, true).unwrap(), Next::Hint { number: 1, .. }));
    }

    #[test]
    fn every_programming_question_has_hints_that_name_an_api() {
        for q in Question::ALL.into_iter().filter(|q| !q.is_written()) {
            let hints = hints(q);
            assert!((2..=3).contains(&hints.len()), "{q:?}");
            assert!(hints.last().unwrap().contains('`'), "{q:?}: the last hint names the API");
        }
    }
}
