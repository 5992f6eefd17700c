//! Runs the `q5_pool` binary (each run a fresh, single-threaded process, safe
//! to fork) and checks it against its output contract.

use std::collections::HashSet;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long one run may take: a pool that deadlocks fails, it does not hang.
const LIMIT: Duration = Duration::from_secs(30);

/// Runs `q5_pool` in a process group of its own, killed whole if it takes
/// longer than [`LIMIT`].
fn q5_pool(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_q5_pool"))
        .args(args)
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("q5_pool runs");
    let read = |stream: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut stream) = stream {
                let _ = stream.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = read(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let stderr = read(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for q5_pool") {
            break status;
        }
        if started.elapsed() > LIMIT {
            let group = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            panic!(
                "q5_pool {} ({} arguments) did not finish in {LIMIT:?}: a deadlock?",
                args.iter().take(3).cloned().collect::<Vec<_>>().join(" "),
                args.len()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}

/// Checks a successful run's stdout and returns the distinct worker pids.
fn check_squares(args: &[&str], workers: usize, numbers: &[i64]) -> HashSet<String> {
    let out = q5_pool(args);
    assert!(out.status.success(), "{args:?}: {out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), numbers.len() + 2, "{stdout}");
    assert_eq!(lines[0], format!("Pool of {workers} worker processes"));

    let mut pids = HashSet::new();
    let mut squared = Vec::new();
    for line in &lines[1..=numbers.len()] {
        let rest = line.strip_prefix("Worker pid ").unwrap_or_else(|| panic!("{line}"));
        let (pid, rest) = rest.split_once(" squared ").unwrap();
        let (x, square) = rest.split_once(" = ").unwrap();
        let x: i64 = x.parse().unwrap();
        assert_eq!(square, (i128::from(x) * i128::from(x)).to_string());
        pids.insert(pid.to_string());
        squared.push(x);
    }
    squared.sort_unstable();
    let mut expected = numbers.to_vec();
    expected.sort_unstable();
    assert_eq!(squared, expected, "every number squared exactly once");
    assert!(pids.len() <= workers, "{} pids for {workers} workers", pids.len());

    let squares: Vec<String> = numbers.iter().map(|&x| (i128::from(x) * i128::from(x)).to_string()).collect();
    assert_eq!(lines[numbers.len() + 1], format!("Results: [{}]", squares.join(", ")));
    pids
}

#[test]
fn default_run() {
    check_squares(&[], 4, &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

#[test]
fn edge_cases() {
    check_squares(&["--workers", "1", "7"], 1, &[7]);
    check_squares(&["--workers", "8", "--", "-5", "3037000500"], 8, &[-5, 3_037_000_500]);
    check_squares(&["--", &i64::MIN.to_string(), "0"], 4, &[i64::MIN, 0]);
}

#[test]
fn many_numbers_use_every_worker_and_keep_order() {
    // More tasks than the pipes and the workers hold together (a pipe holds
    // 64 KiB: 4096 tasks, 2730 results): a pool that sent them all before
    // reading any result would deadlock here.
    let numbers: Vec<i64> = (0..12_000).map(|i| (i * 7919) % 12_007 - 6000).collect();
    let words: Vec<String> = numbers.iter().map(i64::to_string).collect();
    let mut args = vec!["--workers", "3", "--"];
    args.extend(words.iter().map(String::as_str));
    let pids = check_squares(&args, 3, &numbers);
    assert!(!pids.is_empty());
}

#[test]
fn bad_arguments_exit_2_with_one_line_on_stderr() {
    for args in [&["abc"][..], &["--workers", "0"], &["--workers"], &["--unknown"]] {
        let out = q5_pool(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout must be empty");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}
