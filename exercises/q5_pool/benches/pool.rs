//! What processes, pools and threads cost, against Python's multiprocessing.
//!
//! ```sh
//! cargo bench -p q5_pool                      # the table
//! cargo bench -p q5_pool -- --json FILE       # every figure as JSON
//! cargo bench -p q5_pool -- --svg FILE        # speedup against workers
//!                                             # (FILE relative to the workspace root)
//! cargo bench -p q5_pool -- --quick           # fewer repeats
//! cargo bench -p q5_pool -- --readme README.md # the README's table
//! cargo bench -p q5_pool -- --from FILE ...    # no measuring: render FILE
//! ```
//!
//! Every figure is a median over repeated runs, with the 10th and 90th
//! percentiles as its spread. Measures that fork come first, while this
//! process still has one thread (see `ProcessPool::start`); threads and rayon
//! come last.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork};
use q5_pool::ProcessPool;

/// The benchmark's own pool, grown for speed (not part of the exercise).
mod chunked;
use chunked::{ChunkedPool, max_chunk};

/// Two processes and two pipes, nothing else: the limit.
mod pipe;
/// The table, the README's table and the plot, from the JSON report.
mod report;
use rayon::prelude::*;
use serde_json::{Value, json};

/// Set when this benchmark runs itself as a child, to measure spawning.
const CHILD_ENV: &str = "Q5_POOL_BENCH_CHILD";
/// Iterations of one CPU-bound task (tens of milliseconds).
const SPIN: i64 = 40_000_000;

/// A median and its spread.
#[derive(Debug, Clone, Copy)]
struct Stat {
    median: f64,
    p10: f64,
    p90: f64,
}

/// Runs `f` `repeats` times and returns the statistics of `scale(elapsed)`.
fn measure(repeats: usize, mut f: impl FnMut(), scale: impl Fn(Duration) -> f64) -> Stat {
    f(); // warm up
    summarize(
        (0..repeats)
            .map(|_| {
                let start = Instant::now();
                f();
                scale(start.elapsed())
            })
            .collect(),
    )
}

