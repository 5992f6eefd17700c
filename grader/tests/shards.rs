//! A class graded in shards, then merged: the same gradebook, results and
//! review flags as one batch of the whole class; a set of shards that does
//! not make one class is refused.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{commit_all, copy_submission, copy_tree};
use grader::rubric::Question;
use serde_json::Value;

const OWN_Q4: &str = "A pool is a fixed set of worker processes that the program starts once and reuses for every task, so that it does not pay to create a process per task; it hands each worker tasks from a queue and collects the results in order.\n";

fn grader() -> assert_cmd::Command {
    let mut cmd = common::grader(600);
    // One seed for every batch: the random inputs, and so the messages, alike.
    cmd.env("GRADER_SEED", "2026");
    cmd
}

/// The written questions' files, and their titles as the release has them.
const WRITTEN: [(&str, &str); 3] = [
    ("q1.md", "Q1. What is multiprocessing? Why is it useful?"),
    ("q2.md", "Q2. What are the differences between multiprocessing and multithreading?"),
    ("q4.md", "Q4. What is a pool of worker processes? Why is it used?"),
];

const NAMES: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];

/// Two students the 3 shards put apart: they hand in the same Q4, a copy
/// only a look across the whole class can see.
fn copiers() -> [&'static str; 2] {
    let shard = |k| grader::classroom::shard::Shard::new(k, 3).unwrap().members(&NAMES);
    let first = |k| *NAMES.iter().find(|n| shard(k).contains(**n)).unwrap();
    [first(1), first(2)]
}

/// Six students' repositories and their roster: the [`copiers`] hand in
/// the same Q4, the last student a wrong Q6.
fn class(root: &Path) -> std::path::PathBuf {
    let home = grader::engine::workspace::home();
    let mut roster = String::from("student,repository\n");
    for name in NAMES {
        let dir = root.join("repos").join(name);
        copy_submission(&home, &dir);
        // No written answers (the reference's would be copies of each
        // other), but the copiers' Q4.
        for (file, title) in WRITTEN {
            std::fs::write(
                dir.join("answers").join(file),
                format!("# {title}\n\n_Write your answer here._\n"),
            )
            .unwrap();
        }
        if copiers().contains(&name) {
            std::fs::write(dir.join("answers/q4.md"), OWN_Q4).unwrap();
        }
        if name == "frank" {
            copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/q6_duplicate"), &dir);
        }
        commit_all(&dir, "2026-11-20T12:00:00Z", "done");
        roster.push_str(&format!("{name},{}\n", dir.display()));
    }
    let path = root.join("roster.csv");
    std::fs::write(&path, roster).unwrap();
    path
}

/// What must be the same, sharded or not: each row of the gradebook
/// (sorted by name), and each student's results (scores, not the run's
/// own words: pids and times differ run to run).
fn graded(out: &Path) -> (Vec<Value>, BTreeMap<String, Value>, Value) {
    let book: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("gradebook.json")).unwrap()).unwrap();
    let mut rows = book["rows"].as_array().unwrap().clone();
    rows.sort_by_key(|r| r["name"].as_str().unwrap().to_string());
    let results = rows
        .iter()
        .map(|row| {
            let name = row["name"].as_str().unwrap().to_string();
            let text = std::fs::read_to_string(out.join(&name).join("results.json")).unwrap();
            let results: Value = serde_json::from_str(&text).unwrap();
            let tests: Vec<Value> = results["tests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| serde_json::json!([t["number"], t["score"], t["max_score"]]))
                .collect();
            (name, serde_json::json!({"score": results["score"], "tests": tests}))
        })
        .collect();
    let mut flagged: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("flagged.json")).unwrap()).unwrap();
    if let Some(items) = flagged["items"].as_array_mut() {
        items.sort_by_key(|i| i["name"].as_str().unwrap_or_default().to_string());
    }
    (rows, results, flagged)
}

