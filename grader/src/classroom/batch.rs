//! Grading a class: many submissions in parallel, each isolated and
//! time-limited, into one gradebook.
//!
//! ```no_run
//! use grader::classroom::batch::{Batch, Submission, batch};
//! use grader::engine::context::Settings;
//! let settings = Settings::new(&grader::engine::workspace::home(), "target/debug/grader".as_ref());
//! let submissions = Submission::from_dirs(&["../alice".into(), "../bob".into()]);
//! let spec = Batch { settings, submissions, out: "marks".into(), jobs: 2, only: None, shard: None, regrade: false, taken: None };
//! let batched = batch(&spec, |progress| eprintln!("{progress}"))?;
//! println!("{} graded, {} reused", batched.graded, batched.reused);
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Writes the outputs of [`gradebook`](crate::classroom::gradebook): `OUT/gradebook.csv`
//! (a row per submission: points per question, total, changed protected
//! paths, the commit graded and when it was made, commits after the
//! deadline, errors, notes, and the work that needs the instructor's
//! review), `OUT/gradebook.json`, `OUT/flagged.json`, and each
//! submission's `OUT/<name>/results.json`, every one of them with the
//! instructor's decisions (`OUT/reviews.json`) applied. With `only`, the
//! named submissions are graded again and the other rows kept. Otherwise a
//! row of OUT stands for a submission checked out at the same commit, when
//! OUT was graded by the same grader, rubric and settings (its
//! [manifest](crate::classroom::shard::Manifest)), unless `regrade`. A
//! submission that cannot be graded gets a row with its error; it never
//! stops the batch. Nothing is written to OUT until every submission has
//! been graded, and only by the grader: no submission's program can reach
//! OUT (see the [sandbox](crate::supervisor::sandbox)), and none runs any
//! more.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use crate::classroom::gradebook::{Decisions, Gradebook, RESULTS_FILE, Row, SCORECARD_FILE, Work};
use crate::classroom::late::Late;
pub use crate::classroom::roster::same_student;
use crate::classroom::roster::{Deadline, Fetched, History, unique_names};
use crate::classroom::shard::{Manifest, Shard};
use crate::engine::context::Settings;
use crate::engine::normalize::fingerprint;
use crate::engine::workspace::{MAX_FILE, read_regular, write_atomic};
use crate::grading::Progress;
use crate::grading::score::Scorecard;
use crate::grading::submission::grade_submission;
use crate::report;

/// One submission to grade: a checkout (or why there is none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// Its row's name, unique in the batch.
    pub name: String,
    pub dir: Result<PathBuf, String>,
    /// What its repository's history says of the commit checked out, when
    /// it came from a roster.
    pub history: Option<History>,
    /// The deadline it was checked out at (the student's own, or the
    /// batch's), if any.
    pub deadline: Option<Deadline>,
    /// What it loses for coming after the deadline (see
    /// [`late`](crate::classroom::late)).
    pub late: Option<Late>,
    /// The roster's identifiers of the student (email, SIS id…).
    pub identifiers: BTreeMap<String, String>,
}

impl Submission {
    /// Submissions from directories, named after them.
    pub fn from_dirs(dirs: &[PathBuf]) -> Vec<Submission> {
        let names =
            unique_names(dirs.iter().map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned())));
        dirs.iter()
            .zip(names)
            .map(|(dir, name)| Submission {
                name,
                dir: Ok(dir.clone()),
                history: None,
                deadline: None,
                late: None,
                identifiers: BTreeMap::new(),
            })
            .collect()
    }
}

impl From<Fetched> for Submission {
    fn from(fetched: Fetched) -> Submission {
        Submission {
            name: fetched.name,
            dir: fetched.dir,
            history: fetched.history,
            deadline: fetched.deadline,
            late: fetched.late,
            identifiers: fetched.identifiers,
        }
    }
}

/// What to grade, and where to write.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The template, the grader, the limits.
    pub settings: Settings,
    pub submissions: Vec<Submission>,
    pub out: PathBuf,
    /// Submissions graded at once.
    pub jobs: usize,
    /// Grade only these submissions (by name), keeping the other rows of
    /// the gradebook already in OUT.
    pub only: Option<Vec<String>>,
    /// The shard of the class these submissions are (said in OUT's
    /// manifest, for `merge`).
    pub shard: Option<Shard>,
    /// Grade every submission, even one whose result in OUT stands (the
    /// same commit, grader, rubric and settings).
    pub regrade: bool,
    /// How the work was taken (the deadline, the late policy), in words,
    /// for the manifest: `merge` refuses shards that took it otherwise.
    pub taken: Option<String>,
}

/// What a batch did: every row of the gradebook, and how many of those it
/// was asked for it graded, or reused from OUT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batched {
    pub rows: Vec<Row>,
    pub graded: usize,
    pub reused: usize,
}

