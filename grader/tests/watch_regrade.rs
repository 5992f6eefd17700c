//! `grader watch` re-grades the question a student saves, on programs whose
//! marks are known: a copy of this workspace (the reference, 100/100) is
//! watched; saving a Q6 that uses threads turns its process check red,
//! saving the right one turns it green. (This file stays out of the
//! release: it needs the reference and the fixtures. `tests/watch.rs`
//! checks the watch in any state.)

mod common;

use std::path::Path;
use std::time::Duration;

#[test]
fn watch_regrades_a_saved_question() {
    let Some(tmux) = common::Tmux::new("watch_regrade") else { return };
    let top = tempfile::Builder::new().prefix("grader-watch-").tempdir().unwrap();
    let (ws, target) = common::workspace_copy(top.path());
    let main_rs = ws.join("exercises/q6_four_procs/src/main.rs");
    let right = std::fs::read_to_string(&main_rs).unwrap();
    let threads = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/q6_threads/exercises/q6_four_procs/src/main.rs"),
    )
    .unwrap();
    tmux.watch(&ws, &target);
    tmux.wait_for("watching exercises/", Duration::from_secs(600));
    let screen = tmux.screen();
    assert!(screen.contains("] 100/100") && screen.contains("Q6 ✓ 20/20"), "{screen}");

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
    tmux.run(&["send-keys", "-t", "watch", "h"]);
    tmux.wait_for("Q6, hint 1 of 3", Duration::from_secs(10));
    tmux.run(&["send-keys", "-t", "watch", "q"]);
    tmux.wait_for("watch exited with 0", Duration::from_secs(30));
    common::assert_nothing_left_running(Some(&ws));
}
