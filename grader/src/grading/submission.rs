//! Grading another checkout (a student's fork) with this grader: in a scratch
//! workspace, with this grader's manifests and only the submission's
//! `exercises/` sources and `answers/`, so that nothing the submission changed
//! in the grader, the workflow or the build settings can touch its marks. What
//! it changed there is listed, for the instructor to see.
//!
//! ```no_run
//! use grader::engine::context::Settings;
//! use grader::grading::submission::grade_submission;
//! let template = grader::engine::workspace::home();
//! let settings = Settings::new(&template, "target/debug/grader".as_ref());
//! let card = grade_submission(&settings, "../alice".as_ref(), |_| {})?;
//! println!("{}/{}; changed: {:?}", card.score(), card.max(), card.changed_protected_paths);
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::engine::context::{Context, Settings};
use crate::engine::run::Runner;
use crate::engine::scratch::{Scratch, refused};
use crate::engine::workflow::{WORKFLOW, unpin_workflow};
use crate::engine::workspace::{MAX_FILE, Refused, read_regular};
use crate::grading::Progress;
use crate::grading::score::{Scorecard, grade_questions};

/// What a submission may not change: the grader, the workflows, the
/// workspace's build settings. (The exercises' own manifests and build
/// scripts are found separately.)
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

/// The most entries of `exercises/` that are not the assignment's packages
/// listed by name.
const LISTED: usize = 20;

/// The most files a protected directory of a submission may hold.
const MAX_PROTECTED_FILES: usize = 5000;

/// Grades the submission in `dir` with the grader of `settings.template`.
pub fn grade_submission(settings: &Settings, dir: &Path, progress: impl Fn(Progress)) -> Result<Scorecard> {
    if !crate::engine::workspace::has_work(dir) {
        return Err(refused(format!(
            "{} is not a submission: it has neither exercises/ nor answers/",
            dir.display()
        )));
    }
    let changed = changed_protected_paths(&settings.template, dir)?;
    let runner = Runner::new(settings.supervisor.clone());
    let scratch = Scratch::create(&settings.template, &[dir], &runner)?;
    let ctx = Context::for_scratch(&scratch, settings);
    let mut card = grade_questions(&ctx, &settings.questions, progress)?;
    card.changed_protected_paths = changed;
    card.skipped_files = scratch.skipped.clone();
    Ok(card)
}

/// The protected files the submission added or changed, relative to the
/// template (files it removed cannot change a grade and are not listed), the
/// exercises' manifests it changed and their build scripts (neither is
/// used), and packages the template does not have (not built). A protected
/// path that is a link or a device refuses the submission.
pub fn changed_protected_paths(template: &Path, submission: &Path) -> Result<Vec<String>> {
    let mut changed = BTreeSet::new();
    let mut budget = MAX_PROTECTED_FILES;
    let check = |file: &Path, changed: &mut BTreeSet<String>| -> Result<()> {
        let name = file.to_string_lossy().replace('\\', "/");
        let theirs = match read_regular(&submission.join(file), MAX_FILE) {
            Ok(bytes) => bytes,
            Err(Refused::TooLarge(_)) => {
                changed.insert(name);
                return Ok(());
            }
            Err(why) => return Err(refused(format!("the submission's {name} {why}: refused"))),
        };
        let ours = read_regular(&template.join(file), MAX_FILE).ok();
        let same = match ours {
            Some(ours) if name == WORKFLOW => {
                unpin_workflow(&String::from_utf8_lossy(&ours))
                    == unpin_workflow(&String::from_utf8_lossy(&theirs))
            }
            ours => ours.as_deref() == Some(&theirs[..]),
        };
        if !same {
            changed.insert(name);
        }
        Ok(())
    };
    for top in PROTECTED {
        for file in files_under(submission, Path::new(top), &mut budget)? {
            check(&file, &mut changed)?;
        }
    }
    let packages: Vec<String> = crate::engine::workspace::package_manifests(template)
        .iter()
        .filter_map(|m| m.parent()?.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let mut strangers = 0;
    for entry in std::fs::read_dir(submission.join("exercises")).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !packages.contains(&name) {
            // Listed, up to a few: a scorecard is no place for thousands.
            strangers += 1;
            if strangers <= LISTED {
                changed.insert(format!("exercises/{name} (not a package of the assignment: not built)"));
            }
            continue;
        }
        let manifest = Path::new("exercises").join(&name).join("Cargo.toml");
        if std::fs::symlink_metadata(submission.join(&manifest)).is_ok() {
            check(&manifest, &mut changed)?;
        }
        if std::fs::symlink_metadata(entry.path().join(".cargo")).is_ok() {
            changed.insert(format!("exercises/{name}/.cargo"));
        }
    }
    for script in crate::engine::workspace::build_scripts(submission) {
        changed.insert(script);
    }
    let mut changed: Vec<String> = changed.into_iter().collect();
    if strangers > LISTED {
        changed.push(format!(
            "and {} more in exercises/ that are not packages of the assignment",
            strangers - LISTED
        ));
    }
    Ok(changed)
}

/// Files under `root/path` (or `path` itself if it is not a directory),
/// relative to `root`, skipping build output and version control; links
/// are listed, never followed. No recursion: a tree nested thousands deep
/// is counted against the budget, not the stack.
fn files_under(root: &Path, path: &Path, budget: &mut usize) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(path) = pending.pop() {
        let Ok(meta) = std::fs::symlink_metadata(root.join(&path)) else { continue };
        if *budget == 0 {
            return Err(refused(format!(
                "the submission has more than {MAX_PROTECTED_FILES} files outside exercises/ and answers/"
            )));
        }
        *budget -= 1;
        if !meta.is_dir() {
            files.push(path);
            continue;
        }
        for entry in std::fs::read_dir(root.join(&path))?.flatten() {
            let name = entry.file_name();
            if name != "target" && name != ".git" {
                pending.push(path.join(name));
            }
        }
    }
    Ok(files)
}
