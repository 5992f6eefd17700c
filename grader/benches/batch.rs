//! What a class costs: a batch of six students' repositories, then the same
//! batch again with nothing changed (every result reused); and what one
//! submission costs the grader beyond its own code: `grade --submission` of
//! a clone against grading this workspace in place after its three sources
//! change (a rebuild and a grading), taken in turns, the median of the
//! ratios. From these, the time for 600 and 10,000 students on one machine
//! and on a matrix of 20 jobs.
//!
//! ```sh
//! cargo bench -p grader --bench batch
//! ```

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

const CLASS: usize = 6;
const ROUNDS: usize = 9;

fn grader() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_grader"));
    cmd.env("GRADER_SEED", "1").stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    cmd
}

/// Runs `cmd` and returns how long it took; it must exit 0.
fn timed(cmd: &mut Command) -> Duration {
    let started = Instant::now();
    let status = cmd.status().expect("the grader runs");
    assert!(status.success(), "{cmd:?}: {status}");
    started.elapsed()
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=Student", "-c", "user.email=student@localhost"])
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// A copy of the workspace's `exercises/` and `answers/`, committed.
fn repository(home: &Path, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for part in ["exercises", "answers"] {
        let status = Command::new("cp").arg("-R").arg(home.join(part)).arg(dir).status().unwrap();
        assert!(status.success());
    }
    let _ = std::fs::remove_dir_all(dir.join("exercises/q5_pool/target"));
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "done"]);
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let home = grader::engine::workspace::home();
    let top = tempfile::Builder::new().prefix("grader-bench-batch-").tempdir().unwrap();
    let mut roster = String::from("student,repository\n");
    for i in 0..CLASS {
        let dir = top.path().join(format!("student{i}"));
        repository(&home, &dir);
        roster.push_str(&format!("student{i},{}\n", dir.display()));
    }
    std::fs::write(top.path().join("roster.csv"), roster).unwrap();
    let out = top.path().join("marks");
    let batch = || {
        let mut cmd = grader();
        cmd.arg("batch").arg("--roster").arg(top.path().join("roster.csv")).arg("--out").arg(&out);
        timed(&mut cmd)
    };
    let first = batch();
    let again = batch();
    println!(
        "batch of {CLASS}: {:.1} s; again, nothing changed (every result reused): {:.2} s ({:.0}% of the first)",
        first.as_secs_f64(),
        again.as_secs_f64(),
        100.0 * again.as_secs_f64() / first.as_secs_f64()
    );

    // One submission: a clone graded as a submission, against this
    // workspace graded in place after its three sources change.
    let clone = top.path().join("student0");
    let sources: Vec<_> = ["q3_process", "q5_pool", "q6_four_procs"]
        .iter()
        .map(|p| home.join("exercises").join(p).join("src/main.rs"))
        .collect();
    let mut ratios = Vec::new();
    let (mut submissions, mut in_place) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let submission = timed(grader().args(["grade", "--submission"]).arg(&clone)).as_secs_f64();
        for source in &sources {
            let file = std::fs::File::options().append(true).open(source).unwrap();
            file.set_modified(SystemTime::now()).unwrap();
        }
        let here = timed(grader().arg("grade").arg("--workspace").arg(&home)).as_secs_f64();
        ratios.push(submission / here);
        submissions.push(submission);
        in_place.push(here);
    }
    let (submission, here) = (median(submissions), median(in_place));
    println!(
        "one submission: grade --submission {submission:.2} s, in place after a change {here:.2} s; median ratio {:.2} (the target: at most 1.3)",
        median(ratios)
    );
    let per = first.as_secs_f64() / CLASS as f64;
    for students in [600.0, 10_000.0] {
        println!(
            "{students} students at {per:.2} s each: {:.1} h on this machine, {:.2} h on a matrix of 20 jobs like it",
            students * per / 3600.0,
            students * per / 3600.0 / 20.0
        );
    }
}
