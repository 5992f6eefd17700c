//! The benchmark's figures, as a reader sees them: the terminal table with
//! its targets, the README's table and the speedup plot. Each is made from
//! the JSON report alone (`--json FILE` writes it; `--from FILE` reads a
//! committed one), so that the README shows a run, never typed figures:
//! `tests/bench_report.rs` checks that it does.

use serde_json::Value;

/// The README's rows, in order: (key, what it measures, unit).
pub const ROWS: &[(&str, &str, &str)] = &[
    ("pipe_roundtrip_us", "bare pipe: round trip between two processes", "µs"),
    ("pipe_roundtrip_same_core_us", "bare pipe: round trip, both on one core", "µs"),
    ("pipe_roundtrip_cross_core_us", "bare pipe: round trip, on two cores", "µs"),
    ("pipe_throughput_us", "bare pipe: pipelined, per message", "µs"),
    ("pool_task_latency_us", "pool: one task sent, its result awaited", "µs"),
    ("pool_task_throughput_us", "pool: 10⁴ tiny tasks pipelined, one per message, per task", "µs"),
    ("fork_create_us", "process create + reap, fork", "µs"),
    ("spawn_create_us", "process create + reap, spawn (own executable)", "µs"),
    ("thread_create_us", "thread create + join", "µs"),
    ("map_10_item_ns", "pool: map x*x, 10 items, per item", "ns"),
    ("map_10000_item_ns", "pool: map x*x, 10⁴ items (chunked), per item", "ns"),
    ("map_1000000_item_ns", "pool: map x*x, 10⁶ items (chunked), per item", "ns"),
    ("rayon_item_ns", "rayon: map x*x, 10⁶ items, per item", "ns"),
    ("pool_startup_us", "pool start + map 4 + shut down", "µs"),
    ("cpu_speedup_2_workers", "CPU-bound speedup, 2 workers, process pool", "×"),
    ("rayon_cpu_speedup_2_workers", "CPU-bound speedup, 2 workers, rayon", "×"),
];

/// What each row must reach, as (key, how, bound): "faster" means Python's
/// figure over ours is at least `bound` (taken round by round where the row
/// was measured alternately); "near pipe" means ours over the bare pipe's is
/// at most `bound`; "at_least" means our figure is at least `bound`.
pub const TARGETS: &[(&str, &str, f64)] = &[
    ("fork_create_us", "faster", 10.0),
    ("pool_task_throughput_us", "faster", 10.0),
    ("pool_task_throughput_us", "near pipe", 2.0),
    ("pool_task_latency_us", "faster", 2.0),
    ("pool_task_latency_us", "near pipe", 2.0),
    ("cpu_speedup_2_workers", "at_least", 1.9),
    ("rayon_cpu_speedup_2_workers", "at_least", 1.9),
];

/// Python's time over ours for `key` (ours over Python's for a speedup):
/// the round-by-round ratio where the row was measured alternately, else
/// the ratio of the medians.
pub fn vs_python(report: &Value, key: &str) -> Option<f64> {
    if let Some(r) = report["ratios"][format!("{key} vs python")]["median"].as_f64() {
        return Some(r);
    }
    let ours = report[key].as_f64()?;
    let theirs = report["python"][key].as_f64()?;
    Some(if key.contains("speedup") { ours / theirs } else { theirs / ours })
}

/// Ours over the bare pipe's, round by round, for a row that has a limit.
pub fn vs_pipe(report: &Value, key: &str) -> Option<f64> {
    report["ratios"][format!("{key} vs pipe")]["median"].as_f64()
}

/// Each target of `key`, in words, met or not.
pub fn targets(report: &Value, key: &str) -> Vec<String> {
    TARGETS
        .iter()
        .filter(|(k, ..)| *k == key)
        .map(|&(_, how, bound)| {
            let (what, met) = match how {
                "faster" => (format!("≥{bound}× python"), vs_python(report, key).is_some_and(|r| r >= bound)),
                "near pipe" => (format!("≤{bound}× pipe"), vs_pipe(report, key).is_some_and(|r| r <= bound)),
                _ => (format!("≥{bound}"), report[key].as_f64().is_some_and(|v| v >= bound)),
            };
            format!("{what} {}", if met { "met" } else { "NOT met" })
        })
        .collect()
}

/// The terminal table: every figure, its spread, Python's, the ratios and
/// the targets.
pub fn terminal(report: &Value) -> String {
    let mut out = format!(
        "machine: {} cores, {}\n",
        report["machine"]["cores"],
        report["machine"]["cpu"].as_str().unwrap_or("?")
    );
    if let Some(version) = report["python"]["python_version"].as_str() {
        out += &format!("python: {version} (multiprocessing, fork unless the row says spawn)\n");
    }
    out += &format!(
        "{:<30} {:>11} {:>20} {:>11} {:>9} {:>8}  target\n",
        "measure", "rust", "rust p10-p90", "python", "vs python", "vs pipe"
    );
    let Some(figures) = report.as_object() else { return out };
    let mut keys: Vec<&String> = figures.keys().filter(|k| report[k.as_str()].is_f64()).collect();
    keys.sort_by_key(|k| {
        (k.contains("speedup"), k.contains("rayon"), !k.contains("task") && !k.contains("pipe"), *k)
    });
    for key in keys {
        let spread = &report["spread_p10_p90"][key.as_str()];
        out += &format!(
            "{key:<30} {:>11.3} {:>20} {:>11} {:>9} {:>8}  {}\n",
            report[key.as_str()].as_f64().unwrap_or(f64::NAN),
            format!(
                "{:.3}-{:.3}",
                spread[0].as_f64().unwrap_or(f64::NAN),
                spread[1].as_f64().unwrap_or(f64::NAN)
            ),
            report["python"][key.as_str()].as_f64().map_or("-".into(), |t| format!("{t:.3}")),
            vs_python(report, key).map_or("-".into(), |r| format!("{r:.2}×")),
            vs_pipe(report, key).map_or("-".into(), |r| format!("{r:.2}×")),
            targets(report, key).join(", ")
        );
    }
    out
}

