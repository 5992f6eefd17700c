//! Scratch workspaces: the template's manifests with a submission's sources
//! and answers, in a directory of their own, so that grading never writes
//! into (or trusts the build settings of) what it grades.
//!
//! ```no_run
//! use grader::engine::run::Runner;
//! use grader::engine::scratch::Scratch;
//! let template = grader::engine::workspace::home();
//! let runner = Runner::new("target/debug/grader".into());
//! let scratch = Scratch::create(&template, &[std::path::Path::new("../student")], &runner)?;
//! println!("grading {}", scratch.path().display());
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Only files are taken from a submission, read with
//! [`crate::engine::workspace::read_regular`] and within a budget: a
//! link, a device or a pipe is never opened (a top-level `exercises` or
//! `answers` that is a link refuses the submission). Every package's
//! `Cargo.toml` comes from the template, no build script is copied, and
//! packages the template does not have are left out.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::engine::compile::{Package, dependencies, members};
use crate::engine::run::Runner;
use crate::engine::workspace::{
    MAX_FILE, MAX_FILES, MAX_TOTAL, Refused, exercises_manifest, kind_of, read_regular, target_dir,
};

/// A submission refused for what it is (a link where a directory must be,
/// too many files, too deep): the student's doing, not the grader's. It
/// can be told from the grader's own failures by
/// [`anyhow::Error::downcast_ref`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

/// A [`Refusal`] saying `message`, as an error to return.
pub fn refused(message: String) -> anyhow::Error {
    anyhow::Error::new(Refusal(message))
}

/// The most files not taken that are listed by name.
const MAX_SKIPPED_LISTED: usize = 50;

/// What is taken from a submission; everything else comes from the template.
pub const GRADED_DIRS: &[&str] = &["exercises", "answers"];

/// A temporary workspace with its own target directory, removed when
/// dropped.
#[derive(Debug)]
pub struct Scratch {
    dir: tempfile::TempDir,
    /// Where its manifests and dependencies come from.
    pub template: PathBuf,
    /// Files of the submission that were not taken (links, devices, build
    /// scripts), with why, relative to the submission.
    pub skipped: Vec<String>,
    /// The work of a question that the submission does not have, by its
    /// location (`exercises/q6_four_procs`, `answers/q4.md`), with what to
    /// tell the student (what is there instead, when something looks like
    /// it). A missing package gets an empty program in the scratch, so the
    /// others still build; it is never run.
    pub missing: std::collections::BTreeMap<String, String>,
}

impl Scratch {
    /// Makes a workspace from `template`'s root manifest, its exercise
    /// packages' manifests and the graded directories of each of `sources`,
    /// later ones overlaying earlier ones.
    pub fn create(template: &Path, sources: &[&Path], runner: &Runner) -> Result<Scratch> {
        let deps = dependencies(template, runner)?;
        let parent = target_dir(template).join("grader-scratch");
        std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
        let dir = tempfile::Builder::new().prefix("submission-").tempdir_in(&parent)?;
        let mut scratch = Scratch {
            dir,
            template: template.to_path_buf(),
            skipped: Vec::new(),
            missing: Default::default(),
        };
        let workspace = scratch.path().to_path_buf();
        std::fs::create_dir_all(&workspace)?;
        let manifest = std::fs::read_to_string(template.join("Cargo.toml"))
            .context("reading the template's Cargo.toml")?;
        std::fs::write(
            workspace.join("Cargo.toml"),
            exercises_manifest(&manifest, &members(&deps.packages))?,
        )?;
        std::fs::write(workspace.join("Cargo.lock"), &deps.lock)?;
        let mut budget = Budget { bytes: MAX_TOTAL, files: MAX_FILES };
        for source in sources {
            for sub in GRADED_DIRS {
                let top = source.join(sub);
                match std::fs::symlink_metadata(&top) {
                    Err(_) => {}
                    Ok(meta) if meta.is_dir() => {}
                    Ok(meta) => {
                        return Err(refused(format!(
                            "the submission's {sub} {}: a submission's exercises/ and answers/ must be its own directories",
                            Refused::NotAFile(kind_of(meta.file_type()))
                        )));
                    }
                }
            }
            for package in &deps.packages {
                let from = source.join(&package.dir);
                if std::fs::symlink_metadata(&from).is_ok_and(|m| m.file_type().is_symlink()) {
                    return Err(refused(format!(
                        "the submission's {} is a symbolic link: it must be a directory of its own",
                        package.dir
                    )));
                }
                if from.is_dir() {
                    let copy =
                        Copy { root: &from, shown: &package.dir, skip_root: &["Cargo.toml", "build.rs"] };
                    copy.tree(&from, &workspace.join(&package.dir), &mut budget, &mut scratch.skipped)?;
                }
            }
            let answers = source.join("answers");
            if answers.is_dir() {
                let copy = Copy { root: &answers, shown: "answers", skip_root: &[] };
                copy.tree(&answers, &workspace.join("answers"), &mut budget, &mut scratch.skipped)?;
            }
        }
        for question in crate::rubric::Question::ALL {
            let location = question.location();
            if !sources.iter().any(|s| std::fs::symlink_metadata(s.join(location)).is_ok()) {
                let instead =
                    sources.iter().rev().find_map(|s| crate::engine::workspace::renamed(s, location));
                let message = match instead {
                    Some(instead) => format!("{location} is missing: {instead}"),
                    None => format!("{location} is missing: write your work there"),
                };
                scratch.missing.insert(location.to_string(), message);
            }
        }
        for package in &deps.packages {
            let dir = workspace.join(&package.dir);
            std::fs::create_dir_all(&dir)?;
            std::fs::copy(template.join(&package.dir).join("Cargo.toml"), dir.join("Cargo.toml"))
                .with_context(|| format!("copying the template's {}/Cargo.toml", package.dir))?;
            // A missing package is never built or run, but the others must
            // still build beside it: it gets empty targets.
            stub_missing_targets(&dir, package, scratch.missing.contains_key(&package.dir))?;
        }
        scratch.skipped.sort();
        scratch.skipped.dedup();
        // Listed, up to a few: a scorecard is no place for thousands.
        if scratch.skipped.len() > MAX_SKIPPED_LISTED {
            let more = scratch.skipped.len() - MAX_SKIPPED_LISTED;
            scratch.skipped.truncate(MAX_SKIPPED_LISTED);
            scratch.skipped.push(format!("and {more} more"));
        }
        Ok(scratch)
    }

