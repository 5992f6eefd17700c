//! Q1, Q2, Q4: the written answers, read for substance and for the concepts
//! of the [rubric](crate::rubric::concepts). Checked automatically; the
//! instructor may re-grade.

use super::{QuestionReport, Verdict};
use crate::grade::Context;
use crate::rubric::{MIN_SENTENCES, MIN_WORDS, PLACEHOLDERS, Question, concepts};
use crate::workspace::{Refused, read_regular};

/// The longest answer read (a few thousand words fit many times).
const MAX_ANSWER: u64 = 256 << 10;

pub const NOTE: &str = "written answers are checked automatically; the instructor may re-grade";

pub fn grade(ctx: &Context, question: Question) -> QuestionReport {
    let n = question.number();
    let path = ctx.workspace.join(question.location());
    let (substance, coverage) = match read_regular(&path, MAX_ANSWER) {
        Err(Refused::Unreadable(_)) => {
            let missing = format!("{} is missing: write your answer there", question.location());
            (Verdict::fail(&missing), Verdict::fail(missing))
        }
        Err(refused) => {
            let message = format!("{} {refused}: write your answer in the file itself", question.location());
            (Verdict::fail(&message), Verdict::fail(message))
        }
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            match substance(&text) {
                Err(problem) => {
                    let message = format!("{}: {problem}", question.location());
                    (Verdict::fail(&message), Verdict::fail("not attempted yet: write the answer first"))
                }
                Ok(summary) => (Verdict::pass(summary), coverage(question, &text)),
            }
        }
    };
    let ids = crate::rubric::checks_of(question).map(|c| c.id).collect::<Vec<_>>();
    debug_assert_eq!(ids.len(), 2, "Q{n} has a substance and a coverage check");
    QuestionReport {
        question,
        verdicts: vec![(ids[0], substance), (ids[1], coverage)],
        notes: vec![NOTE.to_string()],
        normalized: None,
        witnessed: None,
    }
}

/// The answer's own words: without headings (the question is one) and
/// without Markdown markup.
fn prose(text: &str) -> String {
    let body: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    body.join("\n").replace(['*', '_', '`'], "").to_lowercase()
}

fn substance(text: &str) -> Result<String, String> {
    let prose = prose(text);
    if let Some(placeholder) = PLACEHOLDERS.iter().find(|p| contains_word(&prose, p)) {
        return Err(format!(
            "not attempted yet: it still says {placeholder:?}; replace that with your answer"
        ));
    }
    let words = prose.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count();
    let sentences = prose.split(['.', '!', '?']).filter(|s| s.split_whitespace().count() >= 3).count();
    if words < MIN_WORDS || sentences < MIN_SENTENCES {
        return Err(format!(
            "{words} words in {sentences} sentences, besides the headings: an answer needs at least {MIN_WORDS} words in {MIN_SENTENCES} sentences"
        ));
    }
    Ok(format!("{words} words in {sentences} sentences"))
}

/// Whether `phrase` occurs in `text` starting at a word boundary (so "tbd"
/// does not match inside another word).
fn contains_word(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(i, _)| i == 0 || !text[..i].ends_with(char::is_alphanumeric))
}

fn coverage(question: Question, text: &str) -> Verdict {
    let prose = prose(text);
    let all = concepts(question);
    let missing: Vec<&str> = all
        .iter()
        .filter(|c| !c.all_of.iter().all(|group| group.iter().any(|p| contains_word(&prose, p))))
        .map(|c| c.name)
        .collect();
    let covered = all.len() - missing.len();
    if missing.is_empty() {
        Verdict::pass(format!("covers all {} key concepts", all.len()))
    } else {
        Verdict::partial(
            covered,
            all.len(),
            format!("covers {covered} of {} key concepts; not found: {}", all.len(), missing.join("; ")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_alone_is_not_an_answer() {
        let prompt = "# Q1. What is multiprocessing? Why is it useful?\n\n_Write your answer here._\n";
        assert!(substance(prompt).unwrap_err().contains("not attempted yet"));
        assert!(
            substance("# Q1\n\nMultiprocessing is good. It is fast.\n").unwrap_err().contains("at least")
        );
    }

    #[test]
    fn placeholders_match_whole_words_only() {
        assert!(contains_word("a todo list", "todo"));
        assert!(!contains_word("mastodon", "todo"));
    }
}
