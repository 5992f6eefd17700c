//! Q3: write code that creates a process.

mod common;
use common::check;
use grader::rubric::Question;

#[test]
fn q3_builds_runs_and_exits_0() {
    check("3.1");
}

#[test]
fn q3_prints_the_three_lines() {
    check("3.2");
}

#[test]
fn q3_worker_is_a_process_of_its_own() {
    check("3.3");
}

#[test]
fn q3_worker_parent_is_main_process() {
    check("3.4");
}

#[test]
fn q3_main_waits_then_prints_last_line() {
    check("3.5");
}

#[test]
fn q3_snapshot() {
    common::snapshot(Question::Q3, "q3_process", "3.6");
}
