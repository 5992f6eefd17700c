//! Scratch workspaces: this grader's workspace manifest with another
//! checkout's `exercises/` and `answers/`, in a directory of its own, so that
//! grading never writes into (or trusts the build settings of) what it grades.
//!
//! ```no_run
//! use grader::workspace::Scratch;
//! let template = grader::workspace::home();
//! let scratch = Scratch::create(&template, &[std::path::Path::new("../student")])?;
//! println!("grading {}", scratch.path().display());
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result, bail};

/// What is taken from a submission; everything else comes from the template.
pub const GRADED_DIRS: &[&str] = &["exercises", "answers"];

/// The workspace this grader sits in: the template, with the reference
/// solutions (or, in a student's fork, their work).
pub fn home() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Where cargo builds for `workspace`: `CARGO_TARGET_DIR` (relative to the
/// workspace if relative), or `<workspace>/target`.
pub fn target_dir(workspace: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    }
}

/// A temporary workspace, removed when dropped.
#[derive(Debug)]
pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// Makes a workspace from `template`'s root `Cargo.toml` and `Cargo.lock`
    /// (without the grader member) and the graded directories of each of
    /// `sources`, later ones overlaying earlier ones.
    pub fn create(template: &Path, sources: &[&Path]) -> Result<Scratch> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name =
            format!("grader-scratch-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let dir = std::env::temp_dir().join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        let scratch = Scratch { dir };
        let manifest = std::fs::read_to_string(template.join("Cargo.toml"))
            .context("reading the template's Cargo.toml")?;
        let members = "members = [\"exercises/*\", \"grader\"]";
        if !manifest.contains(members) {
            bail!("the template's Cargo.toml does not have the expected `{members}`");
        }
        std::fs::write(
            scratch.dir.join("Cargo.toml"),
            manifest.replace(members, "members = [\"exercises/*\"]"),
        )?;
        if let Ok(lock) = std::fs::read(template.join("Cargo.lock")) {
            std::fs::write(scratch.dir.join("Cargo.lock"), lock)?;
        }
        for source in sources {
            for sub in GRADED_DIRS {
                let from = source.join(sub);
                if from.is_dir() {
                    copy_tree(&from, &scratch.dir.join(sub))
                        .with_context(|| format!("copying {}", from.display()))?;
                }
            }
        }
        // A build script would run at build time, on the grading machine:
        // the exercises need none, so none is run.
        for script in build_scripts(&scratch.dir) {
            std::fs::remove_file(scratch.dir.join(script))?;
        }
        Ok(scratch)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The build scripts (`exercises/<package>/build.rs`) in `dir`, relative to it.
pub fn build_scripts(dir: &Path) -> Vec<String> {
    let Ok(packages) = std::fs::read_dir(dir.join("exercises")) else {
        return Vec::new();
    };
    let mut found: Vec<String> = packages
        .flatten()
        .filter(|p| p.path().join("build.rs").is_file())
        .map(|p| format!("exercises/{}/build.rs", p.file_name().to_string_lossy()))
        .collect();
    found.sort();
    found
}

/// Copies a directory tree, skipping build output and symbolic links (a link
/// could point anywhere on the grading machine).
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() && entry.file_name() != "target" {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