#[test]
fn a_class_graded_in_shards_and_merged_is_the_class_graded_at_once() {
    let top = tempfile::Builder::new().prefix("grader-shards-").tempdir().unwrap();
    let root = top.path();
    let roster = class(root);
    let batch = |out: &str, shard: Option<&str>| {
        let mut cmd = grader();
        cmd.arg("batch").arg("--roster").arg(&roster).arg("--out").arg(root.join(out));
        cmd.arg("--cache").arg(root.join(format!("{out}-repositories")));
        if let Some(shard) = shard {
            cmd.args(["--shard", shard]);
        }
        cmd.assert().success();
    };
    batch("whole", None);
    for k in 1..=3 {
        batch(&format!("shard-{k}"), Some(&format!("{k}/3")));
    }
    let shards: Vec<_> = (1..=3).map(|k| root.join(format!("shard-{k}"))).collect();
    // Each student in one shard, and every shard holds two.
    for shard in &shards {
        assert_eq!(graded(shard).0.len(), 2, "{}", shard.display());
    }
    grader().arg("merge").args(&shards).arg("--out").arg(root.join("merged")).assert().success();
    let (whole, merged) = (graded(&root.join("whole")), graded(&root.join("merged")));
    assert_eq!(whole.0, merged.0, "the gradebook's rows");
    assert_eq!(whole.1, merged.1, "each student's results");
    assert_eq!(whole.2, merged.2, "the work flagged for review");
    // The copy was found across shards, where neither shard alone saw it.
    let copied =
        |out: &Path| graded(out).0.iter().filter(|r| r.to_string().contains("\"copies\":[\"")).count();
    assert_eq!(copied(&root.join("merged")), 2, "the copiers' Q4: {:?}", copiers());
    assert_eq!(shards.iter().map(|s| copied(s)).sum::<usize>(), 0, "a shard alone saw a copy");
    // A mark set on the merged class holds, and holds when it is merged again.
    let merged = root.join("merged");
    let set = grader()
        .arg("review")
        .arg(&merged)
        .args(["--set", "frank:q6=17", "--reason", "checked by hand"])
        .assert();
    set.success();
    let q6_of_frank = || {
        let book: Value =
            serde_json::from_str(&std::fs::read_to_string(merged.join("gradebook.json")).unwrap()).unwrap();
        let rows = book["rows"].as_array().unwrap().clone();
        let frank = rows.iter().find(|r| r["name"] == "frank").unwrap().clone();
        frank["points"][Question::Q6 as usize].as_u64()
    };
    assert_eq!(q6_of_frank(), Some(17));
    grader().arg("merge").args(&shards).arg("--out").arg(&merged).assert().success();
    assert_eq!(q6_of_frank(), Some(17), "the decision was lost by merging again");

    // A set that does not make one class is refused, and nothing written.
    let refused = |dirs: &[&Path], out: &str, says: &str| {
        grader()
            .arg("merge")
            .args(dirs)
            .arg("--out")
            .arg(root.join(out))
            .assert()
            .code(2)
            .stderr(predicates::str::contains(says));
        assert!(!root.join(out).join("gradebook.csv").exists(), "{out}: a gradebook was written");
    };
    refused(&[&shards[0], &shards[2]], "missing", "shards missing: 2/3");
    refused(&[&shards[0], &shards[0], &shards[1], &shards[2]], "twice", "both shard 1/3");
    refused(&[&root.join("whole")], "from-the-whole", "is not a shard");
    let manifest = shards[1].join("batch.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let other = text.replace(grader::grading::grader_fingerprint(), "0123456789abcdef");
    std::fs::write(&manifest, other).unwrap();
    refused(&[&shards[0], &shards[1], &shards[2]], "graders", "another grader or rubric");
}

/// `batch --roster ROSTER --out OUT` with `extra`: its exit status and
/// stdout.
fn roster_batch(roster: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let run =
        grader().arg("batch").arg("--roster").arg(roster).arg("--out").arg(out).args(extra).output().unwrap();
    (run.status.code(), String::from_utf8_lossy(&run.stdout).into_owned())
}

#[test]
fn a_second_batch_grades_only_what_changed() {
    let top = tempfile::Builder::new().prefix("grader-reuse-").tempdir().unwrap();
    let root = top.path();
    let roster = class(root);
    let out = root.join("marks");
    let batch = |extra: &[&str], says: &str| {
        let (code, stdout) = roster_batch(&roster, &out, extra);
        assert_eq!(code, Some(0), "{stdout}");
        assert!(stdout.contains(says), "expected {says:?}:\n{stdout}");
    };
    batch(&[], "6 submissions: 6 graded, in ");
    let first = graded(&out);
    // Nothing changed: every result stands, as it was.
    batch(&[], "6 submissions: 0 graded, 6 reused");
    assert_eq!(graded(&out), first);
    // One student pushes: that one is graded.
    let carol = root.join("repos/carol");
    std::fs::write(carol.join("answers/q1.md"), "# Q1\n\nMultiprocessing runs processes at once.\n").unwrap();
    commit_all(&carol, "2026-11-21T12:00:00Z", "an answer");
    batch(&[], "6 submissions: 1 graded, 5 reused");
    // Asked to, it grades them all.
    batch(&["--regrade"], "6 submissions: 6 graded, in ");
}

#[test]
fn a_class_fetched_with_credentials_is_graded_without_them() {
    let top = tempfile::Builder::new().prefix("grader-offline-").tempdir().unwrap();
    let root = top.path();
    let roster = class(root);
    let out = root.join("marks");
    let run = |extra: &[&str]| roster_batch(&roster, &out, extra);
    // Offline, with nothing fetched: each row says what to do.
    let (code, said) = run(&["--offline", "--only", "alice"]);
    assert_eq!(code, Some(1), "{said}");
    let book = std::fs::read_to_string(out.join("gradebook.csv")).unwrap();
    assert!(book.contains("fetch it first (batch --fetch-only)"), "{book}");
    // The step with credentials fetches, and grades nothing.
    let (code, said) = run(&["--fetch-only"]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("fetched 6 of 6 repositories"), "{said}");
    // The repositories gone (no network), the cache is graded as fetched.
    std::fs::remove_dir_all(root.join("repos")).unwrap();
    let (code, said) = run(&["--offline", "--only", "alice"]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("1 submission: 1 graded, in"), "{said}");
}