    /// The workspace.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Its own target directory, beside it.
    pub fn target(&self) -> PathBuf {
        self.dir.path().join("target")
    }
}

/// What may still be copied.
#[derive(Debug)]
struct Budget {
    bytes: u64,
    files: usize,
}

/// Copies a submitted directory tree: regular files only, never through a
/// link, within the budget.
#[derive(Debug)]
struct Copy<'a> {
    /// The directory copied, and its name as the submission shows it.
    root: &'a Path,
    shown: &'a str,
    /// Names left out at the top (taken from the template, or never run).
    skip_root: &'a [&'a str],
}

/// How deep a submission's directories may nest (`exercises/q5_pool/src`
/// is 1 below the package; a real one needs a few).
const MAX_DEPTH: usize = 16;

impl Copy<'_> {
    /// Walks without recursion (a tree nested thousands deep must not
    /// overflow a stack), and refuses one deeper than [`MAX_DEPTH`].
    fn tree(&self, from: &Path, to: &Path, budget: &mut Budget, skipped: &mut Vec<String>) -> Result<()> {
        let mut pending = vec![(from.to_path_buf(), to.to_path_buf(), 0usize)];
        while let Some((from, to, depth)) = pending.pop() {
            if depth > MAX_DEPTH {
                return Err(refused(format!(
                    "the submission's {} nests directories more than {MAX_DEPTH} deep",
                    self.shown
                )));
            }
            std::fs::create_dir_all(&to)?;
            for entry in std::fs::read_dir(&from)? {
                let entry = entry?;
                let name = entry.file_name();
                let path = entry.path();
                let shown = format!(
                    "{}/{}",
                    self.shown,
                    path.strip_prefix(self.root).unwrap_or(&path).to_string_lossy()
                );
                if budget.files == 0 {
                    return Err(refused(format!(
                        "the submission has more than {MAX_FILES} files in exercises/ and answers/"
                    )));
                }
                budget.files -= 1;
                if depth == 0 && self.skip_root.iter().any(|s| name == *s) {
                    if name == "build.rs" {
                        skipped.push(format!("{shown} (build scripts are never run)"));
                    }
                    continue;
                }
                if entry.file_type()?.is_dir() {
                    match name.to_str() {
                        Some("target" | ".git") => {}
                        Some(".cargo") => {
                            skipped.push(format!("{shown} (cargo settings come from the template)"))
                        }
                        _ => pending.push((path, to.join(&name), depth + 1)),
                    }
                    continue;
                }
                match read_regular(&path, MAX_FILE.min(budget.bytes)) {
                    Ok(bytes) => {
                        budget.bytes -= bytes.len() as u64;
                        let target = to.join(&name);
                        std::fs::write(&target, &bytes)?;
                        // Keep the time it was written: cargo rebuilds by it.
                        if let Ok(modified) = std::fs::symlink_metadata(&path).and_then(|m| m.modified()) {
                            let _ = std::fs::File::options()
                                .write(true)
                                .open(&target)
                                .and_then(|f| f.set_modified(modified));
                        }
                    }
                    Err(Refused::TooLarge(_)) if budget.bytes < MAX_FILE => {
                        return Err(refused(format!(
                            "the submission's exercises/ and answers/ hold more than {} MiB",
                            MAX_TOTAL >> 20
                        )));
                    }
                    Err(why) => skipped.push(format!("{shown} ({why})")),
                }
            }
        }
        Ok(())
    }
}

/// Empty sources for the targets a manifest names that the submission does
/// not have (a bench, a test), so cargo can read the manifest; the graded
/// binary and library are stubbed only when the whole package is missing
/// (one missing file is the student's compile error).
fn stub_missing_targets(dir: &Path, package: &Package, whole: bool) -> Result<()> {
    for (kind, path) in &package.targets {
        let file = dir.join(path);
        if (whole || (kind != "lib" && kind != "bin")) && !file.exists() {
            std::fs::create_dir_all(file.parent().unwrap_or(dir))?;
            std::fs::write(file, if kind == "lib" { "" } else { "fn main() {}\n" })?;
        }
    }
    Ok(())
}
