//! Grading students' forks: the student release, `--submission` against an
//! edited grader, and `batch` over a class with broken and hanging work.
//! (This file and the fixtures stay out of the release.)

mod common;

use common::{commit_all, copy_submission, copy_tree, gradebook_rows};

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use grader::engine::workspace::home as workspace;
use serde_json::Value;

fn grader() -> Command {
    common::grader(300)
}

/// A fresh, empty temporary directory.
fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(&format!("grader-{name}-")).tempdir().unwrap()
}

/// Every line of code that appears only inside solution regions of the
/// reference exercises.
fn solution_lines() -> Vec<String> {
    let mut lines = Vec::new();
    let mut outside = std::collections::HashSet::new();
    let mut stack = vec![workspace().join("exercises")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let mut inside = false;
                for line in text.lines().map(str::trim) {
                    if line.starts_with("// BEGIN SOLUTION") {
                        inside = true;
                    } else if line.starts_with("// END SOLUTION") {
                        inside = false;
                    } else if inside && line.len() >= 20 && !line.starts_with("//") {
                        lines.push(line.to_string());
                    } else if !inside {
                        outside.insert(line.to_string());
                    }
                }
            }
        }
    }
    lines.retain(|l| !outside.iter().any(|o| o.contains(l.as_str())));
    lines
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != ".git" {
                files.extend(all_files(&path));
            }
        } else {
            files.push(path);
        }
    }
    files
}

/// Runs git in `dir` and returns its stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Cargo in the assignment repository `dir`, with warnings as errors, in a
/// target directory kept between runs (`.ci/run` builds there too).
fn cargo_in(dir: &Path, args: &[&str]) -> std::process::Output {
    let target = grader::engine::workspace::target_dir(&workspace()).join("release-check/target");
    std::process::Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("RUSTFLAGS", "-D warnings")
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .unwrap()
}

/// What `cargo test -p grader` did in a release.
#[derive(Debug)]
struct TestRun {
    status: Option<i32>,
    /// The tests that failed, each with its target (`tests/your_work.rs`).
    failed: Vec<(String, String)>,
    /// The targets that ran, and passed.
    passed: Vec<String>,
    /// Cargo's and the tests' output, as one.
    output: String,
}

impl TestRun {
    fn ran(&self, targets: &[&str]) -> bool {
        targets.iter().all(|t| self.passed.iter().any(|p| p == t) || self.failed.iter().any(|(f, _)| f == t))
    }
}

/// Runs the release's `cargo test -p grader` as a student does (with
/// `args`), with `path` as
/// PATH if given, and reads which tests failed in which target.
fn cargo_test_in(dir: &Path, args: &[&str], path: Option<&std::ffi::OsStr>) -> TestRun {
    let target = grader::engine::workspace::target_dir(&workspace()).join("release-check/target");
    // One file for stdout and stderr: cargo names each target on stderr,
    // the tests say how they did on stdout.
    let log = tempfile::tempfile().unwrap();
    let mut command = std::process::Command::new(env!("CARGO"));
    command
        .args(["test", "-p", "grader"])
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("RUSTFLAGS", "-D warnings")
        .env("RUST_BACKTRACE", "0")
        .env_remove("CARGO_MANIFEST_DIR")
        .stdout(log.try_clone().unwrap())
        .stderr(log.try_clone().unwrap());
    if let Some(path) = path {
        command.env("PATH", path);
    }
    let status = command.status().unwrap().code();
    let mut output = String::new();
    use std::io::{Read, Seek};
    let mut log = log;
    log.rewind().unwrap();
    log.read_to_string(&mut output).unwrap();
    let (mut failed, mut passed, mut current) = (Vec::new(), Vec::new(), String::new());
    for line in output.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Running ") {
            current = rest.split(" (").next().unwrap_or(rest).to_string();
        } else if line.starts_with("Doc-tests ") {
            current = "doc-tests".into();
        } else if let Some(test) = line.strip_prefix("test ").and_then(|t| t.strip_suffix(" ... FAILED")) {
            failed.push((current.clone(), test.to_string()));
        } else if line.starts_with("test result: ok") {
            passed.push(current.clone());
        }
    }
    TestRun { status, failed, passed, output }
}

