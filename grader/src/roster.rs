//! A class's repositories: a roster (`student,repository`) cloned, or
//! fetched again, into a cache directory, each checked out at the commit to
//! grade (its last, or its last before a deadline).
//!
//! ```no_run
//! use grader::roster::{Fetch, fetch_all, read_roster};
//! let students = read_roster("roster.csv".as_ref())?;
//! let fetch = Fetch { cache: "repos".into(), before: Some("2026-12-01T23:59:59Z".into()) };
//! for student in fetch_all(&students, &fetch, |_, _| {}) {
//!     println!("{}: {:?}", student.name, student.dir);
//! }
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Commit dates are whatever the student's git said; the runs of the
//! grading workflow, with their times on GitHub, are the stronger record.
//! A repository that cannot be fetched is an error of its own row, never
//! the end of the batch. Git runs without a terminal to ask for a password
//! and with a time limit, and the graded tree is only read, never built in
//! place (see [`scratch`](crate::scratch)).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::batch::{Submission, unique_names};

/// How long one clone or fetch may take.
const GIT_TIMEOUT: Duration = Duration::from_secs(300);

/// One line of the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    pub name: String,
    /// A URL git can clone, or a path.
    pub repository: String,
}

/// Where to keep the clones, and which commit to take.
#[derive(Debug, Clone)]
pub struct Fetch {
    pub cache: PathBuf,
    /// Take each repository's last commit before this date (anything
    /// `git log --before` reads, e.g. `2026-12-01T23:59:59Z`).
    pub before: Option<String>,
}

/// Reads a roster: one `student,repository` per line; a first line
/// `student,repository` is a header; empty lines and `#` comments are
/// skipped; fields may be quoted.
pub fn read_roster(path: &Path) -> Result<Vec<Student>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading the roster {}", path.display()))?;
    let mut students = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, repository)) = line.split_once(',') else {
            bail!("{} line {}: expected `student,repository`, got {line:?}", path.display(), i + 1);
        };
        let unquote = |s: &str| s.trim().trim_matches('"').trim().to_string();
        let (name, repository) = (unquote(name), unquote(repository));
        if i == 0 && name.eq_ignore_ascii_case("student") {
            continue;
        }
        if name.is_empty() || repository.is_empty() {
            bail!("{} line {}: a student and a repository are needed", path.display(), i + 1);
        }
        students.push(Student { name, repository });
    }
    if students.is_empty() {
        bail!("the roster {} names no student", path.display());
    }
    Ok(students)
}

/// Fetches every student's repository (one at a time: the network and the
/// disk are the limit, not the cores); `progress(done, all)` hears of each.
/// Each is a submission, named (its row, its directory in the cache) after
/// its student, made unique.
pub fn fetch_all(students: &[Student], fetch: &Fetch, progress: impl Fn(usize, usize)) -> Vec<Submission> {
    let names = unique_names(students.iter().map(|s| Some(s.name.clone())));
    students
        .iter()
        .zip(names)
        .enumerate()
        .map(|(i, (student, name))| {
            let dir = fetch.cache.join(&name);
            let fetched = match checkout(&student.repository, &dir, fetch.before.as_deref()) {
                Ok(commit) => Submission { name, dir: Ok(dir), commit: Some(commit) },
                Err(e) => Submission { name, dir: Err(format!("{e:#}")), commit: None },
            };
            progress(i + 1, students.len());
            fetched
        })
        .collect()
}

/// Clones `repository` into `dir` (or fetches it again), and checks out the
/// commit to grade; returns it.
fn checkout(repository: &str, dir: &Path, before: Option<&str>) -> Result<String> {
    if dir.join(".git").is_dir() {
        git(Some(dir), &["remote", "set-url", "origin", repository])?;
        git(
            Some(dir),
            &["-c", "protocol.ext.allow=never", "fetch", "--quiet", "--force", "--prune", "origin"],
        )
        .with_context(|| format!("fetching {repository}"))?;
        git(Some(dir), &["remote", "set-head", "origin", "--auto"])?;
    } else {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir.parent().unwrap_or(dir))?;
        let dir_arg = dir.to_string_lossy();
        // No `ext::` transport: a URL from a student must not run a command.
        git(
            None,
            &[
                "-c",
                "protocol.ext.allow=never",
                "clone",
                "--quiet",
                "--no-checkout",
                "--",
                repository,
                &dir_arg,
            ],
        )
        .with_context(|| format!("cloning {repository}"))?;
    }
    let mut args = vec!["rev-list", "-n", "1", "--first-parent"];
    let since;
    if let Some(before) = before {
        since = format!("--before={before}");
        args.push(&since);
    }
    args.push("origin/HEAD");
    let commit = git(Some(dir), &args)?;
    if commit.is_empty() {
        bail!("no commit before {}", before.unwrap_or("now"));
    }
    git(Some(dir), &["-c", "advice.detachedHead=false", "checkout", "--quiet", "--force", &commit])?;
    git(Some(dir), &["clean", "--quiet", "-ffdx"])?;
    Ok(commit)
}

/// Runs git (in `dir`), without a terminal to prompt on, within the time
/// limit; returns its stdout, trimmed.
fn git(dir: Option<&Path>, args: &[&str]) -> Result<String> {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env("GCM_INTERACTIVE", "never")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running git: is it installed?")?;
    let started = Instant::now();
    while child.try_wait()?.is_none() {
        if started.elapsed() > GIT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            bail!("git {} took over {} s", args.join(" "), GIT_TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        bail!("git {} failed: {}", args.first().unwrap_or(&""), said.trim().lines().last().unwrap_or(""));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rosters_skip_headers_comments_and_quotes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.csv");
        std::fs::write(
            &path,
            "student,repository\n# a comment\n\"Ann Lee\", \"https://x/ann.git\"\nbob,../bob\n\n",
        )
        .unwrap();
        let students = read_roster(&path).unwrap();
        assert_eq!(students.len(), 2);
        assert_eq!(students[0], Student { name: "Ann Lee".into(), repository: "https://x/ann.git".into() });
        std::fs::write(&path, "bob\n").unwrap();
        assert!(read_roster(&path).is_err());
    }
}
