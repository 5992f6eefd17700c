//! Gradescope: the autograder an instructor uploads (`autograder.zip`), and
//! what it does for each submission.
//!
//! ```no_run
//! use grader::classroom::gradescope::{Config, autograder_zip};
//! let template = grader::engine::workspace::home();
//! let late = Some("10%/day, 3 days".parse()?);
//! let archive = autograder_zip(&template, "gradescope/autograder.zip".as_ref(), &Config { late })?;
//! println!("{} files", archive.files);
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! The archive is the [release](crate::classroom::release) (no solution, no
//! reference answer: the written rubric's rules, which students may see
//! anyway, and the snapshots, which are compiled into the rubric), with
//! Gradescope's two scripts at its root: `setup.sh` (once, when Gradescope
//! builds its image: Rust, the grader, the exercises' dependencies) and
//! `run_autograder` (for each submission: `grader on-gradescope`, which is
//! [`grade_upload`]). Gradescope unpacks it into `/autograder/source`, so
//! that directory is the workspace the grader grades with; the student's
//! files, in `/autograder/submission`, are graded as `batch` grades a
//! repository: in a scratch workspace, in the sandbox.

pub mod zip;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::classroom::gradebook::{Row, patch_results};
use crate::classroom::late::LatePolicy;
use crate::classroom::release::{WrittenRubric, release};
use crate::classroom::roster::Deadline;
use crate::engine::context::Settings;
use crate::engine::scratch::Refusal;
use crate::engine::workspace::{MAX_FILE, has_work, read_regular, write_atomic};
use crate::grading::score::Scorecard;
use crate::grading::submission::grade_submission;
use crate::report;

/// Gradescope's setup script, run once as its image is built.
pub const SETUP: &str = include_str!("setup.sh");
/// Gradescope's script for each submission.
pub const RUN: &str = include_str!("run_autograder");
/// The instructor's choices, at the archive's root.
pub const CONFIG_FILE: &str = "gradescope.json";
/// The release is made for a repository of this name (its workflow is not
/// used on Gradescope, and is left out).
const REPOSITORY: &str = "gradescope/autograder";

/// What the instructor chose for the course, kept in the archive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Late work under this policy, by the upload's time against the
    /// assignment's due date.
    pub late: Option<LatePolicy>,
}

/// What an archive holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    pub files: usize,
    pub bytes: usize,
}

/// Writes the autograder of `template` to `path`.
pub fn autograder_zip(template: &Path, path: &Path, config: &Config) -> Result<Archive> {
    let scratch = tempfile::Builder::new().prefix("grader-gradescope-").tempdir()?;
    let released = scratch.path().join("release");
    release(template, &released, REPOSITORY, false, WrittenRubric::Public)
        .context("releasing the assignment")?;
    let mut zip = zip::Zip::default();
    zip.add("setup.sh", SETUP.as_bytes(), 0o755)?;
    zip.add("run_autograder", RUN.as_bytes(), 0o755)?;
    zip.add(CONFIG_FILE, (serde_json::to_string_pretty(config)? + "\n").as_bytes(), 0o644)?;
    let mut files = 3;
    for (name, file) in release_files(&released)? {
        use std::os::unix::fs::PermissionsExt;
        let mode = if std::fs::metadata(&file)?.permissions().mode() & 0o111 != 0 { 0o755 } else { 0o644 };
        zip.add(&name, &std::fs::read(&file)?, mode)?;
        files += 1;
    }
    let bytes = zip.finish();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    write_atomic(path, &bytes)?;
    Ok(Archive { files, bytes: bytes.len() })
}

/// The release's files, by name, sorted (the same release, the same
/// archive); its workflows are GitHub's, not Gradescope's.
fn release_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        for entry in std::fs::read_dir(&at)? {
            let entry = entry?;
            let name = entry.path().strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
            if name == ".github" || name == ".git" {
                continue;
            }
            match entry.file_type()? {
                t if t.is_dir() => pending.push(entry.path()),
                t if t.is_file() => files.push((name, entry.path())),
                _ => bail!("the release has {name}, which is not a file"),
            }
        }
    }
    files.sort();
    Ok(files)
}

/// What Gradescope shows a student whose upload has work in more than one
/// folder, before their names.
const MANY_TO_GRADE: &str = "Not graded: more than one folder of your submission has `exercises/` or `answers/`, and only one can be graded. Submit one copy of your repository. The folders:";

/// What Gradescope shows a student whose upload has nothing to grade.
const NOTHING_TO_GRADE: &str = "Nothing to grade: your submission has no `exercises/` or `answers/` folder, at its top or one folder down. Submit your repository (from GitHub, or a zip of it) with `exercises/` and `answers/` as the assignment has them.";

