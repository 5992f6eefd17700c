//! The assignment repository: what students make their repositories from,
//! written from this one, which holds the solutions and may stay private.
//!
//! ```no_run
//! use grader::classroom::release::release;
//! let template = grader::engine::workspace::home();
//! use grader::classroom::release::WrittenRubric;
//! let out = std::path::Path::new("../assignment");
//! let summary = release(&template, out, "teacher/multiprocessing", true, WrittenRubric::Public)?;
//! println!("{} files, {} solution regions removed", summary.files, summary.regions);
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Every solution region of the exercises (between `// BEGIN SOLUTION: hint`
//! and `// END SOLUTION`) becomes a `todo!()` with its hint; the written
//! answers become their questions and a prompt; the exercise READMEs lose
//! their "How the solution works" section; the README becomes the students'
//! (`student_readme.md`); the grader's own fixtures (right submissions among
//! them), the marked answers its written-answer marker is held to, and CI
//! stay behind. The result is a fresh git repository of two
//! commits: the assignment, then its grading workflow pinned to that first
//! commit of the same repository, so that it grades itself, with a grader no
//! student can change, and never names this one.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use crate::rubric::Question;

pub const BEGIN: &str = "// BEGIN SOLUTION";
pub const END: &str = "// END SOLUTION";
/// The students' README, written as the release's `README.md`.
pub use crate::engine::workflow::{REF_KEY, REPOSITORY_KEY, WORKFLOW, unpin_workflow};
pub use crate::rubric::ANSWER_PROMPT;

const STUDENT_README: &str = include_str!("student_readme.md");
/// Put at the top of every exercise file with a `todo!()`: the hints name
/// the imports they need, which the compiler would otherwise call unused
/// (and `cargo fix` would delete).
const QUIET: &str = "// Remove the next line once your solution is in: it keeps the compiler quiet\n\
                     // about the imports and names the `todo!()`s below do not use yet.\n\
                     #![allow(unused_imports, unused_variables, unused_mut, dead_code)]\n";

/// Paths (or path prefixes) of this repository that the release leaves out.
const LEFT_OUT: &[&str] = &[
    "grader/tests/fixtures/",
    "grader/tests/submissions.rs",
    "grader/tests/attacks.rs",
    "grader/tests/release.rs",
    // The classroom's: a class in shards (it needs a fixture), and the
    // workflow that collects the class's marks with a token.
    "grader/tests/shards.rs",
    // Needs fixtures (a wrong Q6), and builds the Gradescope autograder.
    "grader/tests/platforms.rs",
    ".github/workflows/collect.yml",
    // Needs the reference's Q6 and a fixture (tests/watch.rs ships).
    "grader/tests/watch_regrade.rs",
    // The benchmark's own pool (a fast Q5, all written out), and its data.
    "exercises/q5_pool/benches/chunked.rs",
    "exercises/q5_pool/benches/pipe.rs",
    "exercises/q5_pool/benches/report.rs",
    "exercises/q5_pool/tests/bench_report.rs",
    "exercises/q5_pool/benches/python_pool.py",
    "exercises/q5_pool/benches/results.json",
    "exercises/q5_pool/benches/speedup.svg",
    // Marked answers, the excellent among them answers of the written questions.
    "grader/tests/answers/",
    "grader/tests/answers.rs",
    "grader/tests/review.rs",
    ".ci/",
];

/// What the release's `grader/src/checks/written/answers.toml` carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WrittenRubric {
    /// The concepts and the rules that recognise them: students' local
    /// marks of the written answers are the marks.
    #[default]
    Public,
    /// The concepts only (what a full answer covers, its hints and
    /// nudges): students' local marks of the concepts are provisional, and
    /// the instructor's `batch` gives them.
    Private,
}

/// What a release wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub regions: usize,
    /// The commit the workflow is pinned to: the release's first (`None`
    /// without git: the workflow is then unpinned, and grades itself).
    pub pinned: Option<String>,
}

/// Writes the assignment repository of `template` into `out`, which must
/// not exist or be empty, for the GitHub repository `repository`
/// (`owner/name`, where it will be pushed). With `git`, makes it a fresh
/// repository of two commits, the workflow pinned to the first.
pub fn release(
    template: &Path,
    out: &Path,
    repository: &str,
    git: bool,
    written: WrittenRubric,
) -> Result<Summary> {
    ensure!(valid_repository(repository), "not a GitHub repository (OWNER/NAME): {repository:?}");
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        bail!("{} is not empty: give a new directory for the release", out.display());
    }
    let mut summary = Summary { files: 0, regions: 0, pinned: None };
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
            Ok(text)
                if name == "grader/src/checks/written/answers.toml" && written == WrittenRubric::Private =>
            {
                crate::checks::written::without_rules(&text).into_bytes()
            }
            Ok(text) if name == "README.md" => {
                let said = match written {
                    WrittenRubric::Public => "",
                    WrittenRubric::Private => PROVISIONAL_README,
                };
                transform(&name, &text, repository, &mut summary.regions)?
                    .replace("{written}", said)
                    .into_bytes()
            }
            Ok(text) => transform(&name, &text, repository, &mut summary.regions)?.into_bytes(),
            Err(e) => e.into_bytes(),
        };
        let target = out.join(&path);
        std::fs::create_dir_all(target.parent().expect("a file has a parent"))?;
        std::fs::write(&target, released).with_context(|| format!("writing {}", target.display()))?;
        summary.files += 1;
    }
    ensure!(summary.regions > 0, "no `{BEGIN}` region found: nothing would be left for students to do");
    if git {
        summary.pinned = Some(commit_and_pin(out, repository)?);
    }
    Ok(summary)
}

