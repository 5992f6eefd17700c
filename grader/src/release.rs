//! The student release: the repository students fork, made from this one.
//!
//! ```no_run
//! use grader::release::{Pin, release};
//! let template = grader::workspace::home();
//! let pin = Pin { repository: "teacher/multiprocessing".into(), commit: "0123abc".into() };
//! let summary = release(&template, std::path::Path::new("../student-release"), &pin, false)?;
//! println!("{} files, {} solution regions removed", summary.files, summary.regions);
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Every solution region of the exercises (between `// BEGIN SOLUTION: hint`
//! and `// END SOLUTION`) becomes a `todo!()` with its hint; the written
//! answers become their questions and a prompt; the exercise READMEs lose
//! their "How the solution works" section; the grading workflow is pinned to
//! this repository's commit; and the grader's own fixtures (right submissions
//! among them) and CI stay behind. The result is a fresh tree, with no history
//! that could hold a solution.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use crate::rubric::Question;

pub const BEGIN: &str = "// BEGIN SOLUTION";
pub const END: &str = "// END SOLUTION";
/// Said in every prompt left where an answer goes.
pub const ANSWER_PROMPT: &str =
    "_Not attempted yet: write your answer here, in your own words (at least 150 words)._";
/// The workflow lines `release` fills in.
pub const REPOSITORY_KEY: &str = "TEMPLATE_REPOSITORY:";
pub const REF_KEY: &str = "TEMPLATE_REF:";
pub const WORKFLOW: &str = ".github/workflows/grade.yml";

/// Paths (or path prefixes) of this repository that the release leaves out.
const LEFT_OUT: &[&str] = &[
    "grader/tests/fixtures/",
    "grader/tests/submissions.rs",
    "grader/tests/attacks.rs",
    "grader/tests/release.rs",
    ".ci/",
];

/// Where the released workflow fetches the grader from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// `owner/name` of the template repository on GitHub.
    pub repository: String,
    /// The commit of the template whose grader grades the forks.
    pub commit: String,
}

/// What a release wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub regions: usize,
}

/// Writes the student release of `template` into `out`, which must not exist
/// or be empty. With `git`, also makes it a fresh repository with one commit.
pub fn release(template: &Path, out: &Path, pin: &Pin, git: bool) -> Result<Summary> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        bail!("{} is not empty: give a new directory for the release", out.display());
    }
    let mut summary = Summary { files: 0, regions: 0 };
    for path in tracked_files(template)? {
        let name = path.to_string_lossy().replace('\\', "/");
        if LEFT_OUT.iter().any(|prefix| name.starts_with(prefix)) {
            continue;
        }
        if !template.join(&path).is_file() {
            continue; // deleted, not yet committed
        }
        let bytes = std::fs::read(template.join(&path)).with_context(|| format!("reading {name}"))?;
        let released = match String::from_utf8(bytes) {
            Ok(text) => transform(&name, &text, pin, &mut summary.regions)?.into_bytes(),
            Err(e) => e.into_bytes(),
        };
        let target = out.join(&path);
        std::fs::create_dir_all(target.parent().expect("a file has a parent"))?;
        std::fs::write(&target, released).with_context(|| format!("writing {}", target.display()))?;
        summary.files += 1;
    }
    ensure!(summary.regions > 0, "no `{BEGIN}` region found: nothing would be left for students to do");
    if git {
        init_repository(out)?;
    }
    Ok(summary)
}

/// What one file of the template becomes in the release.
pub fn transform(name: &str, text: &str, pin: &Pin, regions: &mut usize) -> Result<String> {
    if name.starts_with("exercises/") && name.ends_with(".rs") {
        return strip_solutions(text, regions).with_context(|| name.to_string());
    }
    if name.starts_with("exercises/") && name.ends_with("README.md") {
        return Ok(match text.find("\n## How the solution works") {
            Some(at) => format!("{}\n", text[..at].trim_end()),
            None => text.to_string(),
        });
    }
    if let Some(question) = Question::ALL.into_iter().find(|q| q.is_written() && q.location() == name) {
        return Ok(format!("# Q{}. {}\n\n{ANSWER_PROMPT}\n", question.number(), question.title()));
    }
    if name == WORKFLOW {
        return pin_workflow(text, pin);
    }
    Ok(text.to_string())
}

/// Replaces each solution region with a `todo!()` carrying its hint.
pub fn strip_solutions(text: &str, regions: &mut usize) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix(BEGIN) {
            ensure!(!inside, "line {}: `{BEGIN}` inside another region", number + 1);
            inside = true;
            *regions += 1;
            let indent = &line[..line.len() - line.trim_start().len()];
            let hint = rest.trim_start_matches(':').trim();
            let hint = if hint.is_empty() { "write this part" } else { hint };
            out.push_str(&format!("{indent}// TODO: {hint}\n{indent}todo!({hint:?})\n"));
        } else if trimmed.starts_with(END) {
            ensure!(inside, "line {}: `{END}` without a `{BEGIN}`", number + 1);
            inside = false;
        } else if !inside {
            out.push_str(line);
        }
    }
    ensure!(!inside, "a `{BEGIN}` region is never closed");
    Ok(out)
}

