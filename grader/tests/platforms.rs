//! Where marks live: late work under a course's policy, the gradebooks of
//! learning platforms (Canvas, Moodle) with feedback for each student, and
//! Gradescope's autograder.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{commit_all, copy_submission, copy_tree, gradebook_rows};
use grader::engine::workspace::home as workspace;
use serde_json::Value;

type Rows = Vec<HashMap<String, String>>;

fn row<'a>(rows: &'a Rows, name: &str) -> &'a HashMap<String, String> {
    rows.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("no {name}: {rows:?}"))
}

/// The sum of a row's points, Q1 to Q6.
fn points(row: &HashMap<String, String>) -> u32 {
    (1..=6).map(|q| row[&format!("q{q}")].parse::<u32>().unwrap()).sum()
}

fn results(out: &Path, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(out.join(name).join("results.json")).unwrap()).unwrap()
}

/// A class with dated commits around a deadline of 2026-12-01T23:59:59Z,
/// graded with "10%/day, 3 days": on time; a day and a half late (two days
/// begun); late once within the limit and again past it (the first is
/// graded); only past the limit.
#[test]
fn late_work_is_graded_at_the_policys_limit_and_pays_for_each_day_begun() {
    let top = tempfile::Builder::new().prefix("grader-test-late-").tempdir().unwrap();
    let root = top.path();
    let reference = workspace();
    let wrong_q6 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/q6_duplicate");
    let student = |name: &str| {
        let dir = root.join(name);
        copy_submission(&reference, &dir);
        dir
    };
    let on_time = student("ontime");
    commit_all(&on_time, "2026-12-01T20:00:00Z", "done");
    let late = student("late");
    let late_commit = commit_all(&late, "2026-12-03T11:59:59Z", "a day and a half late");
    let twice = student("twice");
    copy_tree(&wrong_q6, &twice);
    let twice_graded = commit_all(&twice, "2026-12-02T08:00:00Z", "a day late, Q6 wrong");
    copy_submission(&reference, &twice);
    commit_all(&twice, "2026-12-05T08:00:00Z", "Q6 right, past the limit");
    let past = student("past");
    commit_all(&past, "2026-12-06T00:00:00Z", "past the limit");
    let roster = root.join("roster.csv");
    let lines: String = ["ontime", "late", "twice", "past"]
        .iter()
        .map(|n| format!("{n},{}\n", root.join(n).display()))
        .collect();
    std::fs::write(&roster, format!("student,repository\n{lines}")).unwrap();
    let out = root.join("marks");
    let run = common::grader(600)
        .arg("batch")
        .arg("--roster")
        .arg(&roster)
        .arg("--out")
        .arg(&out)
        .args(["--before", "2026-12-01T23:59:59Z", "--late", "10%/day, 3 days"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(said.contains("each repository's last commit up to 2026-12-04T23:59:59Z is graded"), "{said}");
    let rows = gradebook_rows(&out);

    let on_time = row(&rows, "ontime");
    assert_eq!(
        (on_time["total"].as_str(), on_time["late_days"].as_str(), on_time["penalty"].as_str()),
        ("100", "0", "0")
    );
    assert!(!on_time["notes"].contains("late"), "{on_time:?}");
    assert!(!results(&out, "ontime").to_string().contains("Late"), "nothing said of lateness when on time");

    let late = row(&rows, "late");
    assert_eq!(late["commit"], late_commit);
    assert_eq!(
        (late["late_days"].as_str(), late["penalty"].as_str(), late["total"].as_str()),
        ("2", "20", "80")
    );
    assert!(
        late["notes"].contains("submitted late: 2 days begun after the deadline, so 20% (20 points) taken"),
        "{late:?}"
    );
    let card = results(&out, "late");
    assert_eq!(card["score"], 80, "{card}");
    let entry =
        card["tests"].as_array().unwrap().iter().find(|t| t["number"] == "late").expect("a late entry");
    assert!(entry["output"].as_str().unwrap().contains("10% per day begun after the deadline"), "{entry}");
    assert!(card["output"].as_str().unwrap().contains("20 points taken for lateness"), "{card}");

    // Its commit a day late is graded, with Q6 wrong; the one past the limit is not.
    let twice = row(&rows, "twice");
    assert_eq!(twice["commit"], twice_graded);
    let sum = points(twice);
    assert!(sum < 100, "{twice:?}");
    let penalty = (sum * 10 + 50) / 100;
    assert_eq!(
        (twice["late_days"].as_str(), twice["penalty"].clone(), twice["total"].clone()),
        ("1", penalty.to_string(), (sum - penalty).to_string())
    );
    assert!(
        twice["notes"].contains("1 commit after the last day late work is accepted, not graded"),
        "{twice:?}"
    );

    let past = row(&rows, "past");
    assert!(past["total"].is_empty() && past["errors"].contains("no commit at or before"), "{past:?}");
    assert_eq!(run.status.code(), Some(1), "a student could not be graded: {said}");
}