/// A PATH with every program of this one's but `tool` (links in `top`).
fn path_without(tool: &str, top: &Path) -> std::ffi::OsString {
    let bin = top.join("path-without");
    std::fs::create_dir_all(&bin).unwrap();
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let link = bin.join(entry.file_name());
            if entry.file_name() != tool && !link.exists() {
                let _ = std::os::unix::fs::symlink(entry.path(), link);
            }
        }
    }
    assert!(!bin.join(tool).exists());
    bin.into_os_string()
}

#[test]
fn the_assignment_repository_holds_no_solution_names_no_template_and_grades_itself() {
    let top = temp_dir("release");
    let out = top.path().join("assignment");
    grader().args(["release", "--repository", "teacher/multiprocessing"]).arg(&out).assert().success();

    // Two commits: the assignment, then its workflow pinned to the first.
    let first = git(&out, &["rev-list", "--max-parents=0", "HEAD"]).trim().to_string();
    assert_eq!(git(&out, &["rev-list", "--count", "HEAD"]).trim(), "2");
    let workflow = std::fs::read_to_string(out.join(".github/workflows/grade.yml")).unwrap();
    assert!(workflow.contains("GRADER_REPOSITORY: \"teacher/multiprocessing\""), "{workflow}");
    assert!(workflow.contains(&format!("GRADER_REF: \"{first}\"")), "{workflow}");

    // No object of its history holds a solution line, a written answer, or
    // names the template (its directory, its own repository).
    let solutions = solution_lines();
    assert!(solutions.len() > 50, "the reference has solution regions");
    // The reference answers, and the marked answers of the corpus the
    // written answers' marker is held to (its excellent ones are answers).
    let corpora = ["tests/answers/corpus.toml", "tests/answers/holdout.toml"]
        .map(|f| std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(f)).unwrap_or_default());
    let answers: Vec<String> = ["q1", "q2", "q4"]
        .iter()
        .map(|q| std::fs::read_to_string(workspace().join(format!("answers/{q}.md"))).unwrap())
        .chain(corpora)
        .flat_map(|text| {
            text.lines()
                .filter(|l| l.len() >= 60 && !l.starts_with('#') && !l.starts_with("reason = "))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(answers.len() > 100, "the reference answers and the corpus");
    let mut names = vec![workspace().to_string_lossy().into_owned()];
    let origin = std::process::Command::new("git")
        .args(["remote", "get-url", "origin"])
        .current_dir(workspace())
        .output();
    if let Ok(origin) = origin
        && origin.status.success()
    {
        // A GitHub repository's `owner/name` (a local path is checked above).
        let url = String::from_utf8_lossy(&origin.stdout).trim().trim_end_matches(".git").to_string();
        names.extend(
            url.split_once("github.com").map(|(_, path)| path.trim_start_matches([':', '/']).to_string()),
        );
    }
    let objects = git(&out, &["rev-list", "--all", "--objects"]);
    let mut blobs = 0;
    for object in objects.lines().filter_map(|l| l.split_whitespace().next()) {
        let text = git(&out, &["cat-file", "-p", object]);
        blobs += 1;
        let name = objects.lines().find(|l| l.starts_with(object)).unwrap_or(object);
        // The grader names the markers, and checks some of what the
        // solutions compute; only the exercises may hold neither.
        let exercise = name.contains(" exercises/");
        if exercise && text.contains("BEGIN SOLUTION") {
            panic!("{name} still has a solution marker");
        }
        if let Some(line) = solutions.iter().find(|l| exercise && text.contains(l.as_str())) {
            panic!("{name} holds solution code: {line}");
        }
        if let Some(line) = answers.iter().find(|l| text.contains(l.as_str())) {
            panic!("{name} holds a written answer: {line}");
        }
        if let Some(template) = names.iter().find(|n| text.contains(n.as_str())) {
            panic!("{name} names the template: {template}");
        }
    }
    assert!(blobs > 60, "{blobs} objects");

    // Q5 is sized for the question: at most three todo!()s, all in the pool,
    // and a README that fits on two screens.
    let q5 = out.join("exercises/q5_pool");
    let todos: Vec<String> = all_files(&q5.join("src"))
        .iter()
        .flat_map(|f| std::fs::read_to_string(f).unwrap().lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|l| l.trim_start().starts_with("todo!("))
        .collect();
    assert!((1..=3).contains(&todos.len()), "{todos:#?}");
    let readme = std::fs::read_to_string(q5.join("README.md")).unwrap();
    assert!(readme.lines().count() <= 80 && !readme.contains("How the solution works"), "{readme}");
    assert!(!q5.join("benches/chunked.rs").exists(), "the benchmark's pool is a whole Q5");
    for file in all_files(&out) {
        let name = file.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
        assert!(
            !name.starts_with("grader/tests/fixtures")
                && !name.starts_with(".ci")
                && name != ".github/workflows/collect.yml",
            "{name} is in the release"
        );
    }

    // It builds with no warning, and its own grader grades it: nothing
    // attempted, 0; the solutions pasted back, 100.
    let build = cargo_in(&out, &["build", "--workspace", "--all-targets", "--quiet"]);
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let grade = |json: &str| {
        let run = cargo_in(&out, &["run", "-p", "grader", "--quiet", "--", "--json", json]);
        let results: Value = serde_json::from_str(&std::fs::read_to_string(top.path().join(json)).unwrap())
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&run.stderr)));
        (run.status.code(), results, String::from_utf8_lossy(&run.stdout).into_owned())
    };
    let json = top.path().join("untouched.json");
    let (code, results, scorecard) = grade(json.to_str().unwrap());
    assert_eq!((code, results["score"].as_u64()), (Some(1), Some(0)), "{results}");
    for test in results["tests"].as_array().unwrap() {
        assert!(test["output"].as_str().unwrap().contains("not attempted yet"), "{test}");
    }
    // The first scorecard: a line per question, and where to start.
    assert!(scorecard.lines().count() <= 25, "{scorecard}");
    assert_eq!(scorecard.matches("not attempted yet: ").count(), 6, "{scorecard}");
    assert!(scorecard.contains("Not attempted yet: Q6, Q3, Q5, Q1, Q2, Q4"), "{scorecard}");
    // The release's own `cargo test -p grader`, untouched: only the
    // student's checks fail (every one of them), and every test of the
    // grader itself passes. With tmux and without: a test that needs it
    // says it is skipped.
    // As a student runs it (it stops at the first target that fails): the
    // grader's own tests run first, and pass; then the student's checks.
    let untouched = cargo_test_in(&out, &[], None);
    assert!(
        untouched.ran(&["tests/cli.rs", "tests/watch.rs"])
            && untouched.passed.iter().any(|t| t == "tests/cli.rs"),
        "{}",
        untouched.output
    );
    let checks = grader::rubric::checks().count();
    assert!(
        untouched.failed.iter().all(|(target, _)| target == "tests/your_work.rs")
            && untouched.failed.len() == checks
            && untouched.ran(&[
                "unittests src/lib.rs",
                "tests/cli.rs",
                "tests/watch.rs",
                "tests/your_work.rs"
            ]),
        "untouched, only the {checks} checks of tests/your_work.rs should fail: {:?}\n{}",
        untouched.failed,
        untouched.output
    );
    let no_tmux = path_without("tmux", top.path());
    let watch = cargo_test_in(&out, &["--test", "watch", "--", "--nocapture"], Some(&no_tmux));
    assert!(
        watch.status == Some(0) && watch.output.contains("skipped watch: it needs tmux"),
        "{}",
        watch.output
    );
    // Testing leaves nothing behind either.
    assert_eq!(git(&out, &["status", "--porcelain"]), "", "grading and testing left files");
    for package in ["q3_process", "q5_pool", "q6_four_procs"] {
        let from = workspace().join("exercises").join(package).join("src");
        copy_tree(&from, &out.join("exercises").join(package).join("src"));
    }
    copy_tree(&workspace().join("answers"), &out.join("answers"));
    let json = top.path().join("solved.json");
    let (code, results, scorecard) = grade(json.to_str().unwrap());
    assert!(!scorecard.contains("not attempted"), "{scorecard}");
    assert_eq!((code, results["score"].as_u64()), (Some(0), Some(100)), "{results}");
    assert_eq!(results["extra_data"]["changed_protected_paths"], serde_json::json!([]));
    // And the release's `cargo test -p grader` passes whole, with tmux and
    // without.
    let solved = cargo_test_in(&out, &[], None);
    assert!(
        solved.status == Some(0)
            && solved.failed.is_empty()
            && solved.ran(&["tests/watch.rs", "tests/your_work.rs"]),
        "with the reference pasted in, every test passes: {:?}\n{}",
        solved.failed,
        solved.output
    );
    let watch = cargo_test_in(&out, &["--test", "watch", "--", "--nocapture"], Some(&no_tmux));
    assert!(watch.status == Some(0) && watch.output.contains("skipped watch"), "{}", watch.output);
    assert_eq!(
        git(&out, &["status", "--porcelain"])
            .lines()
            .filter(|l| !l.contains("exercises/") && !l.contains("answers/"))
            .count(),
        0
    );
}

