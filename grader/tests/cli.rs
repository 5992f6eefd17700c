//! The `grader` command line: reports, exit statuses, bad usage.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn grader() -> Command {
    let mut cmd = common::grader(120);
    cmd.env_remove("NO_COLOR");
    cmd
}

/// Runs `cmd` and asserts that it could not grade: exit 2, nothing on
/// stdout (no scorecard, no mark), and on stderr what `says`.
fn assert_refused(cmd: &mut Command, says: impl Predicate<str>) {
    cmd.assert().code(2).stdout(predicate::str::is_empty()).stderr(says);
}

#[test]
fn cli_not_a_workspace_exits_2_with_a_message() {
    let dir = std::env::temp_dir();
    assert_refused(
        grader().args(["grade", "--workspace"]).arg(&dir),
        predicate::str::contains("not an assignment workspace"),
    );
}

#[test]
fn cli_bad_usage_exits_2() {
    grader().arg("--no-such-flag").assert().code(2);
    grader().args(["--timeout", "0"]).assert().code(2).stderr(predicate::str::contains("--timeout"));
    grader().args(["q9"]).assert().code(2).stderr(predicate::str::contains("is not a question"));
    grader().args(["--memory", "0"]).assert().code(2).stderr(predicate::str::contains("--memory"));
    // The limits are grade's and batch's; release has none to ignore.
    grader().args(["release", "out", "--repository", "a/b", "--timeout", "3"]).assert().code(2);
    grader()
        .args(["q6", "--question", "5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used"));
    // A seed that is not a number would replay nothing: said, not ignored.
    assert_refused(
        grader().args(["q1"]).env("GRADER_SEED", "abc"),
        predicate::str::contains("GRADER_SEED must be a number"),
    );
}

#[test]
fn cli_writes_gradescope_json_and_markdown() {
    let top = tempfile::Builder::new().prefix("grader-cli-").tempdir().unwrap();
    let out = top.path();
    let (json_path, md_path) = (out.join("results.json"), out.join("summary.md"));
    let run = grader().arg("--json").arg(&json_path).arg("--markdown").arg(&md_path).output().unwrap();

    let results: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let tests = results["tests"].as_array().unwrap();
    assert_eq!(tests.len(), grader::rubric::checks().count());
    assert_eq!(results["max_score"], 100);
    let sum: u64 = tests.iter().map(|t| t["score"].as_u64().unwrap()).sum();
    assert_eq!(results["score"].as_u64(), Some(sum));
    for t in tests {
        let number = t["number"].as_str().unwrap();
        assert!(
            number.split_once('.').is_some_and(|(q, c)| q.parse::<u8>().is_ok() && c.parse::<u8>().is_ok())
        );
        let status = if t["score"] == t["max_score"] { "passed" } else { "failed" };
        assert_eq!(t["status"], status, "{t}");
        assert!(t["name"].is_string() && t["output"].is_string() && results["execution_time"].is_f64());
    }
    // Exit status 0 exactly at full marks, 1 below.
    let full = results["score"] == results["max_score"];
    assert_eq!(run.status.code(), Some(if full { 0 } else { 1 }));
    // Piped: no colour codes.
    assert!(!String::from_utf8_lossy(&run.stdout).contains('\x1b'));
    let markdown = std::fs::read_to_string(&md_path).unwrap();
    assert!(markdown.starts_with(&format!("## Multiprocessing: {sum}/100")));
}

#[test]
fn cli_the_graders_own_failure_is_exit_2_never_points_lost() {
    let top = tempfile::Builder::new().prefix("grader-cli-").tempdir().unwrap();
    let json = top.path().join("results.json");
    assert_refused(
        grader().env("CARGO", "/nonexistent").arg("--json").arg(&json),
        predicate::str::contains("could not grade")
            .and(predicate::str::contains("CARGO is set to /nonexistent")),
    );
    assert!(!json.exists(), "no mark is written");
}

#[test]
fn cli_one_question_is_graded_alone() {
    // Whatever the state of Q6 (this test ships with the assignment, and
    // passes before Q6 is written too): only Q6 is graded, out of 20, and
    // the exit status says whether it has full marks.
    let run = grader().arg("q6").output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let total = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Total: ")?.split_whitespace().next())
        .unwrap_or_else(|| panic!("no total: {stdout}"));
    let (points, of) = total.split_once('/').unwrap();
    assert_eq!(of, "20", "{stdout}");
    assert!(stdout.contains("\nQ6 ") && !stdout.contains("\nQ5 ") && !stdout.contains("\nQ1 "), "{stdout}");
    assert_eq!(run.status.code(), Some(if points == "20" { 0 } else { 1 }), "{stdout}");
    // The same, by the flag (its mark is the program's; a half-written one
    // may vary).
    let same = grader().args(["grade", "--question", "6"]).output().unwrap();
    let same = String::from_utf8_lossy(&same.stdout);
    assert!(same.contains("Total: ") && same.contains("/20") && !same.contains("\nQ5 "), "{same}");
    grader().arg("q9").assert().code(2).stderr(predicate::str::contains("is not a question"));
}

#[test]
fn cli_hints_come_one_at_a_time_then_say_there_are_no_more() {
    // Where the hints shown are kept: a target directory of the test's own.
    // How many there are depends on what fails in Q6 now (a hint on it
    // first), so the test holds in any state of the work.
    let target = tempfile::Builder::new().prefix("grader-hints-").tempdir().unwrap();
    let hint = || {
        let out = grader().args(["hint", "q6"]).env("CARGO_TARGET_DIR", target.path()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    // On what fails first, if anything does; then the question's own, "hint
    // k of n", each once; then no more.
    let mut shown = vec![hint()];
    while !shown.last().unwrap().contains("no more hints") {
        assert!(shown.len() < 10, "{shown:#?}");
        shown.push(hint());
    }
    let own: Vec<&String> = shown.iter().filter(|h| h.starts_with("Q6, hint ")).collect();
    let of = own.len();
    assert_eq!(of, 3, "{shown:#?}");
    for (i, text) in own.iter().enumerate() {
        assert!(text.starts_with(&format!("Q6, hint {} of {of}: ", i + 1)), "{text}");
    }
    let about = shown.iter().filter(|h| h.starts_with("Q6, on 6.")).count();
    assert!(about <= 1 && shown.len() == of + about + 1, "{shown:#?}");
    grader().args(["hint", "q9"]).assert().code(2);
}