/// The median and the 10th and 90th percentiles of `values`.
fn summarize(mut values: Vec<f64>) -> Stat {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    Stat { median: at(0.5), p10: at(0.1), p90: at(0.9) }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// An equal, CPU-bound task: a linear congruential generator run `n` times.
fn spin(n: i64) -> i128 {
    let mut x: u64 = 0;
    for _ in 0..black_box(n) {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    }
    i128::from(x)
}

fn square(x: i64) -> anyhow::Result<i128> {
    Ok(i128::from(x) * i128::from(x))
}

fn main() -> anyhow::Result<()> {
    if std::env::var_os(CHILD_ENV).is_some() {
        return Ok(()); // the spawned child: start, and leave at once
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    // cargo runs benchmarks in the package's directory: read a relative path
    // from the workspace root, where the command was most likely typed.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let option = |name: &str| {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(|path| root.join(path))
    };
    if let Some(path) = option("--from") {
        // Render a committed run: no measuring.
        let report: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        return write_outputs(&report, &option);
    }
    let quick = args.iter().any(|a| a == "--quick");
    let reps = |full: usize| if quick { (full / 5).max(3) } else { full };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut rust: BTreeMap<String, Stat> = BTreeMap::new();

    // --- Everything that forks, while this process has a single thread. ---
    let me = std::env::current_exe()?;
    rust.insert(
        "spawn_create_us".into(),
        measure(reps(100), || assert!(Command::new(&me).env(CHILD_ENV, "1").status().unwrap().success()), us),
    );
    // Per task, against the pipe's own limit and against Python, measured
    // alternately, round after round, so that each ratio compares figures
    // taken moments apart (see `per_task`).
    let per_task = per_task(if quick { 3 } else { 9 }, cores)?;
    let ratios = per_task.ratios;
    rust.extend(per_task.rust);
    // SAFETY: single-threaded here.
    let mut pool = unsafe { ChunkedPool::with_chunks(cores, max_chunk(), square) }?;
    for size in [10usize, 10_000, 1_000_000] {
        let numbers: Vec<i64> = (0..size as i64).collect();
        let stat = measure(
            reps(if size == 1_000_000 { 10 } else { 50 }),
            || {
                black_box(pool.map(&numbers).unwrap());
            },
            |d| d.as_secs_f64() * 1e9 / size as f64,
        );
        rust.insert(format!("map_{size}_item_ns"), stat);
    }
    rust.insert("pool_chunked_item_ns".into(), rust["map_1000000_item_ns"]);
    pool.join()?;
    rust.insert(
        "pool_startup_us".into(),
        measure(
            reps(50),
            || {
                // SAFETY: single-threaded here.
                let mut pool = unsafe { ProcessPool::start(4, square) }.unwrap();
                black_box(pool.map(&[1, 2, 3, 4]).unwrap());
                pool.join().unwrap();
            },
            us,
        ),
    );
    let work = vec![SPIN; 8];
    // Each side timed in a block of its own, back to back: a core left idle
    // between two runs wakes slowly, and would count against the parallel side.
    let sequential =
        measure(reps(5), || drop(black_box(work.iter().map(|&n| spin(n)).collect::<Vec<_>>())), us);
    for workers in 1..=cores {
        // SAFETY: single-threaded here.
        let mut pool = unsafe { ProcessPool::start(workers, |n| Ok(spin(n))) }?;
        let parallel = measure(reps(5), || drop(black_box(pool.map(&work).unwrap())), us);
        pool.join()?;
        rust.insert(format!("cpu_speedup_{workers}_workers"), speedup(sequential, parallel));
    }

    // --- Threads from here on: no more forks. ---
    rust.insert(
        "thread_create_us".into(),
        measure(reps(500), || std::thread::spawn(|| black_box(1)).join().map(drop).unwrap(), us),
    );
    let threads = rayon::ThreadPoolBuilder::new().num_threads(cores).build()?;
    let numbers: Vec<i64> = (0..1_000_000).collect();
    rust.insert(
        "rayon_item_ns".into(),
        measure(
            reps(10),
            || {
                threads.install(|| {
                    drop(black_box(numbers.par_iter().map(|&x| square(x).unwrap()).collect::<Vec<_>>()))
                })
            },
            |d| d.as_secs_f64() * 1e9 / numbers.len() as f64,
        ),
    );
    for workers in 1..=cores {
        let threads = rayon::ThreadPoolBuilder::new().num_threads(workers).build()?;
        let parallel = measure(
            reps(5),
            || threads.install(|| drop(black_box(work.par_iter().map(|&n| spin(n)).collect::<Vec<_>>()))),
            us,
        );
        rust.insert(format!("rayon_cpu_speedup_{workers}_workers"), speedup(sequential, parallel));
    }

    let mut python = run_python(quick);
    if let (Some(p), Some(served)) = (python.as_mut(), per_task.python.as_ref()) {
        for (key, value) in served {
            p[key.as_str()] = json!(value.median);
        }
        p["spread_p10_p90"] =
            json!(served.iter().map(|(k, s)| (k.clone(), [s.p10, s.p90])).collect::<BTreeMap<_, _>>());
    }
    let machine = json!({"cores": cores, "cpu": cpu_model()});
    let medians: BTreeMap<&String, f64> = rust.iter().map(|(k, s)| (k, s.median)).collect();
    let spreads: BTreeMap<&String, [f64; 2]> = rust.iter().map(|(k, s)| (k, [s.p10, s.p90])).collect();
    let mut report = json!(medians);
    report["spread_p10_p90"] = json!(spreads);
    report["machine"] = machine;
    report["python"] = python.clone().unwrap_or(Value::Null);
    report["ratios"] = json!(
        ratios
            .iter()
            .map(|(k, s)| (k.clone(), json!({"median": s.median, "p10": s.p10, "p90": s.p90})))
            .collect::<BTreeMap<_, _>>()
    );
    print!("{}", report::terminal(&report));
    write_outputs(&report, &option)
}

/// Writes what the options ask for: `--json`, `--svg`, `--readme` (the
/// table between its markers).
fn write_outputs(report: &Value, option: &dyn Fn(&str) -> Option<std::path::PathBuf>) -> anyhow::Result<()> {
    if let Some(path) = option("--json") {
        std::fs::write(&path, serde_json::to_string_pretty(report)? + "\n")?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = option("--svg") {
        std::fs::write(&path, report::svg(report))?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = option("--readme") {
        let readme = std::fs::read_to_string(&path)?;
        let Some(updated) = report::with_table(&readme, report) else {
            anyhow::bail!("{} has no bench table markers", path.display());
        };
        std::fs::write(&path, updated)?;
        println!("wrote the table of {}", path.display());
    }
    Ok(())
}

/// The per-task figures, measured round after round.
struct PerTask {
    rust: BTreeMap<String, Stat>,
    /// Python's, by the same keys (none without python3).
    python: Option<BTreeMap<String, Stat>>,
    /// Each ratio taken within a round, then summarized: "vs python"
    /// (Python's time over ours) and "vs pipe" (ours over the bare pipe's).
    ratios: BTreeMap<String, Stat>,
}

/// Tasks of the throughput map, round trips of the latency measure, and
/// processes created per round (Python's take ten times as long).
const MAP_TASKS: usize = 10_000;
const ROUND_TRIPS: usize = 2_000;
const FORKS: usize = 100;
const PYTHON_FORKS: usize = 20;

/// Microseconds to fork a child that leaves at once and to reap it, over `n`.
fn fork_create_us(n: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        // SAFETY: single-threaded here; the child leaves with `_exit` at once.
        match unsafe { fork() }.expect("fork") {
            // SAFETY: `_exit` ends the child at once, running none of our code.
            ForkResult::Child => unsafe { nix::libc::_exit(0) },
            ForkResult::Parent { child } => {
                waitpid(child, None).expect("waitpid");
            }
        }
    }
    us(start.elapsed()) / n as f64
}

/// Each round measures, one right after the other: the pool's pipelined
/// throughput and its latency (the benchmark's pool, one worker, one number
/// per task: one message each), the bare pipe's limits, creating a process,
/// and Python doing the same (a `python_pool.py --serve` process, so that
/// its `Pool(1)` stays up). The pool and the echoing children are forked
/// first; no thread is ever started here, so the forks of each round are
/// safe.
fn per_task(rounds: usize, cores: usize) -> anyhow::Result<PerTask> {
    // SAFETY: single-threaded here (the threads of `map` are joined before it returns).
    let mut pool = unsafe { ChunkedPool::with_chunks(1, 1, square) }?;
    // SAFETY: as above.
    let echo = unsafe { pipe::Echo::start(None) };
    let pinned = if cores >= 2 {
        // SAFETY: as above.
        Some(unsafe { (pipe::Echo::start(Some(0)), pipe::Echo::start(Some(1))) })
    } else {
        None
    };
    let mut python = PythonServer::start();
    let numbers: Vec<i64> = (0..MAP_TASKS as i64).collect();
    black_box(pool.map(&numbers)?);
    let mut samples: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut theirs: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    // Creating a process, alternately, in rounds of its own: a hundred forks
    // would disturb the figures of the rounds below.
    for _ in 0..rounds {
        samples.entry("fork_create_us").or_default().push(fork_create_us(FORKS));
        match python.as_mut().map(|server| server.ask("fork", PYTHON_FORKS)) {
            Some(Some(f)) => theirs.entry("fork_create_us").or_default().push(f),
            Some(None) => python = None,
            None => {}
        }
    }
    for _ in 0..rounds {
        let start = Instant::now();
        black_box(pool.map(&numbers)?);
        samples.entry("pool_task_throughput_us").or_default().push(us(start.elapsed()) / MAP_TASKS as f64);
        let start = Instant::now();
        for x in 0..ROUND_TRIPS as i64 {
            black_box(pool.map(&[x])?);
        }
        samples.entry("pool_task_latency_us").or_default().push(us(start.elapsed()) / ROUND_TRIPS as f64);
        samples.entry("pipe_throughput_us").or_default().push(echo.pipelined_us(MAP_TASKS, 2048));
        samples.entry("pipe_roundtrip_us").or_default().push(echo.round_trip_us(ROUND_TRIPS));
        if let Some(server) = python.as_mut() {
            match (server.ask("throughput", MAP_TASKS), server.ask("latency", ROUND_TRIPS)) {
                (Some(t), Some(l)) => {
                    theirs.entry("pool_task_throughput_us").or_default().push(t);
                    theirs.entry("pool_task_latency_us").or_default().push(l);
                }
                _ => python = None,
            }
        }
        if let Some((same, other)) = &pinned {
            pipe::pin(0);
            samples.entry("pipe_roundtrip_same_core_us").or_default().push(same.round_trip_us(ROUND_TRIPS));
            samples.entry("pipe_roundtrip_cross_core_us").or_default().push(other.round_trip_us(ROUND_TRIPS));
            pipe::unpin(cores);
        }
    }
    // Python inherited the pipes of the pool (`Command` closes only the
    // descriptors marked close-on-exec): it goes first, or no worker would
    // see the end of its queue.
    drop(python);
    pool.join()?;
    let stat = |values: &[f64]| summarize(values.to_vec());
    let per_round = |a: &[f64], b: &[f64]| summarize(a.iter().zip(b).map(|(x, y)| x / y).collect());
    let mut ratios = BTreeMap::new();
    for (row, limit) in
        [("pool_task_throughput_us", "pipe_throughput_us"), ("pool_task_latency_us", "pipe_roundtrip_us")]
    {
        ratios.insert(format!("{row} vs pipe"), per_round(&samples[row], &samples[limit]));
    }
    for row in ["pool_task_throughput_us", "pool_task_latency_us", "fork_create_us"] {
        if let Some(python) = theirs.get(row).filter(|p| p.len() == rounds) {
            ratios.insert(format!("{row} vs python"), per_round(python, &samples[row]));
        }
    }
    let complete = theirs.len() == 3 && theirs.values().all(|v| v.len() == rounds);
    Ok(PerTask {
        rust: samples.iter().map(|(k, v)| (k.to_string(), stat(v))).collect(),
        python: complete.then(|| theirs.iter().map(|(k, v)| (k.to_string(), stat(v))).collect()),
        ratios,
    })
}

/// `python_pool.py --serve`: a Python `Pool(1)` answering one command at a time.
struct PythonServer {
    child: std::process::Child,
    replies: std::io::BufReader<std::process::ChildStdout>,
}

impl PythonServer {
    fn start() -> Option<PythonServer> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/python_pool.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--serve")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .ok()?;
        let replies = std::io::BufReader::new(child.stdout.take()?);
        Some(PythonServer { child, replies })
    }

    /// Microseconds per task of `command` over `n` tasks.
    fn ask(&mut self, command: &str, n: usize) -> Option<f64> {
        use std::io::{BufRead, Write};
        writeln!(self.child.stdin.as_mut()?, "{command} {n}").ok()?;
        let mut line = String::new();
        self.replies.read_line(&mut line).ok()?;
        line.trim().parse().ok()
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Speedup of `parallel` over `sequential`, with the spread carried over.
fn speedup(sequential: Stat, parallel: Stat) -> Stat {
    Stat {
        median: sequential.median / parallel.median,
        p10: sequential.median / parallel.p90,
        p90: sequential.median / parallel.p10,
    }
}

/// Runs `benches/python_pool.py`, if python3 is here.
fn run_python(quick: bool) -> Option<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/python_pool.py");
    let mut command = Command::new("python3");
    command.arg(script);
    if quick {
        command.arg("--quick");
    }
    match command.output() {
        Ok(out) if out.status.success() => serde_json::from_slice(&out.stdout).ok(),
        Ok(out) => {
            eprintln!("python_pool.py failed: {}", String::from_utf8_lossy(&out.stderr));
            None
        }
        Err(_) => {
            eprintln!("python3 is not here: no Python figures");
            None
        }
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown".into())
}