#[test]
fn an_edited_grader_in_a_submission_changes_nothing_and_is_listed() {
    let top = temp_dir("edited");
    let dir = top.path().to_path_buf();
    copy_submission(&workspace(), &dir);
    // A wrong Q6, and a grader "fixed" to give full marks.
    let wrong = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/q6_duplicate/exercises/q6_four_procs/src/main.rs");
    std::fs::copy(wrong, dir.join("exercises/q6_four_procs/src/main.rs")).unwrap();
    std::fs::create_dir_all(dir.join("grader/src/grading")).unwrap();
    std::fs::write(dir.join("grader/src/grading/score.rs"), "// every check passes\n").unwrap();
    std::fs::create_dir_all(dir.join(".config")).unwrap();
    std::fs::write(dir.join(".config/insta.yaml"), "behavior:\n  force_pass: true\n").unwrap();
    std::fs::write(dir.join("exercises/q6_four_procs/build.rs"), "fn main() {}\n").unwrap();

    let json = dir.join("results.json");
    grader().args(["grade", "--submission"]).arg(&dir).arg("--json").arg(&json).assert().code(1);
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(results["score"].as_u64().unwrap() < 100);
    let six_two = results["tests"].as_array().unwrap().iter().find(|t| t["number"] == "6.2").unwrap();
    assert_eq!(six_two["status"], "failed");
    let changed = &results["extra_data"]["changed_protected_paths"];
    for path in [".config/insta.yaml", "exercises/q6_four_procs/build.rs", "grader/src/grading/score.rs"] {
        assert!(changed.as_array().unwrap().iter().any(|p| p == path), "{path} not in {changed}");
    }
    // The submission itself is untouched.
    assert!(!dir.join("target").exists());
}

