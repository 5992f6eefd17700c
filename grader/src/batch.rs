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
//! question, total, changed protected paths, the commit graded, errors) and
//! each submission's
//! `OUT/<name>/results.json`. A submission that cannot be graded gets a row
//! with its error; it never stops the batch. Nothing is written to OUT
//! until every submission has been graded, and only by the grader: no
//! submission's program can reach OUT (see the
//! [sandbox](crate::supervisor::sandbox)), and none runs any more.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::report;
use crate::rubric::Question;
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

/// One line of the gradebook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    /// Points per question, Q1 to Q6; none when it could not be graded (its
    /// cells stay empty: an error is not a zero).
    pub points: Vec<u32>,
    pub total: Option<u32>,
    pub changed: Vec<String>,
    pub commit: Option<String>,
    pub error: Option<String>,
}

/// Grades every submission; `progress(done, all)` hears of each finished one.
pub fn batch(spec: &Batch, progress: impl Fn(usize, usize) + Sync) -> Result<Vec<Row>> {
    std::fs::create_dir_all(&spec.out).with_context(|| format!("creating {}", spec.out.display()))?;
    let done = AtomicUsize::new(0);
    let all = spec.submissions.len();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(spec.jobs.max(1)).build()?;
    let graded: Vec<(Row, Option<String>)> = pool.install(|| {
        spec.submissions
            .par_iter()
            .map(|submission| {
                let graded = grade_one(spec, submission);
                progress(done.fetch_add(1, Ordering::SeqCst) + 1, all);
                graded
            })
            .collect()
    });
    // Every run has ended: now, and only now, OUT is written.
    let mut rows = Vec::with_capacity(graded.len());
    for (mut row, json) in graded {
        if let Some(json) = json {
            let dir = spec.out.join(&row.name);
            let written =
                std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join("results.json"), json));
            if let Err(e) = written {
                row.error = Some(format!("writing results.json: {e}"));
            }
        }
        rows.push(row);
    }
    let csv = spec.out.join("gradebook.csv");
    std::fs::write(&csv, gradebook(&rows)).with_context(|| format!("writing {}", csv.display()))?;
    Ok(rows)
}

/// One submission's row, and its results.json (none if it was not graded).
fn grade_one(spec: &Batch, submission: &Submission) -> (Row, Option<String>) {
    let name = &submission.name;
    let failed = |error: String| Row {
        name: name.to_string(),
        points: Vec::new(),
        total: None,
        changed: Vec::new(),
        commit: submission.commit.clone(),
        error: Some(error),
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
            let json = serde_json::to_string_pretty(&report::json(&card)).unwrap_or_default();
            let row = Row {
                name: name.to_string(),
                points: card.questions.iter().map(|q| q.score()).collect(),
                total: Some(card.score()),
                changed: card.changed_protected_paths.clone(),
                commit: submission.commit.clone(),
                error: None,
            };
            (row, Some(json))
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

/// The gradebook as CSV.
pub fn gradebook(rows: &[Row]) -> String {
    let mut header: Vec<String> = vec!["name".into()];
    header.extend(Question::ALL.iter().map(|q| format!("q{}", q.number())));
    header.extend(["total", "changed_protected_paths", "commit", "errors"].map(String::from));
    let mut out = header.join(",") + "\n";
    for row in rows {
        let mut fields = vec![field(&row.name)];
        match row.points.is_empty() {
            true => fields.extend(Question::ALL.map(|_| String::new())),
            false => fields.extend(row.points.iter().map(u32::to_string)),
        }
        fields.push(row.total.map(|t| t.to_string()).unwrap_or_default());
        fields.push(field(&row.changed.join("; ")));
        fields.push(field(row.commit.as_deref().unwrap_or("")));
        fields.push(field(row.error.as_deref().unwrap_or("")));
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
