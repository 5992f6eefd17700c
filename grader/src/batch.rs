//! Grading a class: many submissions in parallel, each isolated and
//! time-limited, into one gradebook.
//!
//! ```no_run
//! use grader::batch::{Batch, Submission, batch};
//! use grader::submission::Options;
//! let options = Options::new(&grader::workspace::home(), "target/debug/grader".as_ref());
//! let submissions = Submission::from_dirs(&["../alice".into(), "../bob".into()]);
//! let rows = batch(&Batch { options, submissions, out: "marks".into(), jobs: 2 }, |_, _| {})?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Writes `OUT/gradebook.csv` (a row per submission: name, points per
//! question, total, changed protected paths, the commit graded, errors, and
//! the written answers that need the instructor's review), each
//! submission's `OUT/<name>/results.json`, and, for [`review`](crate::review),
//! `OUT/gradebook.json` (the rows, as graded) and `OUT/review.json` (the
//! flagged answers). The instructor's decisions, in `OUT/reviews.json`, are
//! applied to every gradebook written, for as long as the answer they were
//! made on is unchanged. A submission that cannot be graded gets a row
//! with its error; it never stops the batch. Nothing is written to OUT
//! until every submission has been graded, and only by the grader: no
//! submission's program can reach OUT (see the
//! [sandbox](crate::supervisor::sandbox)), and none runs any more.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use rayon::prelude::*;

use serde::{Deserialize, Serialize};

use crate::report;
use crate::review::{Decisions, Flagged};
use crate::rubric::Question;
use crate::score::Scorecard;
use crate::submission::{Options, grade_submission};

/// One submission to grade: a checkout (or why there is none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// Its row's name, unique in the batch.
    pub name: String,
    pub dir: Result<PathBuf, String>,
    /// The commit checked out, when known.
    pub commit: Option<String>,
}

impl Submission {
    /// Submissions from directories, named after them.
    pub fn from_dirs(dirs: &[PathBuf]) -> Vec<Submission> {
        let names =
            unique_names(dirs.iter().map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned())));
        dirs.iter()
            .zip(names)
            .map(|(dir, name)| Submission { name, dir: Ok(dir.clone()), commit: None })
            .collect()
    }
}

/// What to grade, and where to write.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The template, the grader, the limits.
    pub options: Options,
    pub submissions: Vec<Submission>,
    pub out: PathBuf,
    /// Submissions graded at once.
    pub jobs: usize,
}

/// One line of the gradebook, as graded (the instructor's decisions are
/// applied when it is written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub name: String,
    /// Points per question, Q1 to Q6; none when it could not be graded (its
    /// cells stay empty: an error is not a zero).
    pub points: Vec<u32>,
    pub total: Option<u32>,
    pub changed: Vec<String>,
    pub commit: Option<String>,
    pub error: Option<String>,
    /// The written answers, each with its fingerprint and why it needs
    /// review, if it does.
    pub answers: Vec<Answer>,
}

/// A written answer, as graded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub question: u32,
    /// A fingerprint of its text: a decision holds while it is the same.
    pub fingerprint: String,
    /// Why it needs the instructor's review (none: it does not).
    pub reasons: Vec<String>,
    /// Its text (kept for review, not in the gradebook).
    #[serde(skip)]
    pub text: String,
}

/// Grades every submission; `progress(done, all)` hears of each finished one.
pub fn batch(spec: &Batch, progress: impl Fn(usize, usize) + Sync) -> Result<Vec<Row>> {
    std::fs::create_dir_all(&spec.out).with_context(|| format!("creating {}", spec.out.display()))?;
    // Read first: a broken file of decisions stops the batch before it starts.
    let decisions = Decisions::load(&spec.out)?;
    let done = AtomicUsize::new(0);
    let all = spec.submissions.len();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(spec.jobs.max(1)).build()?;
    let graded: Vec<(Row, Option<Scorecard>)> = pool.install(|| {
        spec.submissions
            .par_iter()
            .map(|submission| {
                let graded = grade_one(spec, submission);
                progress(done.fetch_add(1, Ordering::SeqCst) + 1, all);
                graded
            })
            .collect()
    });
    let (mut rows, mut cards): (Vec<Row>, Vec<Option<Scorecard>>) = graded.into_iter().unzip();
    crate::review::flag_copies(&mut rows, &mut cards);
    // Every run has ended: now, and only now, OUT is written.
    for (row, card) in rows.iter_mut().zip(&cards) {
        let Some(card) = card else { continue };
        let json = serde_json::to_string_pretty(&report::json(card)).unwrap_or_default();
        let dir = spec.out.join(&row.name);
        let written =
            std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join("results.json"), json));
        if let Err(e) = written {
            row.error = Some(format!("writing results.json: {e}"));
        }
    }
    write_gradebook(&spec.out, &rows, &decisions)?;
    let rows_json = serde_json::to_string_pretty(&rows)?;
    let path = spec.out.join(crate::review::ROWS_FILE);
    std::fs::write(&path, rows_json + "\n").with_context(|| format!("writing {}", path.display()))?;
    Flagged::save(&spec.out, &rows)?;
    Ok(rows)
}

