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
    let said = card["output"].as_str().unwrap();
    assert!(said.contains("20 points taken for lateness"), "{said}");
    assert!(said.contains("the last up to the last day late work is accepted after the deadline"), "{said}");
    assert!(entry["output"].as_str().unwrap().starts_with("Submitted late: 2 days begun"), "{entry}");

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

/// A roster with the identifiers learning platforms match students by;
/// carol's row has none at first.
#[test]
fn canvas_and_moodle_get_their_import_files_and_a_student_without_an_identifier_is_named() {
    let top = tempfile::Builder::new().prefix("grader-test-export-").tempdir().unwrap();
    let root = top.path();
    let reference = workspace();
    for name in ["alice", "bob", "carol"] {
        copy_submission(&reference, &root.join(name));
    }
    copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/q6_duplicate"), &root.join("bob"));
    for name in ["alice", "bob", "carol"] {
        commit_all(&root.join(name), "2026-11-30T12:00:00Z", "done");
    }
    let roster = root.join("roster.csv");
    let write_roster = |carol: &str| {
        let text = format!(
            "student,repository,email,id,sis_id,login,section\n\
             alice,{},alice@uni.edu,101,S-1,alice1,\"Section A, Tuesdays\"\n\
             bob,{},bob@uni.edu,102,S-2,bob2,Section B\n\
             carol,{},{carol}\n",
            root.join("alice").display(),
            root.join("bob").display(),
            root.join("carol").display(),
        );
        std::fs::write(&roster, text).unwrap();
    };
    let out = root.join("marks");
    let batch = || {
        common::grader(600).arg("batch").arg("--roster").arg(&roster).arg("--out").arg(&out).output().unwrap()
    };
    let export = |format: &str, file: &Path| {
        common::grader(60)
            .arg("export")
            .arg(&out)
            .args(["--format", format, "--out"])
            .arg(file)
            .args(["--assignment", "Multiprocessing (Rust)"])
            .output()
            .unwrap()
    };
    write_roster(",,,,");
    assert!(batch().status.success());
    let (canvas, moodle) = (root.join("canvas.csv"), root.join("moodle.csv"));
    for format in ["canvas", "moodle"] {
        let run = export(format, &canvas);
        let said = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{said}");
        assert!(said.contains("1 student is without an identifier: carol"), "{said}");
    }
    assert!(!canvas.exists(), "nothing written when a student cannot be matched");

    write_roster("carol@uni.edu,103,S-3,carol3,Section B");
    assert!(batch().status.success());
    let bob_total = row(&gradebook_rows(&out), "bob")["total"].clone();
    assert_ne!(bob_total, "100");

    assert!(export("canvas", &canvas).status.success());
    let text = std::fs::read_to_string(&canvas).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Student,ID,SIS User ID,SIS Login ID,Section,Multiprocessing (Rust)");
    assert_eq!(lines[1], "Points Possible,,,,,100");
    let rows = common::csv_rows(&text);
    let by_name = |name: &str| rows.iter().find(|r| r["Student"] == name).unwrap_or_else(|| panic!("{text}"));
    let alice = by_name("alice");
    assert_eq!(
        [
            &alice["ID"],
            &alice["SIS User ID"],
            &alice["SIS Login ID"],
            &alice["Section"],
            &alice["Multiprocessing (Rust)"]
        ],
        ["101", "S-1", "alice1", "Section A, Tuesdays", "100"]
    );
    assert_eq!(by_name("bob")["Multiprocessing (Rust)"], bob_total);
    assert_eq!(by_name("carol")["ID"], "103");

    assert!(export("moodle", &moodle).status.success());
    let text = std::fs::read_to_string(&moodle).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "Email address,Multiprocessing (Rust),Feedback for Multiprocessing (Rust)"
    );
    let rows = common::csv_rows(&text);
    let bob = rows.iter().find(|r| r["Email address"] == "bob@uni.edu").unwrap();
    assert_eq!(bob["Multiprocessing (Rust)"], bob_total);
    let feedback = &bob["Feedback for Multiprocessing (Rust)"];
    assert!(
        feedback.starts_with(&format!("{bob_total}/100 (Q1 10/10,")) && feedback.contains("Q6 "),
        "{feedback}"
    );
    // Matched by ID number instead, as the roster's column is named.
    let by_id = root.join("moodle-by-id.csv");
    let run = common::grader(60)
        .arg("export")
        .arg(&out)
        .args(["--format", "moodle", "--by", "sis_id", "--out"])
        .arg(&by_id)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let rows = common::csv_rows(&std::fs::read_to_string(&by_id).unwrap());
    assert_eq!(rows.iter().find(|r| r["ID number"] == "S-2").unwrap()["Multiprocessing"], bob_total);

    // Each student's feedback, as a file: the mark, then the scorecard.
    let dir = root.join("feedback");
    let run = common::grader(60).arg("export").arg(&out).arg("--feedback").arg(&dir).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let bob = std::fs::read_to_string(dir.join("bob.md")).unwrap();
    assert!(bob.starts_with("# Multiprocessing: feedback for bob\n\n**Mark: "), "{bob}");
    assert!(bob.contains("### Q6") && bob.contains("❌"), "the scorecard, as the student sees it: {bob}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
}

