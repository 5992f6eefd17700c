//! The instructor's review of the written answers a batch flagged: each is
//! shown beside its automatic mark, the instructor sets the mark, and the
//! decision is kept in `OUT/reviews.json`, beside the gradebook. Every
//! gradebook written afterwards, by `review` or by a later `batch`, applies
//! it, for as long as the answer is the one reviewed (its fingerprint).
//!
//! ```no_run
//! // `grader review marks --set alice:q1=7`, or, with no --set, one by one:
//! let summary = grader::review::review("marks".as_ref(), &[], std::io::stdin().lock(), std::io::stdout())?;
//! println!("{} decided", summary.decided);
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::batch::{Row, write_gradebook};
use crate::rubric::Question;
use crate::score::Scorecard;

/// The rows of the last batch, as graded.
pub const ROWS_FILE: &str = "gradebook.json";
/// The answers the last batch flagged, with their text.
pub const FLAGGED_FILE: &str = "review.json";
/// The instructor's decisions, kept between batches.
pub const DECISIONS_FILE: &str = "reviews.json";

/// A fingerprint of an answer's text (64-bit FNV-1a): a decision holds while
/// the answer it was made on is unchanged.
pub fn fingerprint(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// One decision of the instructor's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub name: String,
    pub question: u32,
    /// The answer decided on.
    pub fingerprint: String,
    pub mark: u32,
    /// The automatic mark it replaced.
    pub automatic: u32,
}

/// Every decision, as kept in `OUT/reviews.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decisions {
    pub decisions: Vec<Decision>,
}

impl Decisions {
    /// The decisions kept in `out` (none yet: no file).
    pub fn load(out: &Path) -> Result<Decisions> {
        let path = out.join(DECISIONS_FILE);
        match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Decisions::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
            Ok(bytes) => {
                serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))
            }
        }
    }

    pub fn save(&self, out: &Path) -> Result<()> {
        let path = out.join(DECISIONS_FILE);
        let text = serde_json::to_string_pretty(self)? + "\n";
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    }

    /// The decision on this very answer, if there is one.
    fn on(&self, name: &str, question: u32, fingerprint: &str) -> Option<&Decision> {
        self.decisions
            .iter()
            .rev()
            .find(|d| d.name == name && d.question == question && d.fingerprint == fingerprint)
    }

    /// Records a decision, replacing any earlier one on the same answer.
    fn decide(&mut self, decision: Decision) {
        self.decisions.retain(|d| {
            !(d.name == decision.name
                && d.question == decision.question
                && d.fingerprint == decision.fingerprint)
        });
        self.decisions.push(decision);
    }

    /// A row's points with the decisions on its answers, and what its review
    /// cell says: each flagged answer's reasons, or its reviewed mark.
    pub fn apply(&self, row: &Row) -> (Vec<u32>, Vec<String>) {
        let mut points = row.points.clone();
        let mut cells = Vec::new();
        for answer in &row.answers {
            let q = answer.question;
            let index = (q as usize).saturating_sub(1);
            if let Some(decision) = self.on(&row.name, q, &answer.fingerprint) {
                if let Some(p) = points.get_mut(index) {
                    *p = decision.mark;
                }
                cells.push(format!("q{q} reviewed: {} (automatic {})", decision.mark, decision.automatic));
            } else if !answer.reasons.is_empty() {
                let changed = self.decisions.iter().any(|d| d.name == row.name && d.question == q);
                let changed = if changed { " (changed since it was reviewed)" } else { "" };
                cells.push(format!("q{q} needs review{changed}: {}", answer.reasons.join("; ")));
            }
        }
        (points, cells)
    }
}

/// A flagged answer, with what the instructor needs to decide on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub name: String,
    pub question: u32,
    pub fingerprint: String,
    pub automatic: u32,
    pub reasons: Vec<String>,
    pub text: String,
}

/// The answers the last batch flagged (`OUT/review.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flagged {
    pub items: Vec<Item>,
}

