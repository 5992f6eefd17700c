//! Q6: create 4 processes, each printing a different number.

mod common;
use common::check;
use grader::rubric::Question;

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
