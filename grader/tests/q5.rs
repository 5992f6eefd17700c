//! Q5: create a pool of worker processes.

mod common;
use common::check;
use grader::rubric::Question;

#[test]
fn q5_builds_runs_and_exits_0() {
    check("5.1");
}

#[test]
fn q5_worker_line_for_every_number() {
    check("5.2");
}

#[test]
fn q5_results_last_in_input_order() {
    check("5.3");
}

#[test]
fn q5_a_pool_not_a_process_per_number() {
    check("5.4");
}

#[test]
fn q5_random_numbers() {
    check("5.5");
}

#[test]
fn q5_edge_cases() {
    check("5.6");
}

#[test]
fn q5_bad_arguments() {
    check("5.7");
}

#[test]
fn q5_no_process_outlives_the_program() {
    check("5.8");
}

#[test]
fn q5_snapshot() {
    common::snapshot(Question::Q5, "q5_pool", "5.9");
}

#[test]
fn q5_more_numbers_than_the_pipes_hold_without_deadlock() {
    check("5.10");
}