/// Writes `OUT/gradebook.csv`: `rows` with the instructor's decisions.
pub fn write_gradebook(out: &std::path::Path, rows: &[Row], decisions: &Decisions) -> Result<()> {
    let csv = out.join("gradebook.csv");
    std::fs::write(&csv, gradebook(rows, decisions)).with_context(|| format!("writing {}", csv.display()))
}

/// One submission's row, and its scorecard (none if it was not graded).
fn grade_one(spec: &Batch, submission: &Submission) -> (Row, Option<Scorecard>) {
    let name = &submission.name;
    let failed = |error: String| Row {
        name: name.to_string(),
        points: Vec::new(),
        total: None,
        changed: Vec::new(),
        commit: submission.commit.clone(),
        error: Some(error),
        answers: Vec::new(),
    };
    let dir = match &submission.dir {
        Ok(dir) => dir,
        Err(e) => return (failed(e.clone()), None),
    };
    let graded = std::panic::catch_unwind(|| grade_submission(&spec.options, dir, |_| {}));
    match graded {
        Err(_) => (failed("the grader failed on this submission (a bug: please report it)".into()), None),
        Ok(Err(e)) => (failed(format!("{e:#}")), None),
        Ok(Ok(card)) => {
            let answers = card
                .questions
                .iter()
                .filter_map(|q| {
                    let text = q.answer.clone()?;
                    Some(Answer {
                        question: q.question.number(),
                        fingerprint: crate::review::fingerprint(&text),
                        reasons: q.review.clone(),
                        text,
                    })
                })
                .collect();
            let row = Row {
                name: name.to_string(),
                points: card.questions.iter().map(|q| q.score()).collect(),
                total: Some(card.score()),
                changed: card.changed_protected_paths.clone(),
                commit: submission.commit.clone(),
                error: None,
                answers,
            };
            (row, Some(card))
        }
    }
}

/// A name per submission (its directory's, its student's), fit to name a
/// directory of its own (letters, digits, `-`, `_`, `.`; never `.`, `..` or
/// hidden) and unique.
pub fn unique_names(names: impl Iterator<Item = Option<String>>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    names
        .map(|base| {
            let base = base.filter(|b| !b.is_empty()).unwrap_or_else(|| "submission".into());
            let base: String = base
                .chars()
                .map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' })
                .collect();
            let base = if base.starts_with('.') { format!("_{base}") } else { base };
            let mut name = base.clone();
            let mut n = 2;
            while !seen.insert(name.clone()) {
                name = format!("{base}-{n}");
                n += 1;
            }
            name
        })
        .collect()
}

/// The gradebook as CSV, with the instructor's decisions applied.
pub fn gradebook(rows: &[Row], decisions: &Decisions) -> String {
    let mut header: Vec<String> = vec!["name".into()];
    header.extend(Question::ALL.iter().map(|q| format!("q{}", q.number())));
    header.extend(["total", "changed_protected_paths", "commit", "errors", "review"].map(String::from));
    let mut out = header.join(",") + "\n";
    for row in rows {
        let (points, review) = decisions.apply(row);
        let mut fields = vec![field(&row.name)];
        match points.is_empty() {
            true => fields.extend(Question::ALL.map(|_| String::new())),
            false => fields.extend(points.iter().map(u32::to_string)),
        }
        let total = (!points.is_empty()).then(|| points.iter().sum::<u32>());
        fields.push(total.map(|t| t.to_string()).unwrap_or_default());
        fields.push(field(&row.changed.join("; ")));
        fields.push(field(row.commit.as_deref().unwrap_or("")));
        fields.push(field(row.error.as_deref().unwrap_or("")));
        fields.push(field(&review.join("; ")));
        out.push_str(&(fields.join(",") + "\n"));
    }
    out
}

/// A CSV field, quoted when it must be; a leading `=`, `+`, `-` or `@` is
/// defused so a spreadsheet does not run it as a formula.
fn field(text: &str) -> String {
    let text = crate::report::printable(&text.replace(['\r', '\n'], " "));
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text };
    if text.contains([',', '"']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_safe() {
        let dirs = [PathBuf::from("a/alice"), PathBuf::from("b/alice"), PathBuf::from("x/b o,b")];
        let names: Vec<String> = Submission::from_dirs(&dirs).into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["alice", "alice-2", "b_o_b"]);
        assert_eq!(unique_names([Some("..".to_string()), None].into_iter()), ["_..", "submission"]);
        let names =
            unique_names(["../evil name", "a b", "a_b", "."].map(|n| Some(n.to_string())).into_iter());
        assert_eq!(names, ["_.._evil_name", "a_b", "a_b-2", "_."]);
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1"), "'=1+1");
    }
}
