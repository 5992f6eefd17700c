//! Grading another checkout (a student's fork) with this grader: in a scratch
//! workspace, with this grader's manifest and only the submission's
//! `exercises/` and `answers/`, so that nothing the submission changed in the
//! grader, the workflow or the build settings can touch its marks. What it
//! changed there is listed, for the instructor to see.
//!
//! ```no_run
//! use grader::submission::grade_submission;
//! let template = grader::workspace::home();
//! let card = grade_submission(&template, "../alice".as_ref(), "target/debug/grader".as_ref(), |_| {})?;
//! println!("{}/{}; changed: {:?}", card.score(), card.max(), card.changed_protected_paths);
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::grade::Context;
use crate::release::{WORKFLOW, unpin_workflow};
use crate::rubric::Question;
use crate::score::{Scorecard, grade_all};
use crate::workspace::Scratch;

/// What a submission may not change: the grader, the workflows, the
/// workspace's build settings. (Build scripts of the exercises are found
/// separately.)
pub const PROTECTED: &[&str] = &[
    "grader",
    ".github",
    "Cargo.toml",
    "Cargo.lock",
    ".config",
    ".cargo",
    "insta.yaml",
    "rust-toolchain",
    "rust-toolchain.toml",
];

/// Grades the submission in `dir` with the grader of `template` (whose
/// executable, `supervisor`, supervises the runs).
pub fn grade_submission(
    template: &Path,
    dir: &Path,
    supervisor: &Path,
    progress: impl FnMut(Question),
) -> Result<Scorecard> {
    if !dir.join("exercises").is_dir() && !dir.join("answers").is_dir() {
        bail!("{} is not a submission: it has neither exercises/ nor answers/", dir.display());
    }
    let changed = changed_protected_paths(template, dir);
    let scratch = Scratch::create(template, &[dir])?;
    let mut ctx = Context::new(scratch.path().to_path_buf(), supervisor.to_path_buf());
    // Every submission's dependencies are the same: build them once.
    ctx.target_dir = Some(crate::workspace::target_dir(template).join("grader-submissions"));
    let mut card = grade_all(&ctx, progress);
    card.changed_protected_paths = changed;
    Ok(card)
}

/// The protected files the submission added or changed, relative to the
/// template (files it removed cannot change a grade and are not listed), and
/// the exercises' build scripts, which are not run.
pub fn changed_protected_paths(template: &Path, submission: &Path) -> Vec<String> {
    let mut changed = BTreeSet::new();
    for top in PROTECTED {
        for file in files_under(submission, Path::new(top)) {
            let name = file.to_string_lossy().replace('\\', "/");
            let ours = std::fs::read(template.join(&file)).ok();
            let theirs = std::fs::read(submission.join(&file)).ok();
            let same = match (ours, theirs) {
                (Some(a), Some(b)) if name == WORKFLOW => {
                    unpin_workflow(&String::from_utf8_lossy(&a))
                        == unpin_workflow(&String::from_utf8_lossy(&b))
                }
                (a, b) => a == b,
            };
            if !same {
                changed.insert(name);
            }
        }
    }
    for script in crate::workspace::build_scripts(submission) {
        changed.insert(script);
    }
    changed.into_iter().collect()
}

/// Files under `root/path` (or `path` itself if it is a file), relative to
/// `root`, skipping build output and version control.
fn files_under(root: &Path, path: &Path) -> Vec<PathBuf> {
    let full = root.join(path);
    let Ok(meta) = std::fs::symlink_metadata(&full) else {
        return Vec::new();
    };
    if !meta.is_dir() {
        return vec![path.to_path_buf()];
    }
    let Ok(entries) = std::fs::read_dir(&full) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        files.extend(files_under(root, &path.join(name)));
    }
    files
}