#[test]
fn batch_grades_a_class_with_broken_and_hanging_work() {
    let top = temp_dir("batch");
    let root = top.path().to_path_buf();
    let reference = workspace();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs = Vec::new();
    for i in 0..20 {
        let dir = root.join(format!("student{i:02}"));
        match i {
            // Not a submission at all.
            3 => std::fs::create_dir_all(&dir).unwrap(),
            // Does not compile (Q6), hangs (Q6), or has answers only.
            7 | 11 | 15 => {
                copy_submission(&reference, &dir);
                let fixture = match i {
                    7 => "q6_compile_error",
                    11 => "q6_hang",
                    _ => "answers_not_attempted",
                };
                copy_tree(&fixtures.join(fixture), &dir);
            }
            _ => copy_submission(&reference, &dir),
        }
        dirs.push(dir);
    }
    let out = root.join("out");
    let run = std::process::Command::new(common::GRADER)
        .arg("batch")
        .args(&dirs)
        .arg("--out")
        .arg(&out)
        .args(["--jobs", "2"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // One submission could not be graded: exit status 1, and said.
    assert_eq!(run.wait_with_output().unwrap().status.code(), Some(1));
    // Nothing it started is left running.
    common::assert_nothing_left_running(None);

    let csv = std::fs::read_to_string(out.join("gradebook.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "name",
            "q1",
            "q2",
            "q3",
            "q4",
            "q5",
            "q6",
            "total",
            "changed_protected_paths",
            "commit",
            "committed_at",
            "deadline",
            "after_deadline",
            "late_days",
            "penalty",
            "errors",
            "notes",
            "review"
        ]
    );
    assert_eq!(rows.len(), 21, "{csv}");
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(row[0], format!("student{i:02}"));
        if i == 3 {
            // Not graded: no points, not zeros.
            assert!(
                row[1..8].iter().all(|c| c.is_empty()) && row[15].contains("not a submission"),
                "{row:?}"
            );
            continue;
        }
        let total: u32 = row[7].parse().unwrap();
        match i {
            7 => assert_eq!((row[6], total), ("0", 80), "{row:?}"),
            11 => assert!(row[6].parse::<u32>().unwrap() < 20 && total < 100, "{row:?}"),
            15 => assert!(row[1] == "0" && row[4].parse::<u32>().unwrap() <= 2 && total < 100, "{row:?}"),
            _ => assert_eq!(total, 100, "{row:?}"),
        }
        assert!(out.join(row[0]).join("results.json").is_file());
    }
}

#[test]
fn a_roster_is_fetched_and_graded_at_the_deadline() {
    let top = temp_dir("roster");
    let root = top.path();
    let reference = workspace();
    // The assignment as students get it: their repositories start with it.
    let assignment = root.join("assignment");
    grader()
        .args(["release", "--no-git", "--repository", "teacher/multiprocessing"])
        .arg(&assignment)
        .assert()
        .success();
    let template = |dir: &Path, date: &str| {
        copy_submission(&assignment, dir);
        commit_all(dir, date, "Initial commit")
    };
    // alice: right before the deadline, wrong after; bob: right; dave: a
    // repository whose only commit is after it; erin: the assignment, then
    // all her work after the deadline; frank never pushed; carol's
    // repository does not exist.
    let alice = root.join("alice");
    template(&alice, "2026-11-10T09:00:00Z");
    copy_submission(&reference, &alice);
    let alice_right = commit_all(&alice, "2026-11-20T12:00:00Z", "done");
    let wrong = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/q6_duplicate");
    copy_tree(&wrong, &alice);
    let alice_late = commit_all(&alice, "2026-12-05T12:00:00Z", "a late change");
    let bob = root.join("bob");
    template(&bob, "2026-11-10T09:00:00Z");
    copy_submission(&reference, &bob);
    // 18:00 in New York is 23:00 UTC: before the deadline.
    let bob_right = commit_all(&bob, "2026-11-30T18:00:00-05:00", "done");
    let dave = root.join("dave");
    copy_submission(&reference, &dave);
    commit_all(&dave, "2026-12-10T12:00:00Z", "late");
    let erin = root.join("erin");
    let erin_template = template(&erin, "2026-11-10T09:00:00Z");
    copy_submission(&reference, &erin);
    commit_all(&erin, "2026-12-02T08:00:00Z", "done, a day late");
    commit_all(&erin, "2026-12-02T09:00:00Z", "and a fix");
    let frank = root.join("frank");
    let frank_template = template(&frank, "2026-11-10T09:00:00Z");
    // gina finished late, with an extension the roster records.
    let gina = root.join("gina");
    template(&gina, "2026-11-10T09:00:00Z");
    copy_submission(&reference, &gina);
    let gina_late = commit_all(&gina, "2026-12-02T10:00:00Z", "done, with an extension");
    // A roster as a spreadsheet saves it: a BOM, other column names, quotes,
    // an identifier for the learning platform, a student's own deadline.
    let roster = root.join("roster.csv");
    let line = |name: &str, dir: &Path| format!("\"{}\",{name},{name}@uni.edu,\n", dir.display());
    // eve's "repository" would run a command, were git's ext:: transport allowed.
    let pwned = root.join("pwned-by-ext");
    let text = format!(
        "\u{feff}URL,Name,Email,Deadline\n{}{}{}{}{}{}\"{}\",gina,gina@uni.edu,2026-12-03T12:00:00Z\next::sh -c touch% {},eve,,\n",
        line("alice", &alice),
        line("bob", &bob),
        line("carol", &root.join("nowhere")),
        line("dave", &dave),
        line("erin", &erin),
        line("frank", &frank),
        gina.display(),
        pwned.display()
    );
    std::fs::write(&roster, text).unwrap();
    let marks = root.join("marks");
    let batch = |extra: &[&str]| {
        let run = grader()
            .arg("batch")
            .arg("--roster")
            .arg(&roster)
            .arg("--out")
            .arg(&marks)
            .args(["--jobs", "2"])
            .args(extra)
            .output()
            .unwrap();
        let rows = gradebook_rows(&marks);
        let eve = rows.iter().find(|r| r["name"] == "eve").unwrap();
        assert!(eve["total"].is_empty() && !pwned.exists(), "a roster's URL ran a command");
        (run, rows)
    };
    let row = |rows: &[std::collections::HashMap<String, String>], name: &str| {
        rows.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("no {name}: {rows:?}")).clone()
    };

    // A day alone is no deadline: refused, saying what to write.
    let run = grader()
        .arg("batch")
        .arg("--roster")
        .arg(&roster)
        .arg("--out")
        .arg(root.join("never"))
        .args(["--before", "2026-12-01"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.code() == Some(2) && said.contains("2026-12-01T23:59:59Z"), "{said}");
    assert!(!root.join("never").exists());

    // At the deadline, given in another zone.
    let (run, rows) = batch(&["--before", "2026-12-01T18:59:59-05:00"]);
    let summary = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "carol, dave and eve could not be graded: {summary}");
    assert!(
        summary.contains("8 submissions at the deadline 2026-12-01T18:59:59-05:00 (2026-12-01T23:59:59Z): 5 graded, 3 could not be graded")
            && summary.contains("could not be graded (see the errors column): carol, dave, eve"),
        "{summary}"
    );
    let (a, b, c, d) = (row(&rows, "alice"), row(&rows, "bob"), row(&rows, "carol"), row(&rows, "dave"));
    assert_eq!((a["total"].as_str(), a["commit"].as_str()), ("100", alice_right.as_str()), "{a:?}");
    assert_eq!(
        (a["committed_at"].as_str(), a["deadline"].as_str(), a["after_deadline"].as_str()),
        ("2026-11-20T07:00:00-05:00", "2026-12-01T18:59:59-05:00", "1"),
        "{a:?}"
    );
    assert!(a["notes"].contains("1 commit after the deadline"), "{a:?}");
    assert_eq!((b["total"].as_str(), b["commit"].as_str()), ("100", bob_right.as_str()), "{b:?}");
    assert_eq!(b["committed_at"], "2026-11-30T18:00:00-05:00");
    assert_eq!((a["email"].as_str(), b["email"].as_str()), ("alice@uni.edu", "bob@uni.edu"));
    // An extension: gina's own deadline, and her work graded at it.
    let g = row(&rows, "gina");
    assert_eq!(
        (g["total"].as_str(), g["commit"].as_str(), g["deadline"].as_str()),
        ("100", gina_late.as_str(), "2026-12-03T12:00:00Z"),
        "{g:?}"
    );
    assert!(
        c["total"].is_empty() && c["errors"].contains("cloning") && c["errors"].contains("collaborator"),
        "{c:?}"
    );
    assert!(d["total"].is_empty() && d["errors"].contains("no commit at or before the deadline"), "{d:?}");
    assert!(!marks.join("carol/results.json").exists());
    // Missing and late no longer look the same.
    let (e, f) = (row(&rows, "erin"), row(&rows, "frank"));
    assert_eq!(
        (e["total"].as_str(), e["commit"].as_str(), e["after_deadline"].as_str()),
        ("0", erin_template.as_str(), "2"),
        "{e:?}"
    );
    assert!(
        e["notes"].contains("no work of the student's own by the deadline")
            && e["notes"].contains("2 commits after the deadline"),
        "{e:?}"
    );
    assert_eq!(
        (f["total"].as_str(), f["commit"].as_str(), f["after_deadline"].as_str()),
        ("0", frank_template.as_str(), "0"),
        "{f:?}"
    );
    assert!(
        f["notes"].contains("no work of the student's own") && !f["notes"].contains("after the deadline"),
        "{f:?}"
    );
    assert!(!e["notes"].is_empty() && a["notes"] != e["notes"]);
    // The student is told what was graded, and why it is 0.
    let results = std::fs::read_to_string(marks.join("erin/results.json")).unwrap();
    assert!(
        results.contains(&format!("Graded: commit {}", &erin_template[..12]))
            && results.contains("2 commits after the deadline"),
        "{results}"
    );

    // One student again, without a deadline: the others' rows are kept.
    let before = rows.clone();
    let (run, rows) = batch(&["--only", "Alice"]);
    let summary = String::from_utf8_lossy(&run.stdout);
    assert!(
        summary.contains("1 submission (of 8 in the gradebook): 1 graded")
            && summary.contains("rows kept from before, with errors: carol, dave, eve"),
        "{summary}"
    );
    assert_eq!(run.status.code(), Some(0), "alice was graded: the kept rows' errors are not this run's");
    let a = row(&rows, "alice");
    let order = |rows: &[std::collections::HashMap<String, String>]| {
        rows.iter().map(|r| r["name"].clone()).collect::<Vec<_>>()
    };
    assert_eq!(order(&rows), order(&before), "the rows keep their order");
    assert_eq!(a["commit"], alice_late, "{a:?}");
    assert!(a["q6"].parse::<u32>().unwrap() < 20, "the late Q6 is wrong: {a:?}");
    assert_eq!(rows.len(), before.len());
    for name in ["bob", "erin", "frank", "carol"] {
        assert_eq!(row(&rows, name), row(&before, name), "{name}'s row changed");
    }
    // A name not in the batch is refused, and nothing is written.
    let (run, rows) = batch(&["--only", "zoe"]);
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.code() == Some(2)
            && said.contains("\"zoe\" not in the roster")
            && said.contains("alice, bob"),
        "{said}"
    );
    assert_eq!(rows, gradebook_rows(&marks));

    // A cached clone graded on its own at the deadline: the commit of the
    // batch, and the clone is left as it was.
    let cached = marks.join(".repositories/alice");
    let head = git(&cached, &["rev-parse", "HEAD"]);
    let json = root.join("alice-at-deadline.json");
    grader()
        .args(["grade", "--submission"])
        .arg(&cached)
        .args(["--before", "2026-12-01T23:59:59Z", "--json"])
        .arg(&json)
        .assert()
        .code(0)
        .stderr(predicates::str::contains(&alice_right[..12]));
    assert_eq!(git(&cached, &["rev-parse", "HEAD"]), head);
    assert_eq!(git(&cached, &["status", "--porcelain"]), "");
}

