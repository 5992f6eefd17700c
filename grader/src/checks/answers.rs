//! Q1, Q2, Q4: the written answers, read sentence by sentence for the
//! concepts of the instructor's rubric (see [`written`](crate::checks::written)).
//! An answer that looks gamed, answers another question or holds a
//! misconception is marked "needs review" for the instructor.

use super::{QuestionReport, Verdict};
use crate::checks::written::{Marked, hint, mark};
use crate::engine::context::Context;
use crate::engine::workspace::{Refused, read_regular};
use crate::rubric::Question;

/// The longest answer read (a few thousand words fit many times).
const MAX_ANSWER: u64 = 256 << 10;

pub const NOTE: &str = "written answers are marked automatically, by the concepts their sentences show; the instructor reviews those flagged";

pub fn grade(ctx: &Context, question: Question) -> QuestionReport {
    let path = ctx.workspace.join(question.location());
    let ids: Vec<crate::rubric::CheckId> = crate::rubric::checks_of(question).map(|c| c.id).collect();
    let refused = |message: String| QuestionReport::failed(question, &message, vec![NOTE.to_string()]);
    if let Some(missing) = ctx.missing.get(question.location()) {
        // Not marked, but kept for the instructor's review: it is the
        // easiest mark to set right.
        let mut report = refused(missing.clone());
        report.answer = crate::engine::workspace::renamed_path(&ctx.workspace, question.location())
            .and_then(|found| read_regular(&ctx.workspace.join(found), MAX_ANSWER).ok())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        return report;
    }
    let bytes = match read_regular(&path, MAX_ANSWER) {
        Err(Refused::Unreadable(_)) => {
            return refused(match crate::engine::workspace::renamed(&ctx.workspace, question.location()) {
                Some(instead) => format!("{} is missing: {instead}", question.location()),
                None => format!("{} is missing: write your answer there", question.location()),
            });
        }
        Err(refused_because) => {
            return refused(format!(
                "{} {refused_because}: write your answer in the file itself",
                question.location()
            ));
        }
        Ok(bytes) => bytes,
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let marked = mark(question, &text);
    if marked.placeholder {
        return QuestionReport::not_attempted(
            question,
            &format!(
                "not attempted yet: {} has no answer of yours in it yet ({})",
                question.location(),
                hint(question)
            ),
            vec![NOTE.to_string()],
        );
    }
    let verdicts = vec![(ids[0], own_answer(&marked)), (ids[1], concepts(question, &marked))];
    QuestionReport {
        question,
        verdicts,
        notes: vec![NOTE.to_string()],
        normalized: None,
        witnessed: None,
        review: marked.flags.clone(),
        answer: Some(text),
        attempted: true,
        nudges: nudges(&marked),
    }
}

/// What to think about next: a misconception first (it costs points), then
/// each required concept not shown.
fn nudges(marked: &Marked) -> Vec<String> {
    let misconception = (!marked.misconceptions.is_empty()).then(|| MISCONCEPTION_NUDGE.to_string());
    misconception.into_iter().chain(marked.missing.iter().map(|c| c.nudge.clone())).collect()
}

/// The nudge for an answer that states a misconception.
const MISCONCEPTION_NUDGE: &str = "Read again the sentence your scorecard quotes as a misconception, and test it against the programs of this assignment: is it what they show? Say what is true instead.";

fn own_answer(marked: &Marked) -> Verdict {
    let sentences = |n: usize| if n == 1 { "1 sentence".to_string() } else { format!("{n} sentences") };
    if marked.answer_points > 0 {
        return Verdict::pass(format!("{} on the subject", sentences(marked.on_topic)));
    }
    if !marked.gamed.is_empty() {
        return Verdict::fail(format!("needs review: {}", crate::checks::flag::worded(&marked.gamed)));
    }
    Verdict::fail(format!(
        "no sentence says anything about the subject ({} of your own in all): write sentences, not keywords",
        sentences(marked.sentences)
    ))
}

/// Said of the concepts where this grader does not carry the rules.
pub const PROVISIONAL: &str = "provisional: this copy of the grader carries the concepts of a full answer but not the rules that recognise them, so your instructor's grader marks them";

fn concepts(question: Question, marked: &Marked) -> Verdict {
    if crate::checks::written::rules() == crate::checks::written::Rules::Private {
        return if marked.answer_points > 0 {
            Verdict::pass(format!("{PROVISIONAL}. {}", hint(question)))
        } else {
            Verdict::fail(format!(
                "{PROVISIONAL}; first, an answer of your own in sentences (see the check above). {}",
                hint(question)
            ))
        };
    }
    let mut parts = Vec::new();
    for (concept, sentence) in &marked.shown {
        let extra = if concept.required { "" } else { " (an extra)" };
        parts.push(format!("✓ {}{extra}: “{sentence}”", concept.name));
    }
    for concept in &marked.missing {
        // What to say something about, not what to say: see answers.toml.
        parts.push(format!("✗ {}", concept.hint));
    }
    for (m, sentence) in &marked.misconceptions {
        parts.push(format!("✗ a misconception, −{}: “{sentence}”: {}", m.points, m.feedback));
    }
    let capped = if marked.capped { " (capped: the answer needs review)" } else { "" };
    let head = format!(
        "{} of {} points for concepts{capped}; {}",
        marked.concept_points,
        marked.concept_max,
        hint(question)
    );
    let message = std::iter::once(head).chain(parts).collect::<Vec<_>>().join("\n");
    Verdict::partial(marked.concept_points as usize, marked.concept_max as usize, message)
}
