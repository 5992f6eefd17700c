//! What supervision costs: the wall time of a supervised run of
//! `q6_four_procs` bare, in the sandbox, watched by the witness, and both
//! (as the grader runs every program), medians over many runs, taken in
//! turns so that a slow moment of the machine is shared out.
//!
//! ```sh
//! cargo bench -p grader --bench supervisor
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use grader::compile::{Build, build};
use grader::run::{Layers, RunSpec, Runner};

const RUNS: usize = 200;

fn main() {
    let workspace = grader::workspace::home();
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
            assert_eq!(seen.exit, grader::run::Exit::Code(0));
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
}