#[test]
fn renamed_work_is_named_as_the_likely_cause() {
    let top = temp_dir("renamed");
    let dir = top.path().join("student");
    copy_submission(&workspace(), &dir);
    std::fs::rename(dir.join("answers/q4.md"), dir.join("answers/Q4.md")).unwrap();
    std::fs::rename(dir.join("exercises/q6_four_procs"), dir.join("exercises/q6")).unwrap();
    let json = top.path().join("results.json");
    grader().args(["grade", "--submission"]).arg(&dir).arg("--json").arg(&json).assert().code(1);
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let output = |number: &str| {
        let test = results["tests"].as_array().unwrap().iter().find(|t| t["number"] == number).unwrap();
        test["output"].as_str().unwrap().to_string()
    };
    let q4 = output("4.1");
    assert!(
        q4.contains("answers/q4.md is missing: found `answers/Q4.md`: the grader reads `answers/q4.md`"),
        "{q4}"
    );
    let q6 = output("6.1");
    assert!(q6.contains("found `exercises/q6`: the grader reads `exercises/q6_four_procs`"), "{q6}");
    // The rest is graded as ever: one missing package costs its own question.
    for number in ["1.1", "3.1", "5.1"] {
        let test = results["tests"].as_array().unwrap().iter().find(|t| t["number"] == number).unwrap();
        assert_eq!(test["status"], "passed", "{test}");
    }
}

