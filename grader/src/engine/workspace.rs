//! Where things are: the grader's own workspace, where cargo builds, the
//! exercise packages' manifests; and reading a submission's files safely
//! ([`read_regular`]: regular files only, never through a link, bounded).
//!
//! ```
//! use grader::engine::workspace::{MAX_FILE, read_regular};
//! let manifest = grader::engine::workspace::home().join("Cargo.toml");
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

/// Whether `dir` holds work to grade: `exercises/`, `answers/` or both.
/// (Anything else, such as a repository of something else, is refused by
/// its caller with what it was expected to be.)
pub fn has_work(dir: &Path) -> bool {
    dir.join("exercises").is_dir() || dir.join("answers").is_dir()
}

/// The workspace this grader belongs to: the one around the current
/// directory, found as cargo finds it (the nearest parent whose `Cargo.toml`
/// has a `[workspace]` and a `grader` package), or else the one it was built
/// in. Found at run time: with a target directory shared by several clones
/// (`CARGO_TARGET_DIR`), a binary built in one must not grade another.
pub fn home() -> PathBuf {
    let built_in =
        || Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default();
    std::env::current_dir().ok().and_then(|dir| enclosing_workspace(&dir)).unwrap_or_else(built_in)
}

/// The nearest of `dir` and its parents that is an assignment workspace.
fn enclosing_workspace(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|a| {
            a.join("grader/Cargo.toml").is_file()
                && read_regular(&a.join("Cargo.toml"), MAX_FILE)
                    .is_ok_and(|m| String::from_utf8_lossy(&m).lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
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

/// Removes the directory tree at `root` without following a link, however
/// deep it is and whatever its directories' permissions: one directory
/// open at a time (going back up through `..`), and no recursion, so a
/// tree nested thousands deep neither runs out of descriptors nor
/// overflows a stack.
pub fn remove_tree(root: &Path) -> nix::Result<()> {
    use std::ffi::CString;

    use nix::dir::{Dir, Type};
    use nix::fcntl::{AtFlags, OFlag, open, openat};
    use nix::sys::stat::{FchmodatFlags, Mode, fchmod, fchmodat, fstatat};
    use nix::unistd::{UnlinkatFlags, unlinkat};

    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut dir = open(root, flags, Mode::empty())?;
    // The names of the directories above `dir`, below `root`.
    let mut names: Vec<CString> = Vec::new();
    loop {
        // A directory the program made unreadable is made readable again.
        let _ = fchmod(&dir, Mode::S_IRWXU);
        let mut listing = Dir::from_fd(openat(&dir, ".", flags, Mode::empty())?)?;
        let mut child = None;
        for entry in listing.iter() {
            let entry = entry?;
            let name = entry.file_name();
            if name.to_bytes() == b"." || name.to_bytes() == b".." {
                continue;
            }
            let is_dir = match entry.file_type() {
                Some(kind) => kind == Type::Directory,
                None => fstatat(&dir, name, AtFlags::AT_SYMLINK_NOFOLLOW)
                    .is_ok_and(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFDIR),
            };
            if is_dir {
                child = Some(name.to_owned());
                break;
            }
            unlinkat(&dir, name, UnlinkatFlags::NoRemoveDir)?;
        }
        if let Some(name) = child {
            let _ = fchmodat(&dir, name.as_c_str(), Mode::S_IRWXU, FchmodatFlags::NoFollowSymlink);
            dir = openat(&dir, name.as_c_str(), flags, Mode::empty())?;
            names.push(name);
            continue;
        }
        let Some(name) = names.pop() else { break };
        let parent = openat(&dir, "..", flags, Mode::empty())?;
        unlinkat(&parent, name.as_c_str(), UnlinkatFlags::RemoveDir)?;
        dir = parent;
    }
    drop(dir);
    std::fs::remove_dir(root).map_err(|e| nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)))
}

/// Writes `bytes` to `path` so that a crash, a kill or a full disk part-way
/// leaves the old file whole: into a temporary file beside it, synced, then
/// renamed over it (a rename within a directory is atomic), and the
/// directory synced so the rename itself survives a crash.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use anyhow::Context as _;
    use std::io::Write;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file =
        tempfile::Builder::new().prefix(".grader-").suffix(".tmp").tempfile_in(dir).with_context(|| {
            format!("writing {}: creating a temporary file in {}", path.display(), dir.display())
        })?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    // Readable as a file written by `std::fs::write` would be (a temporary
    // file is the owner's alone).
    use std::os::unix::fs::PermissionsExt;
    let _ = file.as_file().set_permissions(std::fs::Permissions::from_mode(0o644));
    file.persist(path).map_err(|e| e.error).with_context(|| format!("writing {}", path.display()))?;
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// When the work expected at `location` (`answers/q4.md`,
/// `exercises/q6_four_procs`) is not in `root`: a sentence naming what is
/// there instead and is most likely it (`answers/Q4.md`, `answers/q4.txt`,
/// `exercises/q6`, `Answers/q4.md`), if anything is.
///
/// ```
/// let root = tempfile::tempdir().unwrap();
/// std::fs::create_dir_all(root.path().join("answers")).unwrap();
/// std::fs::write(root.path().join("answers/Q4.md"), "…").unwrap();
/// let said = grader::engine::workspace::renamed(root.path(), "answers/q4.md").unwrap();
/// assert_eq!(said, "found `answers/Q4.md`: the grader reads `answers/q4.md`");
/// ```
pub fn renamed(root: &Path, location: &str) -> Option<String> {
    let (dir, name) = location.rsplit_once('/').unwrap_or(("", location));
    let lower = name.to_lowercase();
    let stem = lower.split('.').next().unwrap_or(&lower).to_string();
    // `q6` of `q6_four_procs`, `q4` of `q4.md`.
    let number = stem.split(['_', '-']).next().unwrap_or(&stem).to_string();
    let looks_like = |candidate: &str| {
        let c = candidate.to_lowercase();
        let c_stem = c.split('.').next().unwrap_or(&c);
        c == lower
            || c_stem == stem
            || c_stem == number
            || (c_stem.starts_with(&number)
                && c_stem[number.len()..].starts_with(['_', '-', ' '])
                && !c_stem[number.len()..].starts_with(|d: char| d.is_ascii_digit()))
    };
    // The directory itself, or one that is spelt like it (`Answers`, `answer`).
    let dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        // A link is never followed: it could name any directory of the
        // machine, and its files' names would be quoted.
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|d| {
            let d = d.to_lowercase();
            !dir.is_empty() && (d == dir || d.trim_end_matches('s') == dir.trim_end_matches('s'))
        })
        .map(PathBuf::from)
        .collect();
    let mut found: Vec<String> = dirs
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(root.join(d)).into_iter().flatten().flatten().filter_map(move |e| {
                let candidate = e.file_name().to_string_lossy().into_owned();
                let path = format!("{}/{candidate}", d.display());
                (path != location && looks_like(&candidate)).then_some(path)
            })
        })
        .collect();
    found.sort();
    let first = found.first()?;
    Some(format!("found `{first}`: the grader reads `{location}`"))
}

