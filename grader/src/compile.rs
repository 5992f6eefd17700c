//! Builds one exercise package with cargo, so that a compile error costs that
//! question only and its message reaches the student.
//!
//! ```no_run
//! use grader::compile::{Build, build};
//! let build_spec = Build::new(std::path::Path::new("."), "q6_four_procs");
//! let binary = build(&build_spec)?; // Err(message): the compiler's errors
//! # Ok::<(), String>(())
//! ```
//!
//! Each (workspace, package) is built at most once per process; later calls
//! get the cached path or error.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a build may take before it is stopped.
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(300);
/// Lines of compiler output quoted in a message.
const QUOTED_LINES: usize = 25;

/// One package to build in one workspace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Build {
    pub workspace: PathBuf,
    pub package: String,
    /// Where cargo puts its output; `<workspace>/target` unless
    /// `CARGO_TARGET_DIR` says otherwise.
    pub target_dir: PathBuf,
}

impl Build {
    pub fn new(workspace: &Path, package: &str) -> Build {
        let target_dir = crate::workspace::target_dir(workspace);
        Build { workspace: workspace.to_path_buf(), package: package.to_string(), target_dir }
    }

    pub fn target_dir(mut self, dir: PathBuf) -> Build {
        self.target_dir = dir;
        self
    }
}

/// Builds the package (once per process) and returns its binary, or the
/// compiler's message.
pub fn build(spec: &Build) -> Result<PathBuf, String> {
    static CACHE: OnceLock<Mutex<HashMap<Build, Result<PathBuf, String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(done) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(spec) {
        return done.clone();
    }
    // One build at a time: cargo would serialize them on its lock anyway, and
    // a binary must be copied out before another workspace sharing the
    // target directory replaces it.
    static BUILDING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let result = build_uncached(spec);
    cache.lock().unwrap_or_else(|e| e.into_inner()).insert(spec.clone(), result.clone());
    result
}

fn build_uncached(spec: &Build) -> Result<PathBuf, String> {
    let manifest = spec.workspace.join("exercises").join(&spec.package).join("Cargo.toml");
    if !manifest.is_file() {
        return Err(format!("exercises/{}/Cargo.toml is missing: the package is not there", spec.package));
    }
    if !spec.target_dir.starts_with(&spec.workspace) {
        // Cargo names a path package's artifacts by its path relative to the
        // workspace, so every scratch workspace's `q6_four_procs` is the same
        // artifact to it, rebuilt only if a source is newer than the last
        // build. Make this workspace's sources the newest.
        touch_tree(&manifest.parent().expect("has a parent").join("src"))
            .map_err(|e| format!("preparing the sources of {}: {e}", spec.package))?;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args(["build", "--quiet", "--color", "never", "--package", &spec.package, "--bin", &spec.package])
        .arg("--target-dir")
        .arg(&spec.target_dir)
        .current_dir(&spec.workspace)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.by_ref().take(4 << 20).read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > BUILD_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for cargo: {e}")),
        }
    };
    let messages = reader.join().unwrap_or_default();
    match status {
        None => Err(format!(
            "`cargo build -p {}` took over {} s and was stopped",
            spec.package,
            BUILD_TIMEOUT.as_secs()
        )),
        Some(status) if status.success() => {
            let binary = spec.target_dir.join("debug").join(&spec.package);
            if !binary.is_file() {
                return Err(format!("cargo built no binary {}", binary.display()));
            }
            if spec.target_dir.starts_with(&spec.workspace) {
                return Ok(binary);
            }
            // A target directory shared by several workspaces: keep this
            // workspace's binary where the next build cannot replace it.
            let own = spec.workspace.join(".grader-bin").join(&spec.package);
            std::fs::create_dir_all(own.parent().expect("has a parent"))
                .and_then(|()| std::fs::copy(&binary, &own))
                .map_err(|e| format!("keeping the built {}: {e}", spec.package))?;
            Ok(own)
        }
        Some(_) => Err(format!("`cargo build -p {}` failed:\n{}", spec.package, quote_errors(&messages))),
    }
}

/// Sets the modification time of every file under `dir` to now.
fn touch_tree(dir: &Path) -> std::io::Result<()> {
    let now = std::time::SystemTime::now();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            touch_tree(&entry.path())?;
        } else {
            std::fs::File::options().write(true).open(entry.path())?.set_modified(now)?;
        }
    }
    Ok(())
}

/// The compiler's errors, without the warnings before them, cut to a length
/// a scorecard can show.
fn quote_errors(messages: &str) -> String {
    let lines: Vec<&str> = messages.lines().collect();
    let first_error = lines.iter().position(|l| l.starts_with("error")).unwrap_or(0);
    let shown = &lines[first_error..];
    let mut text = shown.iter().take(QUOTED_LINES).copied().collect::<Vec<_>>().join("\n");
    if shown.len() > QUOTED_LINES {
        text.push_str(&format!(
            "\n… ({} more lines: run `cargo build` to see them all)",
            shown.len() - QUOTED_LINES
        ));
    }
    text
}