#[test]
fn a_private_written_rubric_leaves_the_rules_out_and_marks_are_provisional() {
    let top = temp_dir("private");
    let out = top.path().join("assignment");
    grader()
        .args([
            "release",
            "--no-git",
            "--written-rubric",
            "private",
            "--repository",
            "teacher/multiprocessing",
        ])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicates::str::contains("provisional"));
    let rubric = std::fs::read_to_string(out.join("grader/src/checks/written/answers.toml")).unwrap();
    let ours = std::fs::read_to_string(workspace().join("grader/src/checks/written/answers.toml")).unwrap();
    // Not one pattern of the marker's rules; every concept, hint and nudge.
    for line in ours.lines().filter(|l| l.trim_start().starts_with('"') && l.contains(" & ")) {
        assert!(!rubric.contains(line.trim()), "a rule is in the release: {line}");
    }
    assert!(rubric.contains("rules = \"private\"") && rubric.matches("nudge = ").count() >= 20);
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(readme.contains("provisional") && !readme.contains("{written}"), "{readme}");

    // The reference's answer, graded by the release's own grader: its
    // concepts are said to be provisional, and the checks pass.
    copy_tree(&workspace().join("answers"), &out.join("answers"));
    let run = cargo_in(&out, &["run", "-p", "grader", "--quiet", "--", "q1"]);
    let scorecard = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{scorecard}{}", String::from_utf8_lossy(&run.stderr));
    assert!(
        scorecard.contains("1.2") && scorecard.contains("provisional: this copy of the grader"),
        "{scorecard}"
    );
    // The students' own `cargo test -p grader` passes there too: the
    // grader's tests of the rules it does not carry say so and stand down.
    let tests = cargo_in(&out, &["test", "-p", "grader", "--lib", "--quiet", "--", "written"]);
    let said =
        format!("{}{}", String::from_utf8_lossy(&tests.stdout), String::from_utf8_lossy(&tests.stderr));
    assert_eq!(tests.status.code(), Some(0), "{said}");
    assert!(said.contains("test result: ok"), "{said}");
    // A public release says nothing of the kind.
    let public = top.path().join("public");
    grader()
        .args(["release", "--no-git", "--repository", "teacher/multiprocessing"])
        .arg(&public)
        .assert()
        .success();
    let readme = std::fs::read_to_string(public.join("README.md")).unwrap();
    assert!(!readme.contains("provisional") && !readme.contains("{written}"));
}
