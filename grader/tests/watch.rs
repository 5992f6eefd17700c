//! `grader watch` as a student sees it, in a real terminal: tmux, 80
//! columns, keys sent with `send-keys`, the screen read with
//! `capture-pane`. A copy of the workspace is watched; saving a Q6 that
//! uses threads turns its process check red, saving a right one turns it
//! green, `h` shows a hint, `q` quits and leaves nothing running.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// tmux on a socket of this test's own, killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new() -> Tmux {
        let version = Command::new("tmux").arg("-V").output();
        assert!(
            version.is_ok_and(|o| o.status.success()),
            "this test needs tmux (apt install tmux): it drives `grader watch` in a real terminal"
        );
        Tmux { socket: format!("grader-watch-test-{}", std::process::id()) }
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().unwrap();
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-t", "watch", "-p"])
    }

    /// Waits until the screen shows `text`; returns how long it took.
    fn wait_for(&self, text: &str, limit: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return start.elapsed();
            }
            assert!(start.elapsed() < limit, "{text:?} not on the screen after {limit:?}:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).output();
    }
}

/// A copy of the workspace (its manifests, exercises, answers and the
/// grader's sources), and a target directory seeded with the dependencies
/// the checkout's own gradings built, if there are any.
fn workspace_copy(top: &Path) -> (PathBuf, PathBuf) {
    let home = grader::workspace::home();
    let ws = top.join("workspace");
    for dir in ["exercises", "answers", "grader/src", "grader/benches"] {
        common::copy_tree(&home.join(dir), &ws.join(dir));
    }
    for file in ["Cargo.toml", "Cargo.lock", "grader/Cargo.toml"] {
        std::fs::copy(home.join(file), ws.join(file)).unwrap();
    }
    let target = top.join("target");
    let deps = grader::workspace::target_dir(&home).join("grader-deps");
    std::fs::create_dir_all(&target).unwrap();
    if deps.is_dir() {
        // Hard links, as every grading seeds its builds.
        let linked = Command::new("cp").arg("-al").arg(&deps).arg(target.join("grader-deps")).status();
        assert!(linked.is_ok_and(|s| s.success()));
    }
    (ws, target)
}

#[test]
fn watch_regrades_a_saved_question_shows_hints_and_quits_clean() {
    let tmux = Tmux::new();
    let top = tempfile::Builder::new().prefix("grader-watch-").tempdir().unwrap();
    let (ws, target) = workspace_copy(top.path());
    let main_rs = ws.join("exercises/q6_four_procs/src/main.rs");
    let right = std::fs::read_to_string(&main_rs).unwrap();
    let threads = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/q6_threads/exercises/q6_four_procs/src/main.rs"),
    )
    .unwrap();

    let command = format!(
        "cd '{}' && CARGO_TARGET_DIR='{}' '{}' watch; echo \"watch exited with $?\"; sleep 600",
        ws.display(),
        target.display(),
        common::GRADER
    );
    tmux.run(&["new-session", "-d", "-s", "watch", "-x", "80", "-y", "30", &command]);

    // Every question graded, the bar drawn.
    tmux.wait_for("watching exercises/", Duration::from_secs(600));
    let screen = tmux.screen();
    assert!(screen.contains("] 100/100") && screen.contains("Q6 ✓ 20/20"), "{screen}");
    assert!(screen.lines().all(|l| l.chars().count() <= 80), "{screen}");

    // Threads instead of processes: the process check fails, with why.
    std::fs::write(&main_rs, threads).unwrap();
    let red = tmux.wait_for("✗ 6.3 each number comes from a process of its own", Duration::from_secs(60));
    let screen = tmux.screen();
    assert!(screen.contains("Q6 ✗ 8/20") && screen.contains("main process's own pid"), "{screen}");

    // Put right: green again.
    std::fs::write(&main_rs, right).unwrap();
    let green = tmux.wait_for("Q6 ✓ 20/20", Duration::from_secs(60));
    tmux.wait_for("every check passes", Duration::from_secs(10));
    eprintln!(
        "the screen changed {red:?} after saving a Q6 with threads, {green:?} after saving a right one"
    );

    // A hint for the question being worked on.
    tmux.run(&["send-keys", "-t", "watch", "h"]);
    tmux.wait_for("Q6 hint 1 of 3", Duration::from_secs(10));

    // Quit: the watch ends, and leaves nothing behind.
    tmux.run(&["send-keys", "-t", "watch", "q"]);
    tmux.wait_for("watch exited with 0", Duration::from_secs(30));
    common::assert_nothing_left_running(Some(&ws));
}
