//! What supervision costs: the wall time of a supervised run of
//! `q6_four_procs` bare, in the sandbox, watched by the witness, and both
//! (as the grader runs every program), medians over many runs, taken in
//! turns so that a slow moment of the machine is shared out. Then what
//! seeing who wrote each line costs (every write to fd 1 stops at the
//! witness): `q5_pool` on many numbers, a line per number, in the sandbox
//! with the witness and without.
//!
//! ```sh
//! cargo bench -p grader --bench supervisor
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use grader::engine::compile::{Build, build};
use grader::engine::run::{Layers, RunSpec, Runner};

const RUNS: usize = 200;

fn main() {
    let workspace = grader::engine::workspace::home();
    let runner = Runner::new(PathBuf::from(env!("CARGO_BIN_EXE_grader")));
    let q6 =
        build(&runner, &Build::new(&workspace, &workspace, "q6_four_procs")).expect("q6_four_procs builds");
    let configurations = [(false, false), (true, false), (false, true), (true, true)];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); configurations.len()];
    // Warm up the page cache and the binaries, then alternate.
    for round in 0..RUNS + 20 {
        for (i, &(sandbox, witness)) in configurations.iter().enumerate() {
            let spec = RunSpec::new(&q6.binary).sandbox(sandbox.then_some(Layers::ALL)).witness(witness);
            let started = Instant::now();
            let seen = runner.run(&spec).expect("a supervised run");
            let took = started.elapsed();
            assert_eq!(seen.witness.is_ok(), witness, "{:?}", seen.witness);
            assert!(
                !sandbox || seen.sandbox.complete(),
                "the sandbox is not fully in force here: {:?}",
                seen.sandbox
            );
            assert_eq!(seen.exit, grader::engine::run::Exit::Code(0));
            if round >= 20 {
                times[i].push(took);
            }
        }
    }
    for t in &mut times {
        t.sort();
    }
    let median = |t: &[Duration]| t[t.len() / 2];
    let p90 = |t: &[Duration]| t[t.len() * 9 / 10];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("supervised run of q6_four_procs, {RUNS} runs each (median, 90th percentile):");
    let names = ["bare", "sandbox", "witness", "sandbox + witness (as graded)"];
    for (name, t) in names.iter().zip(&times) {
        println!("  {name:<30} {:6.2} ms  {:6.2} ms", ms(median(t)), ms(p90(t)));
    }
    // Each against the run as graded without it (an untraced run pays for a
    // count of the user's processes the witness makes unneeded).
    let added = |with: usize, without: usize| ms(median(&times[with])) - ms(median(&times[without]));
    println!("  the sandbox adds:  {:6.2} ms (target: under 20 ms)", added(3, 2));
    println!("  the witness adds:  {:6.2} ms (target: under 50 ms)", added(3, 1));
    writes(&runner, &workspace);
}

/// The cost of write attribution, per line written.
fn writes(runner: &Runner, workspace: &std::path::Path) {
    const RUNS: usize = 10;
    let q5 = build(runner, &Build::new(workspace, workspace, "q5_pool")).expect("q5_pool builds");
    for numbers in [1_000usize, 31_000] {
        let mut args = vec!["--workers".to_string(), "3".to_string(), "--".to_string()];
        args.extend((0..numbers as i64).map(|i| (100_000_000_000_000_000 + i * 7919).to_string()));
        let mut limits = grader::rubric::LIMITS;
        limits.timeout_ms = 60_000;
        limits.output_cap = 8 << 20;
        let mut times = [Vec::new(), Vec::new()];
        for round in 0..RUNS + 2 {
            for (i, witness) in [false, true].into_iter().enumerate() {
                let spec = RunSpec::new(&q5.binary)
                    .args(args.clone())
                    .limits(limits)
                    .sandbox(Some(Layers::ALL))
                    .witness(witness);
                let started = Instant::now();
                let seen = runner.run(&spec).expect("a supervised run");
                let took = started.elapsed();
                assert_eq!(seen.exit, grader::engine::run::Exit::Code(0), "{:?}", seen.stopped);
                if witness {
                    let authors = seen.witness.as_ref().ok().and_then(|w| w.authors.as_ref().ok());
                    let seen_lines = authors.map_or(0, |a| a.lines.iter().flatten().count());
                    assert_eq!(seen_lines, numbers + 2, "every line's writer seen");
                }
                if round >= 2 {
                    times[i].push(took);
                }
            }
        }
        for t in &mut times {
            t.sort();
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let (without, with) = (ms(times[0][RUNS / 2]), ms(times[1][RUNS / 2]));
        println!(
            "q5_pool on {numbers} numbers ({} lines), sandboxed, median of {RUNS}: {without:.1} ms untraced, {with:.1} ms traced: {:.1} µs a line",
            numbers + 2,
            (with - without) * 1000.0 / (numbers + 2) as f64
        );
    }
}