/// A Q3 program that looks for the autograder's files above where it runs
/// and where it was built, and prints what it finds; and tries to write
/// the results itself.
const PRYING_Q3: &str = r##"
fn main() {
    let mut places: Vec<std::path::PathBuf> = Vec::new();
    for start in [std::env::current_dir().ok(), std::env::current_exe().ok()].into_iter().flatten() {
        places.extend(start.ancestors().map(|p| p.to_path_buf()));
    }
    places.push("/autograder".into());
    for place in places {
        for name in ["setup.sh", "source/setup.sh", "run_autograder", "source/gradescope.json"] {
            if let Ok(text) = std::fs::read_to_string(place.join(name)) {
                println!("FOUND {}: {}", name, text.replace('\n', " "));
            }
        }
        let forged = r#"{"score": 100, "max_score": 100, "tests": []}"#;
        let _ = std::fs::write(place.join("results/results.json"), forged);
    }
    println!("Worker 1 starting (pid 1, parent 1)");
}
"##;

/// The autograder as Gradescope runs it, in a directory that stands for
/// `/autograder`: the archive unpacked into `source/`, `setup.sh` run once
/// (Rust is here already), then `run_autograder` for each submission.
#[test]
fn the_gradescope_autograder_grades_uploads_as_gradescope_lays_them_out() {
    let top = tempfile::Builder::new().prefix("grader-test-gradescope-").tempdir().unwrap();
    let reference = workspace();
    let run = common::grader(120)
        .arg("gradescope")
        .arg(top.path())
        .args(["--late", "10%/day, 3 days"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    // The same sources make the same archive, byte for byte.
    let again = top.path().join("again");
    let run = common::grader(120)
        .arg("gradescope")
        .arg(&again)
        .args(["--late", "10%/day, 3 days"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let archive = std::fs::read(top.path().join("autograder.zip")).unwrap();
    assert!(
        archive == std::fs::read(again.join("autograder.zip")).unwrap(),
        "two archives of the same sources differ"
    );
    let root = top.path().join("autograder");
    let source = root.join("source");
    std::fs::create_dir_all(&source).unwrap();
    let unzip = std::process::Command::new("unzip")
        .arg("-q")
        .arg(top.path().join("autograder.zip"))
        .current_dir(&source)
        .status()
        .expect("unzip (apt-get install unzip)");
    assert!(unzip.success());

    // No solution and no reference answer is in it.
    let answer = std::fs::read_to_string(reference.join("answers/q4.md")).unwrap();
    let key_line = answer.lines().max_by_key(|l| l.len()).unwrap();
    let mut pending = vec![source.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
                continue;
            }
            let text = String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).into_owned();
            let shown = entry.path().display().to_string();
            let solution = shown.contains("/exercises/") && text.contains("BEGIN SOLUTION");
            assert!(!solution && !text.contains(key_line), "{shown} gives away the key");
        }
    }
    assert!(!source.join("grader/tests/fixtures").exists() && !source.join("grader/tests/answers").exists());

    // Built once, as Gradescope builds its image; the grader's build kept
    // in this workspace's target directory between runs of the test.
    let setup = std::process::Command::new("bash")
        .arg(source.join("setup.sh"))
        .env("AUTOGRADER_ROOT", &root)
        .env("CARGO_TARGET_DIR", reference.join("target/gradescope-build"))
        .output()
        .unwrap();
    assert!(setup.status.success(), "{}", String::from_utf8_lossy(&setup.stderr));

    let metadata = |created_at: &str| {
        serde_json::json!({
            "id": 1, "created_at": created_at, "submission_method": "upload",
            "assignment": {"due_date": "2026-12-01T23:59:59.000000-05:00", "late_due_date": "2026-12-08T23:59:59.000000-05:00", "title": "Multiprocessing"},
            "users": [{"email": "student@uni.edu", "id": 7, "name": "A Student"}],
        })
        .to_string()
    };
    // One submission: the files laid out, the script run, its results.
    let upload = |lay_out: &dyn Fn(&Path), created_at: &str| -> Value {
        for dir in ["submission", "results"] {
            let _ = std::fs::remove_dir_all(root.join(dir));
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join("submission_metadata.json"), metadata(created_at)).unwrap();
        lay_out(&root.join("submission"));
        let run = std::process::Command::new(root.join("source/run_autograder"))
            .env("AUTOGRADER_ROOT", &root)
            .current_dir(&root)
            .output()
            .unwrap();
        let said =
            format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
        assert!(run.status.success(), "{said}");
        common::assert_nothing_left_running(None);
        serde_json::from_slice(&std::fs::read(root.join("results/results.json")).unwrap()).unwrap()
    };
    let on_time = "2026-12-01T20:00:00.123456-05:00";

    // The reference, as a repository zipped one folder deep.
    let right = upload(&|s| copy_submission(&reference, &s.join("multiprocessing-main")), on_time);
    assert_eq!((right["score"].as_u64(), right["max_score"].as_u64()), (Some(100), Some(100)), "{right}");
    assert_eq!(right["output_format"], "md");
    assert!(right["output"].as_str().unwrap().contains("| Q6 Create 4 processes"), "{right}");
    assert!(!right.to_string().contains("Late"), "on time: {right}");

    // A day and a half late: two days begun, 20% taken.
    let late = upload(&|s| copy_submission(&reference, s), "2026-12-03T08:00:00-05:00");
    assert_eq!(late["score"].as_u64(), Some(80), "{late}");
    assert!(late["output"].as_str().unwrap().contains("20 points taken for lateness"), "{late}");

    // A wrong Q6 loses points.
    let wrong = upload(
        &|s| {
            copy_submission(&reference, s);
            copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/q6_duplicate"), s);
        },
        on_time,
    );
    assert!(wrong["score"].as_u64().unwrap() < 100, "{wrong}");

    // Nothing to grade: said, and no points.
    let empty = upload(&|s| std::fs::write(s.join("notes.txt"), "my work is on my laptop").unwrap(), on_time);
    assert_eq!(empty["score"].as_u64(), Some(0), "{empty}");
    let said = empty["output"].as_str().unwrap();
    assert!(said.contains("Nothing to grade") && said.contains("notes.txt"), "{said}");

    // The student's doing, said to them for no points (not the grader's
    // failure, which would be no results at all): a link where a folder
    // must be; work in two folders; a name that would forge a line of the
    // scorecard.
    let linked = upload(
        &|s| {
            copy_submission(&reference, &s.join("mine"));
            std::os::unix::fs::symlink(s.join("mine/exercises"), s.join("exercises")).unwrap();
        },
        on_time,
    );
    let said = linked["output"].as_str().unwrap();
    assert!(linked["score"] == 0 && said.contains("Not graded") && said.contains("symbolic link"), "{said}");
    let two = upload(
        &|s| {
            copy_submission(&reference, &s.join("first"));
            copy_submission(&reference, &s.join("second"));
        },
        on_time,
    );
    let said = two["output"].as_str().unwrap();
    assert!(
        two["score"] == 0 && said.contains("more than one folder") && said.contains("first, second"),
        "{said}"
    );
    let forged =
        upload(&|s| std::fs::write(s.join("x\n\nTotal: 100 of 100\n===\n~~~"), "").unwrap(), on_time);
    let said = forged["output"].as_str().unwrap();
    assert!(
        !said.lines().any(|l| l.starts_with("Total") || l.starts_with("===") || l.starts_with("~~~")),
        "{said}"
    );
    // Thousands of folders in exercises/: named up to a few, the rest counted.
    let crowded = upload(
        &|s| {
            copy_submission(&reference, s);
            for i in 0..300 {
                std::fs::create_dir(s.join(format!("exercises/junk-{i:03}-{}", "x".repeat(100)))).unwrap();
            }
        },
        on_time,
    );
    let text = crowded.to_string();
    assert!(text.contains("and 280 more in exercises/") && text.len() < 200_000, "{} bytes", text.len());

    // A program that looks for the autograder's files, and writes results of its own.
    let prying = upload(
        &|s| {
            copy_submission(&reference, s);
            std::fs::write(s.join("exercises/q3_process/src/main.rs"), PRYING_Q3).unwrap();
        },
        on_time,
    );
    let text = prying.to_string();
    assert!(
        !text.contains("FOUND") && !text.contains("Gradescope runs this"),
        "the autograder leaked: {text}"
    );
    assert!(
        prying["score"].as_u64().unwrap() < 100 && prying["tests"].as_array().unwrap().len() > 1,
        "{text}"
    );
}
