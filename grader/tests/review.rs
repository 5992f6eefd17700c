//! The instructor's review of flagged written answers: a batch flags them,
//! `grader review` sets their marks, and a later batch keeps those marks for
//! as long as the answers are unchanged.

mod common;

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn grader() -> Command {
    common::grader(600)
}

/// Reviews the batch in `out` with `input` typed, and asserts it said each
/// of `said`.
fn review_says(out: &Path, input: &str, said: &[&str]) {
    let output =
        grader().arg("review").arg(out).write_stdin(input).assert().success().get_output().stdout.clone();
    let output = String::from_utf8_lossy(&output);
    for part in said {
        assert!(output.contains(part), "review did not say {part:?}:\n{output}");
    }
}

/// A submission of answers only (its programs are missing: they fail
/// quickly, and do not matter here).
fn answers(dir: &Path, q1: &str, q2: &str, q4: &str) {
    std::fs::create_dir_all(dir.join("answers")).unwrap();
    for (file, text) in [("q1.md", q1), ("q2.md", q2), ("q4.md", q4)] {
        std::fs::write(dir.join("answers").join(file), text).unwrap();
    }
}

fn reference(q: &str) -> String {
    std::fs::read_to_string(grader::engine::workspace::home().join("answers").join(q)).unwrap()
}

const KEYWORDS_Q1: &str = "# Q1\n\n- processes\n- cores\n- parallel\n- speed\n- isolation\n- overhead\n";
const KEYWORDS_Q1_AGAIN: &str =
    "# Q1\n\n- processes\n- many cores\n- parallel\n- faster\n- isolation\n- costs\n";
const FOX_Q2: &str = "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. \
    The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.\n\n- threads\n- processes\n- memory\n- GIL\n- IPC\n";
const OWN_Q4: &str = "A pool is a fixed set of worker processes that the program starts once and reuses for every task. \
    Tasks go to the workers through a queue, and the results are collected back in order. It saves the cost of \
    starting a process for each task, and it keeps the number of workers at about the number of cores; whichever \
    worker is idle takes the next task.\n";

/// The gradebook's rows as maps from column to cell.
fn gradebook(out: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let csv = std::fs::read_to_string(out.join("gradebook.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|line| {
            // The review cell is last, and may be quoted with commas inside.
            let cells: Vec<&str> = line.splitn(header.len(), ',').collect();
            header.iter().cloned().zip(cells.iter().map(|c| c.trim_matches('"').to_string())).collect()
        })
        .collect()
}

fn row<'a>(
    rows: &'a [std::collections::HashMap<String, String>],
    name: &str,
) -> &'a std::collections::HashMap<String, String> {
    rows.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("no row for {name}"))
}

fn batch(dirs: &[&Path], out: &Path) {
    grader().arg("batch").args(dirs).arg("--out").arg(out).assert().success();
}