fn valid_repository(repository: &str) -> bool {
    let mut parts = repository.split('/');
    let part = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
    };
    part(parts.next()) && part(parts.next()) && parts.next().is_none()
}

/// Said in the students' README when the release carries the concepts of
/// the written answers but not the rules that recognise them.
const PROVISIONAL_README: &str = "\n  In this assignment, your grader knows what a full answer covers, not\n  how your instructor's grader recognises it: its marks of the concepts\n  of your written answers are provisional (it says so), and your\n  instructor's grading gives the marks.";

/// What the release has in place of the benchmark, which needs a whole pool.
const BENCH_STUB: &str = "//! The benchmark of pools, processes and threads is your instructor's: it\n\
//! runs a finished pool, which this assignment asks you to write.\n\
\n\
fn main() {\n    println!(\"The benchmark is not part of the assignment.\");\n}\n";

/// What one file of the template becomes in the release.
pub fn transform(name: &str, text: &str, repository: &str, regions: &mut usize) -> Result<String> {
    if name == "exercises/q5_pool/benches/pool.rs" {
        return Ok(BENCH_STUB.to_string());
    }
    if name.starts_with("exercises/") && name.ends_with(".rs") {
        let before = *regions;
        let stripped = strip_solutions(text, regions).with_context(|| name.to_string())?;
        return Ok(if *regions > before { quieted(&stripped) } else { stripped });
    }
    if name == "README.md" {
        return Ok(STUDENT_README.replace("{repository}", &format!("https://github.com/{repository}")));
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
    Ok(text.to_string())
}

/// `text` with [`QUIET`] after its leading inner doc comments and attributes.
fn quieted(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let at =
        lines.iter().position(|l| !(l.starts_with("//!") || l.starts_with("#!["))).unwrap_or(lines.len());
    format!("{}{QUIET}{}", lines[..at].concat(), lines[at..].concat())
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

/// The workflow, set to grade with `repository` at `commit`.
pub fn pin_workflow(text: &str, repository: &str, commit: &str) -> Result<String> {
    ensure!(valid_repository(repository), "not a repository: {repository:?}");
    ensure!(!commit.is_empty() && commit.chars().all(|c| c.is_ascii_hexdigit()), "not a commit: {commit:?}");
    let mut found = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let l = line.trim_start();
            let indent = &line[..line.len() - l.len()];
            if l.starts_with(REPOSITORY_KEY) {
                found += 1;
                format!("{indent}{REPOSITORY_KEY} \"{repository}\"")
            } else if l.starts_with(REF_KEY) {
                found += 1;
                format!("{indent}{REF_KEY} \"{commit}\"")
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

/// Makes `dir` a git repository of two commits: the assignment, then its
/// workflow pinned to that first commit of `repository`. Returns the first.
fn commit_and_pin(dir: &Path, repository: &str) -> Result<String> {
    let git = |args: &[&str]| -> Result<String> {
        let out = Command::new("git")
            .args(["-c", "user.name=Multiprocessing", "-c", "user.email=assignment@localhost"])
            .args(args)
            .current_dir(dir)
            .output()
            .context("running git")?;
        ensure!(
            out.status.success(),
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    git(&["init", "-q", "-b", "main"])?;
    git(&["add", "-A"])?;
    git(&["commit", "-q", "-m", "The Multiprocessing assignment"])?;
    let first = git(&["rev-parse", "HEAD"])?;
    let workflow = dir.join(WORKFLOW);
    let text = std::fs::read_to_string(&workflow).with_context(|| format!("reading {WORKFLOW}"))?;
    std::fs::write(&workflow, pin_workflow(&text, repository, &first)?)?;
    git(&["add", WORKFLOW])?;
    git(&["commit", "-q", "-m", &format!("Grade every push with the grader of {first}")])?;
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_with_todos_keep_the_compiler_quiet_after_their_docs() {
        let text = "//! Q1.\n//! More.\nuse std::io;\n";
        assert_eq!(quieted(text), format!("//! Q1.\n//! More.\n{QUIET}use std::io;\n"));
    }

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
        let text = "env:\n  GRADER_REPOSITORY: \"\"\n  GRADER_REF: \"\"\n";
        let pinned = pin_workflow(text, "t/a", "abc123").unwrap();
        assert!(pinned.contains("GRADER_REF: \"abc123\"") && pinned.contains("GRADER_REPOSITORY: \"t/a\""));
        assert_eq!(unpin_workflow(&pinned), unpin_workflow(text));
        assert!(pin_workflow(text, "t/a\"; rm", "abc").is_err());
        assert!(pin_workflow(text, "t/a", "x; rm").is_err());
        assert!(
            !valid_repository("a/b/c") && !valid_repository("a") && valid_repository("me/multi.processing")
        );
    }
}