/// Grades the submission in `root/submission` (Gradescope's layout; `root`
/// is `/autograder` there) and returns its `results.json`. An error is the
/// grader's own: nothing may be written, and no mark given.
pub fn grade_upload(root: &Path, settings: &Settings) -> Result<Value> {
    let config = read_config(&root.join("source").join(CONFIG_FILE))?;
    // Read before grading: a policy that cannot be applied is no mark.
    let late = match config.late {
        Some(policy) => Some((policy, upload_times(&root.join("submission_metadata.json"))?)),
        None => None,
    };
    let submission = root.join("submission");
    let dir = match find_work(&submission) {
        Found::One(dir) => dir,
        Found::None => return Ok(not_graded(NOTHING_TO_GRADE, &listing(&submission))),
        Found::Many(names) => {
            let names: Vec<String> = names.iter().map(|n| shown(n)).collect();
            return Ok(not_graded(&format!("{MANY_TO_GRADE} {}.", names.join(", ")), ""));
        }
    };
    let card = match grade_submission(settings, &dir, |_| {}) {
        Ok(card) => card,
        // The submission's doing (a link where a folder must be, too many
        // files): said to the student, for no points.
        Err(e) if e.downcast_ref::<Refusal>().is_some() => {
            let why = e.downcast_ref::<Refusal>().map(ToString::to_string).unwrap_or_default();
            return Ok(not_graded(&format!("Not graded: {}.", report::escape(&report::printable(&why))), ""));
        }
        Err(e) => return Err(e),
    };
    let mut results = report::json(&card);
    if let Some((policy, (created, due))) = late {
        patch_results(&mut results, &late_row(&card, &policy, &created, &due))?;
        results["extra_data"]["submission"]["uploaded_at"] = json!(created.local());
    }
    // The total (after lateness) above the scorecard as the student sees it.
    let said = results["output"].as_str().unwrap_or_default().lines().next().unwrap_or_default().to_string();
    results["output"] = json!(format!("**{}**\n\n{}", report::escape(&said), report::markdown(&card)));
    results["output_format"] = json!("md");
    results["test_output_format"] = json!("text");
    results["visibility"] = json!("visible");
    results["stdout_visibility"] = json!("hidden");
    Ok(results)
}

/// The upload as a gradebook's row, for [`patch_results`] to take what the
/// late policy takes, as a batch's rows have it taken.
fn late_row(card: &Scorecard, policy: &LatePolicy, created: &Deadline, due: &Deadline) -> Row {
    let late = policy.late(due.unix, created.unix);
    let points: Vec<u32> = card.questions.iter().map(|q| q.score()).collect();
    let penalty = late.points_of(card.score());
    Row {
        name: "submission".into(),
        identifiers: Default::default(),
        automatic: points.clone(),
        points,
        total: Some(card.score() - penalty),
        changed: Vec::new(),
        commit: None,
        committed_at: None,
        deadline: Some(due.local()),
        after_deadline: None,
        late: Some(late),
        penalty: Some(penalty),
        own_commits: None,
        error: None,
        work: Vec::new(),
        reviewed: Vec::new(),
    }
}

/// The instructor's choices (none, without the file).
fn read_config(path: &Path) -> Result<Config> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(Config::default());
    }
    let bytes = read_regular(path, MAX_FILE).map_err(|why| anyhow::anyhow!("{} {why}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))
}

/// When the upload was made, and when it was due (the latest due date of
/// its students', where Gradescope gives each their own: an extension).
fn upload_times(path: &Path) -> Result<(Deadline, Deadline)> {
    // Gradescope's own file (it holds earlier results too: it may be large).
    let bytes = read_regular(path, 64 << 20)
        .map_err(|why| anyhow::anyhow!("{} {why}: a late policy needs the upload's time", path.display()))?;
    let metadata: Value =
        serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?;
    let moment = |value: &Value, what: &str| -> Result<Deadline> {
        let text = value.as_str().with_context(|| format!("{} has no {what}", path.display()))?;
        Deadline::parse(text).with_context(|| format!("{}: {what}", path.display()))
    };
    let created = moment(&metadata["created_at"], "created_at")?;
    let mut due = moment(&metadata["assignment"]["due_date"], "assignment.due_date")?;
    for user in metadata["users"].as_array().into_iter().flatten() {
        if let Ok(own) = moment(&user["assignment"]["due_date"], "a user's due_date") {
            due = if own.unix > due.unix { own } else { due };
        }
    }
    Ok((created, due))
}

/// Where the student's work is in a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The submission itself, or the one folder in it that has the work.
    One(PathBuf),
    /// Several folders have work: which one is meant?
    Many(Vec<String>),
    None,
}

/// The directory with the student's work: the submission itself, or the
/// one folder in it that has it (an upload of a zipped repository). A link
/// is never followed: one where `exercises/` should be is refused later,
/// when it is graded.
pub fn find_work(submission: &Path) -> Found {
    let work =
        |dir: &Path| ["exercises", "answers"].iter().any(|d| std::fs::symlink_metadata(dir.join(d)).is_ok());
    if work(submission) || has_work(submission) {
        return Found::One(submission.to_path_buf());
    }
    let mut inside: Vec<(String, PathBuf)> = std::fs::read_dir(submission)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !e.file_name().to_string_lossy().starts_with(['.', '_']))
        .filter(|e| work(&e.path()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    inside.sort();
    match inside.len() {
        0 => Found::None,
        1 => Found::One(inside.remove(0).1),
        _ => Found::Many(inside.into_iter().map(|(name, _)| name).collect()),
    }
}

/// A name of the submission's, safe in one line of Markdown.
fn shown(name: &str) -> String {
    report::escape(&report::printable(name))
}

/// What is at the top of the submission, in a few words.
fn listing(submission: &Path) -> String {
    let mut found: Vec<String> = std::fs::read_dir(submission)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| shown(&e.file_name().to_string_lossy()))
        .collect();
    found.sort();
    match found.len() {
        0 => "It is empty.".to_string(),
        n if n > 10 => format!("It has: {}, and {} more.", found[..10].join(", "), n - 10),
        _ => format!("It has: {}.", found.join(", ")),
    }
}

/// Results that say why nothing was graded (`said`, Markdown), and what
/// was there, for no points.
fn not_graded(said: &str, shown: &str) -> Value {
    let max = crate::rubric::total_points();
    json!({
        "score": 0,
        "max_score": max,
        "output": format!("**{said}**\n\n{shown}"),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
    })
}
