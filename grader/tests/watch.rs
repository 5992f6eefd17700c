//! `grader watch` as a student sees it, in a real terminal (tmux, 80
//! columns, keys sent with `send-keys`, the screen read with
//! `capture-pane`), whatever state the workspace is in: untouched, half
//! done or finished. It opens on the first unfinished question (the
//! programs first), `h` shows that question's hint, `q` quits and leaves
//! nothing running. Without tmux, the test says it is skipped.
//! (How it re-grades a saved question is tested on known programs, in the
//! instructor's `tests/watch_regrade.rs`.)

mod common;

use std::time::Duration;

use grader::rubric::Question;

#[test]
fn watch_opens_on_the_first_unfinished_question_gives_its_hint_and_quits_clean() {
    let Some(tmux) = common::Tmux::new("watch") else { return };
    let top = tempfile::Builder::new().prefix("grader-watch-").tempdir().unwrap();
    let (ws, target) = common::workspace_copy(top.path());
    tmux.watch(&ws, &target);

    // Every question graded, the bar drawn, nothing wider than the screen.
    tmux.wait_for("watching exercises/", Duration::from_secs(600));
    let screen = tmux.screen();
    assert!(screen.contains("/100") && screen.contains("Q6 "), "{screen}");
    assert!(screen.lines().all(|l| l.chars().count() <= 80), "{screen}");

    // The question on screen is the first unfinished one, in the order a
    // student is best taken through them; its hint comes with `h`.
    let unfinished = Question::SUGGESTED.into_iter().find(|q| {
        let points = q.spec().points();
        !screen.contains(&format!("Q{} ✓ {points}/{points}", q.number()))
    });
    tmux.run(&["send-keys", "-t", "watch", "h"]);
    // (On the check that fails first, or the question's own first hint.)
    match unfinished {
        Some(q) => {
            assert!(screen.contains(&format!("Q{} {}", q.number(), q.title())), "Q{}:\n{screen}", q.number());
            tmux.wait_for(&format!("Q{}, ", q.number()), Duration::from_secs(10));
        }
        None => {
            assert!(screen.contains("] 100/100"), "{screen}");
            tmux.wait_for("Q1, hint 1 of", Duration::from_secs(10));
        }
    }

    // Quit: the watch ends with status 0, and leaves nothing behind.
    tmux.run(&["send-keys", "-t", "watch", "q"]);
    tmux.wait_for("watch exited with 0", Duration::from_secs(30));
    common::assert_nothing_left_running(Some(&ws));
}