/// A figure with its unit, as the README shows it.
fn shown(value: f64, unit: &str) -> String {
    match unit {
        "×" => format!("{value:.2}×"),
        _ if value >= 100.0 => format!("{value:.0} {unit}"),
        _ if value >= 1.0 => format!("{value:.1} {unit}"),
        _ => format!("{value:.3} {unit}"),
    }
}

/// The README's table, made from the report.
pub fn markdown(report: &Value) -> String {
    let python =
        report["python"]["python_version"].as_str().map_or("Python".to_string(), |v| format!("Python {v}"));
    let mut out = format!(
        "| measure | Rust: median (p10–p90) | {python} multiprocessing | Rust vs Python | vs bare pipe |\n|---|---|---|---|---|\n"
    );
    for &(key, label, unit) in ROWS {
        let Some(value) = report[key].as_f64() else { continue };
        let spread = &report["spread_p10_p90"][key];
        let range = match (spread[0].as_f64(), spread[1].as_f64()) {
            (Some(p10), Some(p90)) => format!(" ({}–{})", shown(p10, unit), shown(p90, unit)),
            _ => String::new(),
        };
        let theirs = report["python"][key].as_f64().map_or("—".into(), |t| shown(t, unit));
        let ratio = vs_python(report, key).map_or("—".into(), |r| {
            if unit == "×" { format!("{r:.2}×") } else { format!("{r:.1}× faster") }
        });
        let pipe = vs_pipe(report, key).map_or("—".into(), |r| format!("{r:.2}× the pipe"));
        out += &format!("| {label} | {}{range} | {theirs} | {ratio} | {pipe} |\n", shown(value, unit));
    }
    out
}

/// Speedup against workers, as an SVG line chart, from the report.
pub fn svg(report: &Value) -> String {
    let cores = report["machine"]["cores"].as_u64().unwrap_or(2).max(1) as usize;
    let (w, h, left, bottom, top, right) = (560.0, 360.0, 60.0, 50.0, 40.0, 150.0);
    let max_y = (cores as f64).max(2.0);
    let x = |workers: f64| left + (workers - 1.0) / (cores.max(2) as f64 - 1.0) * (w - left - right);
    let y = |speedup: f64| h - bottom - speedup / max_y * (h - bottom - top);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"20\" font-size=\"14\">CPU-bound speedup over sequential: 8 equal tasks</text>\n"
    );
    for tick in 0..=max_y as usize {
        let ty = y(tick as f64);
        svg += &format!(
            "<line x1=\"{left}\" y1=\"{ty}\" x2=\"{}\" y2=\"{ty}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{tick}×</text>\n",
            w - right,
            left - 6.0,
            ty + 4.0
        );
    }
    for workers in 1..=cores {
        let tx = x(workers as f64);
        svg += &format!(
            "<text x=\"{tx}\" y=\"{}\" text-anchor=\"middle\">{workers}</text>\n",
            h - bottom + 18.0
        );
    }
    svg += &format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">workers</text>\n",
        (left + w - right) / 2.0,
        h - 12.0
    );
    let series_of = |figures: &Value, prefix: &str| -> Option<Vec<f64>> {
        (1..=cores).map(|c| figures[format!("{prefix}cpu_speedup_{c}_workers")].as_f64()).collect()
    };
    let mut series: Vec<(&str, &str, Vec<f64>)> =
        vec![("ideal", "#999", (1..=cores).map(|c| c as f64).collect())];
    series.extend(series_of(report, "").map(|p| ("process pool", "#d62728", p)));
    series.extend(series_of(report, "rayon_").map(|p| ("rayon", "#1f77b4", p)));
    series.extend(series_of(&report["python"], "").map(|p| ("python multiprocessing", "#2ca02c", p)));
    for (i, (name, color, points)) in series.iter().enumerate() {
        let path: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(j, s)| format!("{:.1},{:.1}", x(j as f64 + 1.0), y(*s)))
            .collect();
        let dash = if *name == "ideal" { " stroke-dasharray=\"4 4\"" } else { "" };
        svg += &format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dash}/>\n",
            path.join(" ")
        );
        for (j, s) in points.iter().enumerate() {
            svg += &format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>\n",
                x(j as f64 + 1.0),
                y(*s)
            );
        }
        let ly = top + 20.0 * i as f64;
        svg += &format!(
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"2\"{dash}/><text x=\"{}\" y=\"{}\">{name}</text>\n",
            w - right + 10.0,
            w - right + 30.0,
            w - right + 35.0,
            ly + 4.0
        );
    }
    svg += "</svg>\n";
    svg
}

/// The markers around the table in the README.
pub const BEGIN: &str = "<!-- bench table: made by `cargo bench -p q5_pool -- --from exercises/q5_pool/benches/results.json --readme README.md` -->";
pub const END: &str = "<!-- end of bench table -->";

/// `readme` with its table replaced by the one made from `report`.
pub fn with_table(readme: &str, report: &Value) -> Option<String> {
    let start = readme.find(BEGIN)? + BEGIN.len();
    let end = start + readme[start..].find(END)?;
    Some(format!("{}\n{}{}", &readme[..start], markdown(report), &readme[end..]))
}