#[test]
fn a_review_sets_marks_that_later_batches_keep_while_the_answer_is_unchanged() {
    let top = tempfile::Builder::new().prefix("grader-review-").tempdir().unwrap();
    let (alice, bob, carol, out) = (
        top.path().join("alice"),
        top.path().join("bob"),
        top.path().join("carol"),
        top.path().join("marks"),
    );
    answers(&alice, KEYWORDS_Q1, &reference("q2.md"), OWN_Q4);
    answers(&bob, &reference("q1.md"), FOX_Q2, &reference("q4.md"));
    answers(
        &carol,
        &reference("q1.md"),
        &reference("q2.md"),
        OWN_Q4.replace("A pool", "Such a pool").as_str(),
    );
    let dirs = [alice.as_path(), bob.as_path(), carol.as_path()];

    // The batch flags the gamed answers, low, and the copies.
    batch(&dirs, &out);
    let rows = gradebook(&out);
    let (a, b) = (row(&rows, "alice"), row(&rows, "bob"));
    assert!(
        a["q1"].parse::<u32>().unwrap() <= 3 && a["review"].contains("q1 needs review: a list of keywords"),
        "{a:?}"
    );
    assert!(b["q2"].parse::<u32>().unwrap() <= 3 && b["review"].contains("q2 needs review"), "{b:?}");
    assert!(
        row(&rows, "carol")["review"].contains("copied? most of it is also in the answer of"),
        "{rows:?}"
    );
    let flagged = std::fs::read_to_string(out.join("flagged.json")).unwrap();
    assert!(flagged.contains("\"name\": \"alice\"") && flagged.contains("- processes"), "{flagged}");
    // results.json says so too, but never names another student: a copy
    // is the instructor's to judge.
    let results = std::fs::read_to_string(out.join("alice/results.json")).unwrap();
    assert!(results.contains("needs review") && results.contains("\"needs_review\""), "{results}");
    let carol = std::fs::read_to_string(out.join("carol/results.json")).unwrap();
    assert!(!carol.contains("copied?") && !carol.contains("alice"), "{carol}");
    let automatic_q1: u32 = a["q1"].parse().unwrap();

    // The instructor sets two marks, with a reason.
    grader()
        .args(["review"])
        .arg(&out)
        .args([
            "--set",
            "alice:q1=6",
            "--set",
            "bob:q2=4",
            "--reason",
            "keywords, but the right ones",
            "--by",
            "ta-sam",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 decided now"));
    let decided = |out: &Path| {
        let rows = gradebook(out);
        let (a, b) = (row(&rows, "alice"), row(&rows, "bob"));
        assert_eq!((a["q1"].as_str(), b["q2"].as_str()), ("6", "4"), "{rows:?}");
        assert!(
            a["review"].contains(&format!("q1 reviewed: set to 6 (automatic {automatic_q1}) by ta-sam"))
                && a["review"].contains("keywords, but the right ones"),
            "{a:?}"
        );
        let a_total: u32 = a["total"].parse().unwrap();
        let parts: u32 =
            ["q1", "q2", "q3", "q4", "q5", "q6"].iter().map(|q| a[*q].parse::<u32>().unwrap()).sum();
        assert_eq!(a_total, parts);
        // The same mark in gradebook.json and in results.json, with the decision.
        let book: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("gradebook.json")).unwrap()).unwrap();
        let alice = book["rows"].as_array().unwrap().iter().find(|r| r["name"] == "alice").unwrap();
        assert_eq!(
            (alice["points"][0].as_u64(), alice["automatic"][0].as_u64()),
            (Some(6), Some(automatic_q1.into()))
        );
        assert_eq!(alice["total"].as_u64(), Some(a_total.into()));
        assert_eq!(alice["reviewed"][0]["by"], "ta-sam");
        let results: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("alice/results.json")).unwrap()).unwrap();
        assert_eq!(results["score"].as_f64(), Some(f64::from(a_total)), "{results}");
        let entry = results["tests"].as_array().unwrap().iter().find(|t| t["number"] == "1.review").unwrap();
        let said = entry["output"].as_str().unwrap();
        assert!(
            said.contains("set to 6") && said.contains("by ta-sam") && said.contains("the right ones"),
            "{said}"
        );
        assert_eq!(results["extra_data"]["reviewed"][0]["automatic"].as_u64(), Some(automatic_q1.into()));
    };
    decided(&out);

    // A second batch keeps them, in every output.
    batch(&dirs, &out);
    decided(&out);

    // A changed answer is marked afresh, flagged again, and reviewed on its own.
    answers(&alice, KEYWORDS_Q1_AGAIN, &reference("q2.md"), OWN_Q4);
    batch(&dirs, &out);
    let rows = gradebook(&out);
    let a = row(&rows, "alice");
    assert!(a["q1"] != "6" && a["review"].contains("changed since it was reviewed"), "{a:?}");
    review_says(
        &out,
        "7\nthe keywords are right, written as a list\n",
        &["alice, Q1: automatic mark", "- many cores", "why the mark of alice?"],
    );
    let a = row(&gradebook(&out), "alice").clone();
    assert_eq!(a["q1"], "7");
    assert!(
        a["review"].contains("written as a list") && !a["review"].contains("keywords, but the right ones"),
        "{a:?}"
    );
    // Bob's decision still holds: it was made on the answer he still has.
    assert_eq!(row(&gradebook(&out), "bob")["q2"], "4");
}

