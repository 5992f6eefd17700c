//! Where things are: the grader's own workspace, where cargo builds, the
//! exercise packages' manifests; and reading a submission's files safely
//! ([`read_regular`]: regular files only, never through a link, bounded).
//!
//! ```
//! use grader::workspace::{MAX_FILE, read_regular};
//! let manifest = grader::workspace::home().join("Cargo.toml");
//! assert!(read_regular(&manifest, MAX_FILE).is_ok());
//! assert!(read_regular("/dev/zero".as_ref(), MAX_FILE).is_err());
//! ```

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

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
/// alone (their directories, `members`), without the grader.
pub fn exercises_manifest(manifest: &str, members: &[&str]) -> Result<String> {
    let Some(line) = manifest.lines().find(|l| l.trim_start().starts_with("members")) else {
        bail!("the template's Cargo.toml has no `members = [...]` line");
    };
    let members: Vec<String> = members.iter().map(|dir| format!("{dir:?}")).collect();
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
pub fn kind_of(file_type: std::fs::FileType) -> &'static str {
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
        let got = exercises_manifest(manifest, &["exercises/q6"]).unwrap();
        assert_eq!(got, "[workspace]\nmembers = [\"exercises/q6\"]\nresolver = \"3\"\n");
    }
}