impl Flagged {
    /// Writes the flagged answers of `rows` to `out`.
    pub fn save(out: &Path, rows: &[Row]) -> Result<()> {
        let items = rows
            .iter()
            .flat_map(|row| {
                row.answers.iter().filter(|a| !a.reasons.is_empty()).map(|a| Item {
                    name: row.name.clone(),
                    question: a.question,
                    fingerprint: a.fingerprint.clone(),
                    automatic: row.points.get(a.question as usize - 1).copied().unwrap_or(0),
                    reasons: a.reasons.clone(),
                    text: a.text.clone(),
                })
            })
            .collect();
        let path = out.join(FLAGGED_FILE);
        let text = serde_json::to_string_pretty(&Flagged { items })? + "\n";
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    }

    fn load(out: &Path) -> Result<Flagged> {
        let path = out.join(FLAGGED_FILE);
        let bytes = std::fs::read(&path).with_context(|| {
            format!("reading {}: grade the batch first (grader batch … --out DIR)", path.display())
        })?;
        serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))
    }
}

/// Flags written answers of the batch that share most of their text with
/// another submission's answer to the same question, in the rows and in
/// their scorecards.
pub fn flag_copies(rows: &mut [Row], cards: &mut [Option<Scorecard>]) {
    for question in Question::ALL.into_iter().filter(|q| q.is_written()) {
        let shingles: Vec<Option<HashSet<String>>> = rows
            .iter()
            .map(|row| {
                row.answers.iter().find(|a| a.question == question.number()).and_then(|a| shingles(&a.text))
            })
            .collect();
        let mut reasons: Vec<Vec<String>> = vec![Vec::new(); rows.len()];
        for i in 0..rows.len() {
            for j in i + 1..rows.len() {
                let (Some(a), Some(b)) = (&shingles[i], &shingles[j]) else { continue };
                let shared = a.intersection(b).count();
                if shared * 10 >= a.len().min(b.len()) * 6 {
                    reasons[i].push(rows[j].name.clone());
                    reasons[j].push(rows[i].name.clone());
                }
            }
        }
        for ((row, card), others) in rows.iter_mut().zip(cards.iter_mut()).zip(reasons) {
            if others.is_empty() {
                continue;
            }
            let reason = format!("copied? most of it is also in the answer of {}", others.join(", "));
            if let Some(answer) = row.answers.iter_mut().find(|a| a.question == question.number()) {
                answer.reasons.push(reason.clone());
            }
            if let Some(q) =
                card.as_mut().and_then(|c| c.questions.iter_mut().find(|q| q.question == question))
            {
                q.review.push(reason);
            }
        }
    }
}

/// The answer's runs of five words, if it has enough words to compare.
fn shingles(text: &str) -> Option<HashSet<String>> {
    let words: Vec<String> = text
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    (words.len() >= 25).then(|| words.windows(5).map(|w| w.join(" ")).collect())
}

/// What a review did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Answers flagged in the last batch.
    pub flagged: usize,
    /// Decisions made now.
    pub decided: usize,
    /// Flagged answers still without a decision.
    pub open: usize,
}

const PROMPT: &str = "mark 0-{max} (Enter keeps {automatic}, s skips, q stops): ";