/// Grades every submission (or those of `only`), but those whose result in
/// OUT stands (see [`Batch::regrade`]); `progress` hears of each finished
/// one.
pub fn batch(spec: &Batch, progress: impl Fn(Progress) + Sync) -> Result<Batched> {
    std::fs::create_dir_all(&spec.out).with_context(|| format!("creating {}", spec.out.display()))?;
    // Read first: a broken file of decisions, or of rows to keep, stops the
    // batch before it starts.
    let decisions = Decisions::load(&spec.out)?;
    let (kept, chosen) = match &spec.only {
        None => (Vec::new(), spec.submissions.iter().collect::<Vec<_>>()),
        Some(names) => {
            let chosen: Vec<&Submission> =
                spec.submissions.iter().filter(|s| chosen_by(Some(names), &s.name)).collect();
            let unknown: Vec<&String> =
                names.iter().filter(|n| !chosen.iter().any(|s| same_student(n, &s.name))).collect();
            if !unknown.is_empty() {
                let all: Vec<&str> = spec.submissions.iter().map(|s| s.name.as_str()).collect();
                bail!(
                    "--only names {} not in this batch (its submissions: {})",
                    unknown.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "),
                    all.join(", ")
                );
            }
            let kept = Gradebook::load_if_any(&spec.out)?.map(|g| g.rows).unwrap_or_default();
            (kept, chosen)
        }
    };
    let manifest = Manifest::of_this_grader(spec.shard, &spec.settings, spec.taken.clone());
    // Asked for by name (`only`), a submission is graded again.
    let standing = if spec.regrade || spec.only.is_some() {
        HashMap::new()
    } else {
        standing_rows(&spec.out, &manifest)
    };
    let done = AtomicUsize::new(0);
    let all = chosen.len();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(spec.jobs.max(1)).build()?;
    let graded: Vec<(Row, Outcome)> = pool.install(|| {
        chosen
            .par_iter()
            .map(|submission| {
                let graded = match reuse(&standing, submission, &spec.out) {
                    Some(row) => (row, Outcome::Reused),
                    None => grade_one(spec, submission),
                };
                progress(Progress::Graded { done: done.fetch_add(1, Ordering::SeqCst) + 1, all });
                graded
            })
            .collect()
    });
    let reused = graded.iter().filter(|(_, o)| matches!(o, Outcome::Reused)).count();
    // Every run has ended: now, and only now, OUT is written.
    let mut fresh = Vec::new();
    for (mut row, outcome) in graded {
        match outcome {
            // Its results.json stands, in OUT.
            Outcome::Reused => {}
            Outcome::Graded(card) => {
                let json = serde_json::to_string_pretty(&report::json(&card)).unwrap_or_default() + "\n";
                let dir = spec.out.join(&row.name);
                let written = std::fs::create_dir_all(&dir)
                    .map_err(anyhow::Error::from)
                    .and_then(|()| {
                        write_atomic(&dir.join(SCORECARD_FILE), report::markdown(&card).as_bytes())
                    })
                    .and_then(|()| write_atomic(&dir.join(RESULTS_FILE), json.as_bytes()));
                if let Err(e) = written {
                    row.error = Some(format!("writing results.json: {e:#}"));
                }
            }
            // No results of an earlier grading may stand for this one.
            Outcome::Failed => {
                for file in [RESULTS_FILE, SCORECARD_FILE] {
                    let _ = std::fs::remove_file(spec.out.join(&row.name).join(file));
                }
            }
        }
        fresh.push(row);
    }
    let mut rows = merge(kept, fresh);
    crate::classroom::gradebook::flag_copies(&mut rows);
    let mut book = Gradebook { rows };
    book.write(&spec.out, &decisions)?;
    manifest.write(&spec.out)?;
    Ok(Batched { rows: book.rows, graded: all - reused, reused })
}

/// The rows kept from the gradebook, each fresh one in the place of the
/// kept row of the same name (a spreadsheet pasted by row keeps its order),
/// new ones at the end.
fn merge(kept: Vec<Row>, fresh: Vec<Row>) -> Vec<Row> {
    let mut rows = kept;
    for row in fresh {
        match rows.iter_mut().find(|r| r.name == row.name) {
            Some(place) => *place = row,
            None => rows.push(row),
        }
    }
    rows
}

/// Whether `--only` (none: everyone) takes the submission `name`.
pub fn chosen_by(only: Option<&[String]>, name: &str) -> bool {
    only.is_none_or(|only| only.iter().any(|given| same_student(given, name)))
}

/// What became of one submission.
enum Outcome {
    Graded(Box<Scorecard>),
    /// Its row and results from OUT stand.
    Reused,
    /// It could not be graded (its row says why).
    Failed,
}

