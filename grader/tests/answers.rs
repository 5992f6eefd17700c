//! Q1, Q2, Q4: the written answers (checked automatically; the instructor
//! may re-grade).

mod common;
use common::check;

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