#[test]
fn review_refuses_what_it_cannot_do() {
    let top = tempfile::Builder::new().prefix("grader-review-").tempdir().unwrap();
    // No batch yet.
    grader()
        .arg("review")
        .arg(top.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("grade the batch first"));
    let (alice, out) = (top.path().join("alice"), top.path().join("marks"));
    answers(&alice, KEYWORDS_Q1, &reference("q2.md"), OWN_Q4);
    batch(&[&alice], &out);
    for (set, says) in [
        ("alice:q3=21", "out of 20"),
        ("alice:q1=11", "out of 10"),
        ("nobody:q1=5", "no submission named"),
        ("alice-q1-5", "expected NAME:qN=MARK"),
    ] {
        grader()
            .arg("review")
            .arg(&out)
            .args(["--set", set])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
    }
    // A reason belongs to a mark set: without --set, each is asked.
    grader().arg("review").arg(&out).args(["--reason", "why"]).assert().code(2);
    // Hand-edited files that would make a wrong mark are refused, with why.
    let book = std::fs::read_to_string(out.join("gradebook.json")).unwrap();
    std::fs::write(out.join("gradebook.json"), book.replace("\"name\": \"alice\"", "\"name\": \"../../x\""))
        .unwrap();
    grader()
        .arg("review")
        .arg(&out)
        .args(["--set", "alice:q1=5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a name the grader gives"));
    std::fs::write(out.join("gradebook.json"), book).unwrap();
    let huge =
        r#"{"decisions":[{"name":"alice","question":2,"fingerprint":"f","mark":4294967295,"automatic":0}]}"#;
    std::fs::write(out.join("reviews.json"), huge).unwrap();
    let batch_refused = |why: &str| {
        grader()
            .arg("batch")
            .arg(&alice)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(why));
    };
    batch_refused("is out of 10");
    // A broken file of decisions stops a batch before it grades anything.
    std::fs::write(out.join("reviews.json"), "{not json").unwrap();
    batch_refused("reviews.json");
}

#[test]
fn a_programming_mark_is_set_like_a_written_one_and_holds_while_the_code_is_unchanged() {
    let top = tempfile::Builder::new().prefix("grader-review-").tempdir().unwrap();
    let (alice, out) = (top.path().join("alice"), top.path().join("marks"));
    answers(&alice, &reference("q1.md"), &reference("q2.md"), OWN_Q4);
    let q6 = alice.join("exercises/q6_four_procs");
    common::copy_tree(&grader::engine::workspace::home().join("exercises/q6_four_procs"), &q6);
    batch(&[&alice], &out);
    assert_eq!(row(&gradebook(&out), "alice")["q6"], "20");

    grader()
        .arg("review")
        .arg(&out)
        .args(["--set", "alice:q6=14", "--reason", "the four numbers are hard-coded in the parent"])
        .env("GRADER_REVIEWER", "prof-kim")
        .assert()
        .success();
    let a = row(&gradebook(&out), "alice").clone();
    assert_eq!(a["q6"], "14", "{a:?}");
    assert!(
        a["review"].contains("q6 reviewed: set to 14 (automatic 20) by prof-kim")
            && a["review"].contains("hard-coded")
    );
    let results = std::fs::read_to_string(out.join("alice/results.json")).unwrap();
    assert!(results.contains("\"6.review\"") && results.contains("prof-kim"), "{results}");

    // Unchanged code keeps the mark through a new batch; changed code is
    // graded afresh, and the gradebook says the decision no longer holds.
    batch(&[&alice], &out);
    assert_eq!(row(&gradebook(&out), "alice")["q6"], "14");
    let main_rs = q6.join("src/main.rs");
    let code = std::fs::read_to_string(&main_rs).unwrap();
    std::fs::write(&main_rs, code + "\n// a change\n").unwrap();
    batch(&[&alice], &out);
    let a = row(&gradebook(&out), "alice").clone();
    assert_eq!(a["q6"], "20", "{a:?}");
    assert!(a["review"].contains("q6 changed since it was reviewed"), "{a:?}");
    let results = std::fs::read_to_string(out.join("alice/results.json")).unwrap();
    assert!(!results.contains("6.review"), "{results}");
}

#[test]
fn a_write_that_fails_part_way_leaves_the_old_decisions_whole() {
    let top = tempfile::Builder::new().prefix("grader-review-").tempdir().unwrap();
    let (alice, out) = (top.path().join("alice"), top.path().join("marks"));
    answers(&alice, KEYWORDS_Q1, &reference("q2.md"), OWN_Q4);
    batch(&[&alice], &out);
    grader().arg("review").arg(&out).args(["--set", "alice:q1=6"]).assert().success();
    let files = ["reviews.json", "gradebook.csv", "gradebook.json", "flagged.json", "alice/results.json"];
    let before: Vec<String> = files.iter().map(|f| std::fs::read_to_string(out.join(f)).unwrap()).collect();

    // The disk is "full" after 1 KiB of any file (the shell's limit on file
    // size): the new decisions, with a long reason, do not fit.
    let long_reason = "a long reason. ".repeat(200);
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -f 1; exec '{}' review '{}' --set alice:q1=2 --reason '{long_reason}'",
            common::GRADER,
            out.display()
        ))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the write was meant to fail");
    for (file, old) in files.iter().zip(&before) {
        let now = std::fs::read_to_string(out.join(file)).unwrap();
        assert_eq!(&now, old, "{file} changed");
    }
    // And the next batch reads the decisions whole.
    batch(&[&alice], &out);
    assert_eq!(row(&gradebook(&out), "alice")["q1"], "6");
}

