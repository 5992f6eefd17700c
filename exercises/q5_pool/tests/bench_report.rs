//! The README's benchmark table and plot are a committed run's, never typed:
//! both are made from `benches/results.json` by the benchmark's own report
//! code. After a new run (`cargo bench -p q5_pool -- --json
//! exercises/q5_pool/benches/results.json --svg
//! exercises/q5_pool/benches/speedup.svg --readme README.md`), this holds.

#[path = "../benches/report.rs"]
#[allow(dead_code)] // the terminal table is the benchmark's only
mod report;

use std::path::Path;

fn committed() -> serde_json::Value {
    let json =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/results.json")).unwrap();
    serde_json::from_str(&json).unwrap()
}

#[test]
fn the_readme_table_is_the_committed_run() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let made = report::with_table(&readme, &committed()).expect("the README has the table's markers");
    assert!(
        made == readme,
        "the README's table is not the committed run's: run\n  cargo bench -p q5_pool -- --from exercises/q5_pool/benches/results.json --readme README.md"
    );
}

#[test]
fn the_plot_is_the_committed_run() {
    let svg =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/speedup.svg")).unwrap();
    assert!(report::svg(&committed()) == svg, "the plot is not the committed run's: run --from … --svg");
}

#[test]
fn the_committed_run_has_the_keys_the_table_is_made_from() {
    let report = committed();
    for key in ["pool_task_throughput_us", "pool_task_latency_us", "pipe_roundtrip_us", "pipe_throughput_us"]
    {
        assert!(report[key].is_f64(), "{key}");
    }
    for key in ["pool_task_throughput_us", "pool_task_latency_us"] {
        assert!(report["python"][key].is_f64(), "python {key}");
        assert!(report["ratios"][format!("{key} vs python")]["median"].is_f64(), "{key} vs python");
        assert!(report["ratios"][format!("{key} vs pipe")]["median"].is_f64(), "{key} vs pipe");
    }
}