/// The rows of OUT's gradebook whose results may stand for this batch's:
/// none unless OUT was graded by this grader, rubric and settings. By name,
/// so that a class of thousands finds each in one look.
fn standing_rows(out: &Path, manifest: &Manifest) -> HashMap<String, Row> {
    match Manifest::load(out) {
        Ok(before) if before.marks_alike(manifest) => {
            let rows = Gradebook::load_if_any(out).ok().flatten().map(|g| g.rows).unwrap_or_default();
            rows.into_iter().map(|row| (row.name.clone(), row)).collect()
        }
        _ => HashMap::new(),
    }
}

/// The row that stands for `submission`, if one does: graded, without an
/// error, from the very commit now checked out, its results still in OUT.
/// What the history says (commits after the deadline, identifiers) is
/// taken afresh.
fn reuse(standing: &HashMap<String, Row>, submission: &Submission, out: &Path) -> Option<Row> {
    let commit = &submission.history.as_ref()?.commit;
    let before = standing.get(&submission.name)?;
    let stands = before.commit.as_ref() == Some(commit)
        && before.error.is_none()
        && !before.automatic.is_empty()
        && out.join(&before.name).join(RESULTS_FILE).is_file();
    stands.then(|| Row {
        automatic: before.automatic.clone(),
        changed: before.changed.clone(),
        work: before.work.iter().map(|w| Work { copies: Vec::new(), ..w.clone() }).collect(),
        ..row_of(submission)
    })
}

/// A submission's row before it is graded: what its history says.
fn row_of(submission: &Submission) -> Row {
    let history = submission.history.as_ref();
    Row {
        name: submission.name.clone(),
        automatic: Vec::new(),
        points: Vec::new(),
        total: None,
        changed: Vec::new(),
        identifiers: submission.identifiers.clone(),
        commit: history.map(|h| h.commit.clone()),
        committed_at: history.map(|h| h.committed_at.clone()),
        deadline: submission.deadline.as_ref().map(Deadline::local),
        after_deadline: history.and_then(|h| h.after_deadline),
        late: submission.late.clone(),
        penalty: None,
        own_commits: history.map(|h| h.own_commits),
        error: None,
        work: Vec::new(),
        reviewed: Vec::new(),
    }
}

/// One submission graded: its row, and its scorecard.
fn grade_one(spec: &Batch, submission: &Submission) -> (Row, Outcome) {
    let mut row = row_of(submission);
    let dir = match &submission.dir {
        Ok(dir) => dir,
        Err(e) => {
            row.error = Some(e.clone());
            return (row, Outcome::Failed);
        }
    };
    let graded = std::panic::catch_unwind(|| grade_submission(&spec.settings, dir, |_| {}));
    let card = match graded {
        Err(_) => {
            row.error = Some("the grader failed on this submission (a bug: please report it)".into());
            return (row, Outcome::Failed);
        }
        Ok(Err(e)) => {
            row.error = Some(format!("{e:#}"));
            return (row, Outcome::Failed);
        }
        Ok(Ok(card)) => card,
    };
    row.work = card
        .questions
        .iter()
        .map(|q| match (&q.answer, q.question.package()) {
            (Some(text), _) => Work {
                question: q.question,
                fingerprint: fingerprint(text.as_bytes()),
                reasons: q.review.iter().map(ToString::to_string).collect(),
                copies: Vec::new(),
                text: Some(text.clone()),
            },
            (None, Some(package)) => Work {
                question: q.question,
                fingerprint: sources_fingerprint(&dir.join("exercises").join(package)),
                reasons: q.review.iter().map(ToString::to_string).collect(),
                copies: Vec::new(),
                text: None,
            },
            (None, None) => Work {
                question: q.question,
                fingerprint: fingerprint(b""),
                reasons: q.review.iter().map(ToString::to_string).collect(),
                copies: Vec::new(),
                text: None,
            },
        })
        .collect();
    row.automatic = card.questions.iter().map(|q| q.score()).collect();
    row.changed = card.changed_protected_paths.clone();
    (row, Outcome::Graded(Box::new(card)))
}

/// A fingerprint of a package's sources (every regular file under `dir`,
/// by path, but build output and version control): a decision on a
/// program holds while they are unchanged.
pub fn sources_fingerprint(dir: &Path) -> String {
    let mut files = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        for entry in std::fs::read_dir(dir.join(&relative)).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let path = relative.join(&name);
            match entry.file_type() {
                Ok(t) if t.is_dir() && name != "target" && name != ".git" => pending.push(path),
                Ok(t) if t.is_file() => files.push(path),
                _ => {}
            }
        }
    }
    files.sort();
    let mut all = Vec::new();
    for file in files {
        all.extend_from_slice(file.to_string_lossy().as_bytes());
        all.push(0);
        all.extend(read_regular(&dir.join(&file), MAX_FILE).unwrap_or_default());
        all.push(0);
    }
    fingerprint(&all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_student_is_named_as_typed_or_as_the_batch_made_it_safe() {
        assert!(same_student("Ann Lee", "Ann_Lee") && same_student("ann_lee", "Ann_Lee"));
        assert!(same_student("ALICE", "alice") && !same_student("alic", "alice"));
    }
}