#[test]
fn copies_are_shown_together_and_decided_together() {
    let top = tempfile::Builder::new().prefix("grader-review-").tempdir().unwrap();
    let out = top.path().join("marks");
    let dirs: Vec<std::path::PathBuf> =
        ["alice", "carol", "dave"].iter().map(|n| top.path().join(n)).collect();
    // Only Q4 is answered, three times nearly alike.
    for (dir, first) in dirs.iter().zip(["A pool", "Such a pool", "The pool"]) {
        std::fs::create_dir_all(dir.join("answers")).unwrap();
        std::fs::write(dir.join("answers/q4.md"), OWN_Q4.replace("A pool", first)).unwrap();
    }
    let refs: Vec<&Path> = dirs.iter().map(|d| d.as_path()).collect();
    grader()
        .arg("batch")
        .args(&refs)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("3 answers flagged for your review"));
    let rows = gradebook(&out);
    assert!(rows.iter().all(|r| r["review"].contains("copied?")), "{rows:?}");

    // One mark for the three of them.
    review_says(
        &out,
        "4\n",
        &["one mark 0-10 for all 3", "----- carol's answer -----", "Such a pool", "3 decided now"],
    );
    let rows = gradebook(&out);
    assert!(rows.iter().all(|r| r["q4"] == "4" && r["review"].contains("q4 reviewed: set to 4")), "{rows:?}");

    // Dave changes his answer, a little: his alone is open again, shown
    // beside the answers it shares its text with.
    std::fs::write(dirs[2].join("answers/q4.md"), OWN_Q4.replace("A pool", "My pool")).unwrap();
    batch(&refs, &out);
    review_says(&out, "2\n", &["dave, Q4", "beside it, alice's answer", "My pool", "1 decided now"]);
    let rows = gradebook(&out);
    assert_eq!((row(&rows, "dave")["q4"].as_str(), row(&rows, "alice")["q4"].as_str()), ("2", "4"));
}

#[test]
fn a_renamed_answer_is_flagged_with_its_text_for_the_instructor() {
    let top = tempfile::Builder::new().prefix("grader-review-").tempdir().unwrap();
    let (grace, out) = (top.path().join("grace"), top.path().join("marks"));
    std::fs::create_dir_all(grace.join("answers")).unwrap();
    std::fs::write(grace.join("answers/Q4.md"), OWN_Q4).unwrap();
    batch(&[&grace], &out);
    let g = row(&gradebook(&out), "grace").clone();
    assert!(
        g["q4"] == "0" && g["review"].contains("renamed? answers/q4.md is missing: found `answers/Q4.md`"),
        "{g:?}"
    );
    // The review shows what was found, and a mark can be set for it.
    grader()
        .arg("review")
        .arg(&out)
        .write_stdin("9\nthe answer was in Q4.md\n")
        .assert()
        .success()
        .stdout(predicate::str::contains("A pool is a fixed set of worker processes"));
    assert_eq!(row(&gradebook(&out), "grace")["q4"], "9");
}

#[test]
fn copies_decided_each_on_its_own_keep_each_its_own_reason() {
    let top = tempfile::Builder::new().prefix("grader-review-").tempdir().unwrap();
    let out = top.path().join("marks");
    let dirs: Vec<std::path::PathBuf> = ["alice", "carol"].iter().map(|n| top.path().join(n)).collect();
    for (dir, first) in dirs.iter().zip(["A pool", "Such a pool"]) {
        std::fs::create_dir_all(dir.join("answers")).unwrap();
        std::fs::write(dir.join("answers/q4.md"), OWN_Q4.replace("A pool", first)).unwrap();
    }
    let refs: Vec<&Path> = dirs.iter().map(|d| d.as_path()).collect();
    batch(&refs, &out);
    review_says(
        &out,
        "e\n5\nthe original\n3\ncopied from alice\n",
        &["why the mark of alice?", "why the mark of carol?"],
    );
    let rows = gradebook(&out);
    let (a, c) = (row(&rows, "alice"), row(&rows, "carol"));
    assert!(
        a["q4"] == "5" && a["review"].contains("the original") && !a["review"].contains("copied from"),
        "{a:?}"
    );
    assert!(c["q4"] == "3" && c["review"].contains("copied from alice"), "{c:?}");
}