/// The path [`renamed`] names, relative to `root`.
pub fn renamed_path(root: &Path, location: &str) -> Option<PathBuf> {
    let said = renamed(root, location)?;
    let found = said.strip_prefix("found `")?.split('`').next()?;
    Some(PathBuf::from(found))
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
    fn removes_a_tree_deeper_than_path_max_with_unreadable_directories() {
        use std::os::unix::fs::PermissionsExt;
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join("run");
        // Deeper than PATH_MAX, built through relative paths.
        std::fs::create_dir(&root).unwrap();
        let name = "d".repeat(200);
        let mut dir =
            nix::fcntl::open(&root, nix::fcntl::OFlag::O_DIRECTORY, nix::sys::stat::Mode::empty()).unwrap();
        for _ in 0..40 {
            nix::sys::stat::mkdirat(&dir, name.as_str(), nix::sys::stat::Mode::S_IRWXU).unwrap();
            let next = nix::fcntl::openat(
                &dir,
                name.as_str(),
                nix::fcntl::OFlag::O_DIRECTORY,
                nix::sys::stat::Mode::empty(),
            )
            .unwrap();
            nix::fcntl::openat(
                &next,
                "file",
                nix::fcntl::OFlag::O_CREAT | nix::fcntl::OFlag::O_WRONLY,
                nix::sys::stat::Mode::S_IRUSR,
            )
            .unwrap();
            dir = next;
        }
        std::os::unix::fs::symlink("/etc", root.join("link")).unwrap();
        std::fs::set_permissions(root.join(&name), std::fs::Permissions::from_mode(0o000)).unwrap();
        remove_tree(&root).unwrap();
        assert!(!root.exists());
        assert!(Path::new("/etc/passwd").exists(), "the link was not followed");
    }

    #[test]
    fn the_workspace_is_found_from_the_current_directory() {
        let top = tempfile::tempdir().unwrap();
        let ws = top.path().join("clone");
        std::fs::create_dir_all(ws.join("grader")).unwrap();
        std::fs::create_dir_all(ws.join("exercises/q6/src")).unwrap();
        std::fs::write(ws.join("grader/Cargo.toml"), "[package]\n").unwrap();
        std::fs::write(ws.join("exercises/q6/Cargo.toml"), "[package]\n").unwrap();
        assert_eq!(enclosing_workspace(&ws.join("exercises/q6/src")), None, "no [workspace] yet");
        std::fs::write(ws.join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
        assert_eq!(enclosing_workspace(&ws.join("exercises/q6/src")), Some(ws.clone()));
        assert_eq!(enclosing_workspace(top.path()), None);
    }

    #[test]
    fn the_members_line_names_the_packages() {
        let manifest = "[workspace]\nmembers = [\"exercises/*\", \"grader\"]\nresolver = \"3\"\n";
        let got = exercises_manifest(manifest, &["exercises/q6"]).unwrap();
        assert_eq!(got, "[workspace]\nmembers = [\"exercises/q6\"]\nresolver = \"3\"\n");
    }
}