/// Reviews the batch in `out`: applies each `--set NAME:qN=MARK` in
/// `sets`; without any, shows each flagged answer not yet decided on
/// `output` and reads the mark from `input`. Keeps the decisions and
/// rewrites the gradebook with them.
pub fn review(out: &Path, sets: &[String], input: impl BufRead, mut output: impl Write) -> Result<Summary> {
    let rows: Vec<Row> = {
        let path = out.join(ROWS_FILE);
        let bytes = std::fs::read(&path).with_context(|| {
            format!("reading {}: grade the batch first (grader batch … --out DIR)", path.display())
        })?;
        serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?
    };
    let flagged = Flagged::load(out)?;
    let mut decisions = Decisions::load(out)?;
    let mut decided = 0;
    for set in sets {
        let (name, question, mark) = parse_set(set)?;
        let row =
            rows.iter().find(|r| r.name == name).with_context(|| format!("no submission named {name:?}"))?;
        let answer = row
            .answers
            .iter()
            .find(|a| a.question == question.number())
            .with_context(|| format!("{name} has no answer to Q{} to review", question.number()))?;
        let automatic = row.points.get(question.number() as usize - 1).copied().unwrap_or(0);
        decisions.decide(Decision {
            name: name.to_string(),
            question: question.number(),
            fingerprint: answer.fingerprint.clone(),
            mark,
            automatic,
        });
        decided += 1;
    }
    if sets.is_empty() {
        let mut lines = input.lines();
        for item in &flagged.items {
            if decisions.on(&item.name, item.question, &item.fingerprint).is_some() {
                continue;
            }
            let max = Question::parse(&item.question.to_string()).map_or(10, |q| q.spec().points());
            writeln!(
                output,
                "\n{}, Q{}: automatic mark {}/{max}\nneeds review: {}\n----- answer -----\n{}\n------------------",
                item.name,
                item.question,
                item.automatic,
                crate::report::printable(&item.reasons.join("; ")),
                crate::report::printable(item.text.trim_end()),
            )?;
            let mark = loop {
                let prompt = PROMPT
                    .replace("{max}", &max.to_string())
                    .replace("{automatic}", &item.automatic.to_string());
                write!(output, "{prompt}")?;
                output.flush()?;
                let Some(line) = lines.next().transpose()? else { break None };
                match line.trim() {
                    "" => break Some(item.automatic),
                    "s" => break None,
                    "q" => {
                        save(out, &rows, &decisions)?;
                        return Ok(summary(&flagged, &decisions, decided));
                    }
                    n => match n.parse::<u32>() {
                        Ok(mark) if mark <= max => break Some(mark),
                        _ => writeln!(output, "{n:?} is not a mark from 0 to {max}")?,
                    },
                }
            };
            if let Some(mark) = mark {
                decisions.decide(Decision {
                    name: item.name.clone(),
                    question: item.question,
                    fingerprint: item.fingerprint.clone(),
                    mark,
                    automatic: item.automatic,
                });
                decided += 1;
            }
        }
    }
    save(out, &rows, &decisions)?;
    Ok(summary(&flagged, &decisions, decided))
}

fn save(out: &Path, rows: &[Row], decisions: &Decisions) -> Result<()> {
    decisions.save(out)?;
    write_gradebook(out, rows, decisions)
}

fn summary(flagged: &Flagged, decisions: &Decisions, decided: usize) -> Summary {
    let open =
        flagged.items.iter().filter(|i| decisions.on(&i.name, i.question, &i.fingerprint).is_none()).count();
    Summary { flagged: flagged.items.len(), decided, open }
}

/// `NAME:qN=MARK`, checked: a written question, a mark within its points.
fn parse_set(set: &str) -> Result<(&str, Question, u32)> {
    let usage = || format!("--set {set:?}: expected NAME:qN=MARK, e.g. alice:q1=7");
    let (name, rest) = set.rsplit_once(':').with_context(usage)?;
    let (question, mark) = rest.split_once('=').with_context(usage)?;
    let question = Question::parse(question).with_context(usage)?;
    if !question.is_written() {
        bail!("--set {set:?}: Q{} is not a written question", question.number());
    }
    let mark: u32 = mark.trim().parse().ok().with_context(usage)?;
    let max = question.spec().points();
    if mark > max {
        bail!("--set {set:?}: Q{} is out of {max}", question.number());
    }
    Ok((name, question, mark))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_follow_the_text() {
        assert_eq!(fingerprint("a"), fingerprint("a"));
        assert_ne!(fingerprint("a"), fingerprint("b"));
        assert_eq!(fingerprint(""), "cbf29ce484222325");
    }

    #[test]
    fn sets_are_checked() {
        assert_eq!(parse_set("alice:q1=7").unwrap().2, 7);
        assert!(parse_set("alice:q3=7").unwrap_err().to_string().contains("not a written question"));
        assert!(parse_set("alice:q1=11").is_err());
        assert!(parse_set("alice=7").is_err());
    }
}
