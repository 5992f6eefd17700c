//! Grading students' forks: the student release, `--submission` against an
//! edited grader, and `batch` over a class with broken and hanging work.
//! (This file and the fixtures stay out of the release.)

mod common;

use common::{copy_submission, copy_tree};

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use grader::workspace::home as workspace;
use serde_json::Value;

fn grader() -> Command {
    let mut cmd = Command::new(common::GRADER);
    cmd.timeout(std::time::Duration::from_secs(300));
    cmd
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

#[test]
fn release_has_no_solution_and_scores_zero_with_what_to_do() {
    let top = temp_dir("release");
    let out = top.path().join("student");
    grader()
        .args(["release", "--repository", "teacher/multiprocessing", "--allow-dirty"])
        .arg(&out)
        .assert()
        .success();

    // None of the solution code, and none of the fixtures.
    let solutions = solution_lines();
    assert!(solutions.len() > 50, "the reference has solution regions");
    let answers: Vec<String> = ["q1", "q2", "q4"]
        .iter()
        .flat_map(|q| {
            let text = std::fs::read_to_string(workspace().join(format!("answers/{q}.md"))).unwrap();
            text.lines()
                .filter(|l| l.len() >= 60 && !l.starts_with('#'))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    for file in all_files(&out) {
        let name = file.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
        assert!(!name.starts_with("grader/tests/fixtures"), "{name} is in the release");
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if !name.starts_with("exercises/") {
            // The grader names the markers; only the exercises may not hold them.
        } else if text.contains("BEGIN SOLUTION") {
            panic!("{name} still has a solution marker");
        } else if let Some(line) = solutions.iter().find(|l| text.contains(l.as_str())) {
            panic!("{name} holds solution code: {line}");
        }
        if let Some(line) = answers.iter().find(|l| text.contains(l.as_str())) {
            panic!("{name} holds a written answer: {line}");
        }
    }
    // A fresh history: one commit.
    let log = std::process::Command::new("git")
        .args(["rev-list", "--count", "HEAD"])
        .current_dir(&out)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&log.stdout).trim(), "1");
    // Pinned to this commit of this template.
    let workflow = std::fs::read_to_string(out.join(".github/workflows/grade.yml")).unwrap();
    assert!(workflow.contains("TEMPLATE_REPOSITORY: \"teacher/multiprocessing\""));
    assert!(!workflow.contains("TEMPLATE_REF: \"\""));

    // It builds, and scores 0 with every message saying what to do.
    let json = out.parent().unwrap().join("results.json");
    grader().args(["grade", "--submission"]).arg(&out).arg("--json").arg(&json).assert().code(1);
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(results["score"], 0);
    for test in results["tests"].as_array().unwrap() {
        assert!(test["output"].as_str().unwrap().contains("not attempted yet"), "{test}");
    }
    assert_eq!(results["extra_data"]["changed_protected_paths"], serde_json::json!([]));
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
    std::fs::create_dir_all(dir.join("grader/src")).unwrap();
    std::fs::write(dir.join("grader/src/score.rs"), "// every check passes\n").unwrap();
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
    for path in [".config/insta.yaml", "exercises/q6_four_procs/build.rs", "grader/src/score.rs"] {
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
    assert!(run.wait_with_output().unwrap().status.success());
    // Nothing it started is left running.
    common::assert_nothing_left_running(None);

    let csv = std::fs::read_to_string(out.join("gradebook.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        ["name", "q1", "q2", "q3", "q4", "q5", "q6", "total", "changed_protected_paths", "errors"]
    );
    assert_eq!(rows.len(), 21, "{csv}");
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(row[0], format!("student{i:02}"));
        let total: u32 = row[7].parse().unwrap();
        match i {
            3 => assert!(total == 0 && row[9].contains("not a submission"), "{row:?}"),
            7 => assert_eq!((row[6], total), ("0", 80), "{row:?}"),
            11 => assert!(row[6].parse::<u32>().unwrap() < 20 && total < 100, "{row:?}"),
            15 => assert!(row[1] == "0" && row[4] == "0" && total < 100, "{row:?}"),
            _ => assert_eq!(total, 100, "{row:?}"),
        }
        if i != 3 {
            assert!(out.join(row[0]).join("results.json").is_file());
        }
    }
}
