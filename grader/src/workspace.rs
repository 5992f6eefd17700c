//! Scratch workspaces: the template's manifests with a submission's sources
//! and answers, in a directory of their own, so that grading never writes
//! into (or trusts the build settings of) what it grades.
//!
//! ```no_run
//! use grader::run::Runner;
//! use grader::workspace::Scratch;
//! let template = grader::workspace::home();
//! let runner = Runner::new("target/debug/grader".into());
//! let scratch = Scratch::create(&template, &[std::path::Path::new("../student")], &runner)?;
//! println!("grading {}", scratch.path().display());
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Only files are taken from a submission, read without following links and
//! with bounded sizes: a link, a device or a pipe is never opened (a
//! top-level `exercises` or `answers` that is a link refuses the submission).
//! Every package's `Cargo.toml` comes from the template, no build script is
//! copied, and packages the template does not have are left out.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::compile::{Package, dependencies};
use crate::run::Runner;

/// What is taken from a submission; everything else comes from the template.
pub const GRADED_DIRS: &[&str] = &["exercises", "answers"];
/// The most one submitted file may hold.
pub const MAX_FILE: u64 = 1 << 20;
/// The most a submission's copied files may hold together, and how many.
pub const MAX_TOTAL: u64 = 16 << 20;
pub const MAX_FILES: usize = 2000;

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

/// The `exercises/*/Cargo.toml` of `workspace`, sorted.
pub fn package_manifests(workspace: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(workspace.join("exercises"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("Cargo.toml"))
        .filter(|m| m.is_file())
        .collect();
    found.sort();
    found
}

/// The template's root manifest for a workspace of the exercise packages
/// alone (not the grader).
pub fn exercises_manifest(manifest: &str, packages: &[Package]) -> Result<String> {
    let Some(line) = manifest.lines().find(|l| l.trim_start().starts_with("members")) else {
        bail!("the template's Cargo.toml has no `members = [...]` line");
    };
    let members: Vec<String> = packages.iter().map(|p| format!("{:?}", p.dir)).collect();
    Ok(manifest.replacen(line, &format!("members = [{}]", members.join(", ")), 1))
}

/// A file of a submission that could not be taken as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A symbolic link, a device, a pipe or a socket: never opened.
    NotAFile(&'static str),
    /// Larger than allowed.
    TooLarge(u64),
    /// It could not be read.
    Unreadable(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::NotAFile(kind) => write!(f, "is {kind}, not a regular file"),
            Refused::TooLarge(most) => write!(f, "is larger than {} KiB", most >> 10),
            Refused::Unreadable(why) => write!(f, "could not be read: {why}"),
        }
    }
}

/// What kind of file system entry a non-file is, in words.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a named pipe"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() || file_type.is_block_device() {
        "a device"
    } else {
        "not a file"
    }
}

