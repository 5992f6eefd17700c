//! `cargo run -p grader` grades the workspace it sits in and prints a
//! scorecard. Exit status: 0 at full marks, 1 when points are missing, 2 when
//! it could not grade.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use grader::grade::Context;
use grader::{report, sandbox, score, testing};

const ABOUT: &str = "Grades the Multiprocessing assignment: builds and runs the exercises, reads the answers, prints a scorecard.";

fn cli() -> Command {
    let grade_args = [
        Arg::new("json")
            .long("json")
            .value_name("FILE")
            .value_parser(value_parser!(PathBuf))
            .help("Also write Gradescope's results.json to FILE"),
        Arg::new("markdown")
            .long("markdown")
            .value_name("FILE")
            .value_parser(value_parser!(PathBuf))
            .help("Also write the scorecard as Markdown to FILE (for a CI job summary)"),
        Arg::new("workspace")
            .long("workspace")
            .value_name("DIR")
            .value_parser(value_parser!(PathBuf))
            .help("The workspace to grade [default: the one this grader sits in]"),
        Arg::new("no-witness")
            .long("no-witness")
            .action(ArgAction::SetTrue)
            .hide(true)
            .help("Do not trace the runs (process checks then rest on output alone)"),
        Arg::new("timeout")
            .long("timeout")
            .value_name("SECONDS")
            .value_parser(value_parser!(f64))
            .help("Time limit for each run of a program [default: 5]"),
    ];
    Command::new("grader")
        .about(ABOUT)
        .args(grade_args.clone())
        .subcommand(
            Command::new("grade")
                .about("Grade the workspace (the default)")
                .args(grade_args),
        )
        .subcommand(
            Command::new("supervise")
                .hide(true)
                .about("Run one program under supervision (used by the grader itself)")
                .arg(
                    Arg::new("timeout-ms")
                        .long("timeout-ms")
                        .required(true)
                        .value_parser(value_parser!(u64)),
                )
                .arg(
                    Arg::new("output-cap")
                        .long("output-cap")
                        .required(true)
                        .value_parser(value_parser!(usize)),
                )
                .arg(
                    Arg::new("process-cap")
                        .long("process-cap")
                        .default_value("64")
                        .value_parser(value_parser!(usize)),
                )
                .arg(
                    Arg::new("no-witness")
                        .long("no-witness")
                        .action(ArgAction::SetTrue),
                )
                .arg(
                    Arg::new("program")
                        .required(true)
                        .value_parser(value_parser!(PathBuf)),
                )
                .arg(
                    Arg::new("args")
                        .action(ArgAction::Append)
                        .allow_hyphen_values(true)
                        .trailing_var_arg(true),
                ),
        )
}

fn main() -> ExitCode {
    let matches = cli().get_matches();
    let result = match matches.subcommand() {
        Some(("supervise", m)) => supervise(m).map(|()| ExitCode::SUCCESS),
        Some(("grade", m)) => grade(m),
        _ => grade(&matches),
    };
    result.unwrap_or_else(|err| {
        eprintln!("grader: could not grade: {err:#}");
        ExitCode::from(2)
    })
}

fn supervise(m: &ArgMatches) -> Result<()> {
    let limits = sandbox::Limits {
        timeout: Duration::from_millis(*m.get_one::<u64>("timeout-ms").expect("required")),
        output_cap: *m.get_one::<usize>("output-cap").expect("required"),
        process_cap: *m.get_one::<usize>("process-cap").expect("has a default"),
        trace: !m.get_flag("no-witness"),
    };
    let program = m.get_one::<PathBuf>("program").expect("required");
    let args: Vec<String> = m
        .get_many::<String>("args")
        .map(|a| a.cloned().collect())
        .unwrap_or_default();
    sandbox::supervise(program, &args, &limits)
}

fn grade(m: &ArgMatches) -> Result<ExitCode> {
    let workspace = m
        .get_one::<PathBuf>("workspace")
        .cloned()
        .unwrap_or_else(testing::workspace);
    if !workspace.join("exercises").is_dir() && !workspace.join("answers").is_dir() {
        bail!(
            "{} is not an assignment workspace: it has neither exercises/ nor answers/",
            workspace.display()
        );
    }
    let workspace = workspace
        .canonicalize()
        .with_context(|| format!("reading {}", workspace.display()))?;
    let me = std::env::current_exe().context("finding the grader's own executable")?;
    let mut ctx = Context::new(workspace, me);
    if let Some(&seconds) = m.get_one::<f64>("timeout") {
        if !(seconds > 0.0 && seconds <= 600.0) {
            bail!("--timeout must be between 0 and 600 seconds, not {seconds}");
        }
        ctx.timeout = Duration::from_secs_f64(seconds);
    }

    ctx.witness = !m.get_flag("no-witness");

    let progress = std::io::stderr().is_terminal();
    let card = score::grade_all(&ctx, |q| {
        if progress {
            eprint!("\r\x1b[2Kgrading Q{} ({})…", q.number(), q.location());
        }
    });
    if progress {
        eprint!("\r\x1b[2K");
    }
    let color = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    print!("{}", report::terminal(&card, color));
    if let Some(path) = m.get_one::<PathBuf>("json") {
        let text = serde_json::to_string_pretty(&report::json(&card))?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = m.get_one::<PathBuf>("markdown") {
        std::fs::write(path, report::markdown(&card))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if card.full_marks() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
