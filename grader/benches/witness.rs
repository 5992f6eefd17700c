//! What the process witness costs: the wall time of a supervised run of
//! `q6_four_procs` with and without ptrace tracing, medians over many runs.
//!
//! ```sh
//! cargo bench -p grader --bench witness
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use grader::compile::{Build, build};
use grader::run::{RunSpec, Runner};

const RUNS: usize = 200;

fn main() {
    let workspace = grader::workspace::home();
    let q6 = build(&Build::new(&workspace, "q6_four_procs")).expect("q6_four_procs builds");
    let runner = Runner::new(PathBuf::from(env!("CARGO_BIN_EXE_grader")));
    let time = |witness: bool| -> Vec<Duration> {
        let spec = RunSpec::new(&q6).witness(witness);
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                let seen = runner.run(&spec).expect("a supervised run");
                assert_eq!(seen.witness.is_some(), witness, "{:?}", seen.witness_error);
                started.elapsed()
            })
            .collect();
        times.sort();
        times
    };
    // Warm up the page cache and the binaries, then alternate to share out noise.
    let _ = (time(true), time(false));
    let (traced, untraced) = (time(true), time(false));
    let median = |t: &[Duration]| t[t.len() / 2];
    let p90 = |t: &[Duration]| t[t.len() * 9 / 10];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("supervised run of q6_four_procs, {RUNS} runs each (median, 90th percentile):");
    println!("  without witness: {:6.2} ms  {:6.2} ms", ms(median(&untraced)), ms(p90(&untraced)));
    println!("  with witness:    {:6.2} ms  {:6.2} ms", ms(median(&traced)), ms(p90(&traced)));
    println!(
        "  witness adds:    {:6.2} ms (target: under 50 ms)",
        ms(median(&traced)) - ms(median(&untraced))
    );
}