/// Reads `path` if it is a regular file of at most `max` bytes, without
/// following a symbolic link and without blocking on a pipe or a device.
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, Refused> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path);
    let file = match file {
        Ok(file) => file,
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => {
            return Err(Refused::NotAFile("a symbolic link"));
        }
        Err(e) => return Err(Refused::Unreadable(e.to_string())),
    };
    let meta = file.metadata().map_err(|e| Refused::Unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(Refused::NotAFile(kind_of(meta.file_type())));
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| Refused::Unreadable(e.to_string()))?;
    if bytes.len() as u64 > max {
        return Err(Refused::TooLarge(max));
    }
    Ok(bytes)
}

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
        let mut scratch = Scratch { dir, template: template.to_path_buf(), skipped: Vec::new() };
        let workspace = scratch.path().to_path_buf();
        std::fs::create_dir_all(&workspace)?;
        let manifest = std::fs::read_to_string(template.join("Cargo.toml"))
            .context("reading the template's Cargo.toml")?;
        std::fs::write(workspace.join("Cargo.toml"), exercises_manifest(&manifest, &deps.packages)?)?;
        std::fs::write(workspace.join("Cargo.lock"), &deps.lock)?;
        let mut budget = Budget { bytes: MAX_TOTAL, files: MAX_FILES };
        for source in sources {
            for sub in GRADED_DIRS {
                let top = source.join(sub);
                match std::fs::symlink_metadata(&top) {
                    Err(_) => {}
                    Ok(meta) if meta.is_dir() => {}
                    Ok(meta) => bail!(
                        "the submission's {sub} {}: a submission's exercises/ and answers/ must be its own directories",
                        Refused::NotAFile(kind_of(meta.file_type()))
                    ),
                }
            }
            for package in &deps.packages {
                let from = source.join(&package.dir);
                if std::fs::symlink_metadata(&from).is_ok_and(|m| m.file_type().is_symlink()) {
                    bail!(
                        "the submission's {} is a symbolic link: it must be a directory of its own",
                        package.dir
                    );
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
        for package in &deps.packages {
            let dir = workspace.join(&package.dir);
            std::fs::create_dir_all(&dir)?;
            std::fs::copy(template.join(&package.dir).join("Cargo.toml"), dir.join("Cargo.toml"))
                .with_context(|| format!("copying the template's {}/Cargo.toml", package.dir))?;
            stub_missing_targets(&dir, package)?;
        }
        scratch.skipped.sort();
        scratch.skipped.dedup();
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

impl Copy<'_> {
    fn tree(&self, from: &Path, to: &Path, budget: &mut Budget, skipped: &mut Vec<String>) -> Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let name = entry.file_name();
            let path = entry.path();
            let shown =
                format!("{}/{}", self.shown, path.strip_prefix(self.root).unwrap_or(&path).to_string_lossy());
            let kind = entry.file_type()?;
            if from == self.root && self.skip_root.iter().any(|s| name == *s) {
                if name == "build.rs" {
                    skipped.push(format!("{shown} (build scripts are never run)"));
                }
                continue;
            }
            if kind.is_dir() {
                if name == "target" || name == ".git" {
                    continue;
                }
                if name == ".cargo" {
                    skipped.push(format!("{shown} (cargo settings come from the template)"));
                    continue;
                }
                self.tree(&path, &to.join(&name), budget, skipped)?;
                continue;
            }
            if budget.files == 0 {
                bail!("the submission has more than {MAX_FILES} files in exercises/ and answers/");
            }
            budget.files -= 1;
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
                    bail!("the submission's exercises/ and answers/ hold more than {} MiB", MAX_TOTAL >> 20)
                }
                Err(why) => skipped.push(format!("{shown} ({why})")),
            }
        }
        Ok(())
    }
}

/// Empty sources for the targets a manifest names that the submission does
/// not have (a bench, a test), so cargo can read the manifest; the graded
/// binary and library are never stubbed (a missing one is the student's
/// compile error).
fn stub_missing_targets(dir: &Path, package: &Package) -> Result<()> {
    for (kind, path) in &package.targets {
        let file = dir.join(path);
        if kind != "lib" && kind != "bin" && !file.exists() {
            std::fs::create_dir_all(file.parent().unwrap_or(dir))?;
            std::fs::write(file, "fn main() {}\n")?;
        }
    }
    Ok(())
}

/// The build scripts (`exercises/<package>/build.rs`) in `dir`, relative to it.
pub fn build_scripts(dir: &Path) -> Vec<String> {
    let Ok(packages) = std::fs::read_dir(dir.join("exercises")) else {
        return Vec::new();
    };
    let mut found: Vec<String> = packages
        .flatten()
        .filter(|p| std::fs::symlink_metadata(p.path().join("build.rs")).is_ok())
        .map(|p| format!("exercises/{}/build.rs", p.file_name().to_string_lossy()))
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.md");
        std::fs::write(&file, "hello").unwrap();
        std::os::unix::fs::symlink(&file, dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
        nix::unistd::mkfifo(&dir.path().join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert_eq!(read_regular(&file, 10).unwrap(), b"hello");
        assert_eq!(read_regular(&file, 3), Err(Refused::TooLarge(3)));
        assert_eq!(read_regular(&dir.path().join("link"), 10), Err(Refused::NotAFile("a symbolic link")));
        assert_eq!(read_regular(&dir.path().join("zero"), 10), Err(Refused::NotAFile("a symbolic link")));
        assert_eq!(read_regular(&dir.path().join("fifo"), 10), Err(Refused::NotAFile("a named pipe")));
        assert_eq!(read_regular(Path::new("/dev/null"), 10), Err(Refused::NotAFile("a device")));
    }

    #[test]
    fn the_members_line_names_the_packages() {
        let manifest = "[workspace]\nmembers = [\"exercises/*\", \"grader\"]\nresolver = \"3\"\n";
        let package = Package { name: "q6".into(), dir: "exercises/q6".into(), targets: Vec::new() };
        let got = exercises_manifest(manifest, &[package]).unwrap();
        assert_eq!(got, "[workspace]\nmembers = [\"exercises/q6\"]\nresolver = \"3\"\n");
    }
}
