//! What marking costs: the three written answers of one submission (the
//! reference answers, the longest a student is likely to hand in), marked
//! as the grader marks them, median and worst over many rounds. The target
//! is under 50 ms for all three.
//!
//! ```sh
//! cargo bench -p grader --bench written
//! ```

use std::time::{Duration, Instant};

use grader::checks::written::mark;
use grader::rubric::Question;

const ROUNDS: usize = 200;

fn main() {
    let home = grader::engine::workspace::home();
    let answers: Vec<(Question, String)> = [Question::Q1, Question::Q2, Question::Q4]
        .into_iter()
        .map(|q| {
            let path = home.join(q.location());
            (q, std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        })
        .collect();
    // The first call reads and compiles the rubric: a grader pays it once.
    let started = Instant::now();
    let first: u32 = answers.iter().map(|(q, text)| mark(*q, text).total()).sum();
    let compile = started.elapsed();
    let mut times: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            let total: u32 = answers.iter().map(|(q, text)| mark(*q, text).total()).sum();
            assert_eq!(total, first, "the same answers, the same marks");
            started.elapsed()
        })
        .collect();
    times.sort();
    // The longest answer the grader reads (256 KB), one sentence without
    // punctuation: reading must stay linear.
    let flood: String =
        "the worker processes share the pool and run in parallel on every core instead of one "
            .repeat((256 << 10) / 86);
    let started = Instant::now();
    let flooded = mark(Question::Q4, &flood);
    let flood_time = started.elapsed();
    // The longest answer of analogies: a thousand things each said to be a
    // process, then spoken of.
    let analogies: String = (0..3000)
        .map(|i| {
            format!("Think of it like this: the thing{i} is a process. Each thing{i} has its own desk. ")
        })
        .collect::<String>()
        .chars()
        .take(256 << 10)
        .collect();
    let started = Instant::now();
    let analogised = mark(Question::Q1, &analogies);
    let analogy_time = started.elapsed();
    let words: usize = answers.iter().map(|(_, t)| t.split_whitespace().count()).sum();
    println!(
        "three answers ({words} words): first {:.1} ms (with the rubric compiled), then median {:.2} ms, worst {:.2} ms over {ROUNDS} rounds",
        compile.as_secs_f64() * 1e3,
        times[ROUNDS / 2].as_secs_f64() * 1e3,
        times[ROUNDS - 1].as_secs_f64() * 1e3,
    );
    println!(
        "a 256 KB answer without punctuation: {:.0} ms ({}/10, flagged: {})",
        flood_time.as_secs_f64() * 1e3,
        flooded.total(),
        grader::checks::flag::worded(&flooded.flags)
    );
    println!(
        "a 256 KB answer of a few thousand analogies: {:.0} ms ({}/10)",
        analogy_time.as_secs_f64() * 1e3,
        analogised.total()
    );
}
