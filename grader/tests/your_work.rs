//! Every check of the rubric, as a test named after its question
//! (`answers_q1_…`, `q3_…`, `q5_…`, `q6_…`), each failing with the check's
//! own message exactly when it loses points. One test target, so that
//! `cargo test -p grader` shows every check of every question, passed or
//! failed; `cargo test -p grader -- q6` runs those of one question. Named
//! to run after the grader's own tests: cargo stops at the first target
//! that fails, and until the work is done, this one does.

mod common;
use common::check;
use grader::rubric::Question;

// Q1, Q2, Q4: the written answers (checked automatically; the instructor may re-grade).

#[test]
fn answers_q1_written_out() {
    check("1.1");
}

#[test]
fn answers_q1_key_concepts() {
    check("1.2");
}

#[test]
fn answers_q2_written_out() {
    check("2.1");
}

#[test]
fn answers_q2_key_concepts() {
    check("2.2");
}

#[test]
fn answers_q4_written_out() {
    check("4.1");
}

#[test]
fn answers_q4_key_concepts() {
    check("4.2");
}

// Q3: write code that creates a process.

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

#[test]
fn q3_reports_the_workers_real_exit_status() {
    check("3.7");
}

#[test]
fn q3_spawn_runs_the_program_again() {
    check("3.8");
}

// Q5: create a pool of worker processes.

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

// Q6: create 4 processes, each printing a different number.

#[test]
fn q6_builds_runs_and_exits_0() {
    check("6.1");
}

#[test]
fn q6_prints_numbers_1_to_4() {
    check("6.2");
}

#[test]
fn q6_each_number_from_its_own_process() {
    check("6.3");
}

#[test]
fn q6_parent_waits_then_prints_last_line() {
    check("6.4");
}

#[test]
fn q6_no_process_outlives_the_program() {
    check("6.5");
}

#[test]
fn q6_snapshot() {
    common::snapshot(Question::Q6, "q6_four_procs", "6.6");
}