/// Blanks the values of the pin lines (to compare workflows whatever their pin).
pub fn unpin_workflow(text: &str) -> String {
    text.lines()
        .map(|line| match line.trim_start() {
            l if l.starts_with(REPOSITORY_KEY) || l.starts_with(REF_KEY) => {
                let key = l.split(':').next().unwrap_or_default();
                format!("{}{key}: \"\"", &line[..line.len() - l.len()])
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn pin_workflow(text: &str, pin: &Pin) -> Result<String> {
    let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    ensure!(valid(&pin.repository) && pin.repository.contains('/'), "not a repository: {:?}", pin.repository);
    ensure!(valid(&pin.commit), "not a commit: {:?}", pin.commit);
    let mut found = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let l = line.trim_start();
            let indent = &line[..line.len() - l.len()];
            if l.starts_with(REPOSITORY_KEY) {
                found += 1;
                format!("{indent}{REPOSITORY_KEY} \"{}\"", pin.repository)
            } else if l.starts_with(REF_KEY) {
                found += 1;
                format!("{indent}{REF_KEY} \"{}\"", pin.commit)
            } else {
                line.to_string()
            }
        })
        .collect();
    ensure!(found == 2, "{WORKFLOW} should have one `{REPOSITORY_KEY}` and one `{REF_KEY}` line");
    Ok(lines.join("\n") + "\n")
}

/// The files of `dir` that git tracks or would track (not ignored).
fn tracked_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let out = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(dir)
        .output()
        .context("running git: the release is made from the files git tracks")?;
    ensure!(out.status.success(), "git ls-files failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    Ok(out
        .stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        .collect())
}

/// This repository's commit, refusing uncommitted changes unless `allow_dirty`
/// (the release must match the commit its workflow is pinned to).
pub fn head_commit(dir: &Path, allow_dirty: bool) -> Result<String> {
    let git = |args: &[&str]| -> Result<String> {
        let out = Command::new("git").args(args).current_dir(dir).output().context("running git")?;
        ensure!(
            out.status.success(),
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    if !allow_dirty && !git(&["status", "--porcelain"])?.is_empty() {
        bail!(
            "the template has uncommitted changes: commit (and push) them first, since the release is pinned to a commit"
        );
    }
    git(&["rev-parse", "HEAD"])
}

/// `owner/name` of the `origin` remote, if it is on GitHub.
pub fn origin_repository(dir: &Path) -> Option<String> {
    let out = Command::new("git").args(["remote", "get-url", "origin"]).current_dir(dir).output().ok()?;
    let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let path = url.split_once("github.com").map(|(_, p)| p.trim_start_matches([':', '/']))?;
    Some(path.trim_end_matches(".git").to_string()).filter(|p| p.contains('/'))
}

fn init_repository(dir: &Path) -> Result<()> {
    let git = |args: &[&str]| -> Result<()> {
        let status = Command::new("git").args(args).current_dir(dir).status().context("running git")?;
        ensure!(status.success(), "git {} failed", args.join(" "));
        Ok(())
    };
    git(&["init", "-q"])?;
    git(&["add", "-A"])?;
    git(&[
        "-c",
        "user.name=grader release",
        "-c",
        "user.email=release@localhost",
        "commit",
        "-q",
        "-m",
        "The Multiprocessing assignment",
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_become_todos_with_their_hint() {
        let text = "fn f() -> u32 {\n    // BEGIN SOLUTION: add them\n    1 + 1\n    // END SOLUTION\n}\n";
        let mut regions = 0;
        let out = strip_solutions(text, &mut regions).unwrap();
        assert_eq!(out, "fn f() -> u32 {\n    // TODO: add them\n    todo!(\"add them\")\n}\n");
        assert_eq!(regions, 1);
    }

    #[test]
    fn unbalanced_regions_are_refused() {
        let mut n = 0;
        assert!(strip_solutions("// BEGIN SOLUTION\n", &mut n).is_err());
        assert!(strip_solutions("// END SOLUTION\n", &mut n).is_err());
        assert!(strip_solutions("// BEGIN SOLUTION\n// BEGIN SOLUTION\n", &mut n).is_err());
    }

    #[test]
    fn the_workflow_is_pinned_and_unpinned() {
        let text = "env:\n  TEMPLATE_REPOSITORY: \"\"\n  TEMPLATE_REF: \"\"\n";
        let pin = Pin { repository: "t/a".into(), commit: "abc123".into() };
        let pinned = pin_workflow(text, &pin).unwrap();
        assert!(
            pinned.contains("TEMPLATE_REF: \"abc123\"") && pinned.contains("TEMPLATE_REPOSITORY: \"t/a\"")
        );
        assert_eq!(unpin_workflow(&pinned), unpin_workflow(text));
        let bad = Pin { repository: "t/a\"; rm".into(), commit: "x".into() };
        assert!(pin_workflow(text, &bad).is_err());
    }
}
