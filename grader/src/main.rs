//! `cargo run -p grader` grades the workspace it sits in and prints a
//! scorecard. Exit status: 0 at full marks, 1 when points are missing, 2 when
//! it could not grade.
//!
//! Subcommands: `grade` (the default; `--submission DIR` grades another
//! checkout with this grader), `batch` (a whole class, into a gradebook),
//! `release` (the repository students fork), and the hidden `supervise`,
//! which runs one program in the sandbox for the grader itself.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use grader::batch::{Batch, Submission, batch};
use grader::grade::Context;
use grader::release::release;
use grader::roster::{Fetch, fetch_all, read_roster};
use grader::rubric::Question;
use grader::run::{Limits, Runner};
use grader::score::Scorecard;
use grader::submission::Options;
use grader::{report, rubric, score, submission, supervisor, workspace};

const ABOUT: &str = "Grades the Multiprocessing assignment: builds and runs the exercises, reads the answers, prints a scorecard.";

fn path_arg(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).long(name).value_name("PATH").value_parser(value_parser!(PathBuf)).help(help)
}

/// The flags that set the limits of every run, and the sandbox's.
fn limit_args() -> Vec<Arg> {
    let l = rubric::LIMITS;
    let number = |name: &'static str, unit: &'static str, help: String| {
        Arg::new(name)
            .long(name)
            .value_name(unit)
            .value_parser(value_parser!(u64).range(1..=1 << 20))
            .help(help)
    };
    vec![
        Arg::new("timeout")
            .long("timeout")
            .value_name("SECONDS")
            .value_parser(value_parser!(f64))
            .help(format!("Time limit of each run of a program [default: {}]", l.timeout_ms as f64 / 1000.0)),
        number(
            "memory",
            "MiB",
            format!("Memory of a program's processes, each and together [default: {}]", l.memory_mib),
        ),
        number(
            "file-size",
            "MiB",
            format!("What a program may write to disk [default: {}]", l.file_size_mib),
        ),
        number("cpu-time", "SECONDS", format!("CPU time of each process [default: {}]", l.cpu_seconds)),
        number("open-files", "N", format!("Files each process may have open [default: {}]", l.open_files)),
        number("processes", "N", format!("Processes a program may create [default: {}]", l.processes)),
        Arg::new("require-sandbox")
            .long("require-sandbox")
            .action(ArgAction::SetTrue)
            .help("Refuse to grade unless every protection of the sandbox is in force here"),
    ]
}

fn grade_args() -> Vec<Arg> {
    let question =
        |s: &str| Question::parse(s).ok_or_else(|| format!("{s:?} is not a question (1 to 6, or q1 to q6)"));
    let mut args = vec![
        Arg::new("question")
            .value_name("QUESTION")
            .value_parser(question)
            .help("Grade this question only: q6, or 6"),
        Arg::new("question-flag")
            .long("question")
            .value_name("N")
            .value_parser(question)
            .conflicts_with("question")
            .help("Grade this question only (as the QUESTION argument)"),
        path_arg("json", "Also write Gradescope's results.json to this file"),
        path_arg("markdown", "Also write the scorecard as Markdown to this file (for a CI job summary)"),
        path_arg("workspace", "The workspace to grade [default: the one this grader sits in]"),
        path_arg(
            "submission",
            "Grade another checkout's exercises/ and answers/ with this grader, leaving it untouched",
        ),
        Arg::new("no-witness")
            .long("no-witness")
            .action(ArgAction::SetTrue)
            .hide(true)
            .help("Do not trace the runs (process checks then rest on output alone)"),
    ];
    args.extend(limit_args());
    args
}

fn cli() -> Command {
    Command::new("grader")
        .about(ABOUT)
        .version(env!("CARGO_PKG_VERSION"))
        .args(grade_args())
        .subcommand(Command::new("grade").about("Grade the workspace (the default)").args(grade_args()))
        .subcommand(
            Command::new("batch")
                .about("Grade many submissions (checkouts of students' repositories, or a roster of them) into OUT/gradebook.csv")
                .arg(Arg::new("dirs").value_name("DIR").num_args(1..).value_parser(value_parser!(PathBuf)))
                .arg(
                    path_arg("roster", "A CSV of `student,repository` (a URL git can clone, or a path): each is cloned or fetched, then graded")
                        .required_unless_present("dirs"),
                )
                .arg(path_arg("cache", "Where the roster's repositories are kept between batches [default: OUT/.repositories]"))
                .arg(
                    Arg::new("before")
                        .long("before")
                        .value_name("DATE")
                        .requires("roster")
                        .help("Grade each repository's last commit before this date (e.g. 2026-12-01T23:59:59Z); commit dates are the student's to set"),
                )
                .arg(path_arg("out", "Where to write gradebook.csv and each submission's results.json").required(true))
                .arg(
                    Arg::new("jobs")
                        .long("jobs")
                        .value_parser(value_parser!(usize))
                        .help("Submissions graded at once [default: the number of cores]"),
                )
                .args(limit_args()),
        )
        .subcommand(
            Command::new("release")
                .about("Write the assignment repository: solutions replaced by todo!(), the students' README, its workflow pinned to its own first commit")
                .arg(Arg::new("out").value_name("OUT_DIR").required(true).value_parser(value_parser!(PathBuf)))
                .arg(
                    Arg::new("repository")
                        .long("repository")
                        .value_name("OWNER/NAME")
                        .required(true)
                        .help("The public GitHub repository the assignment will be pushed to (never this one)"),
                )
                .arg(Arg::new("no-git").long("no-git").action(ArgAction::SetTrue).help("Do not make the release a git repository (its workflow then stays unpinned)")),
        )
        .subcommand(
            Command::new("supervise")
                .hide(true)
                .about("Run one program under supervision, as the request on stdin says (used by the grader itself)"),
        )
}

fn main() -> ExitCode {
    let matches = cli().get_matches();
    let (result, failed) = match matches.subcommand() {
        Some(("supervise", _)) => (supervisor::serve().map(|()| ExitCode::SUCCESS), "supervise"),
        Some(("batch", m)) => (run_batch(m), "grade the batch"),
        Some(("release", m)) => (run_release(m), "release"),
        Some(("grade", m)) => (grade(m), "grade"),
        _ => (grade(&matches), "grade"),
    };
    result.unwrap_or_else(|err| {
        // The error may quote a submission's file names.
        eprintln!("grader: could not {failed}: {}", report::printable(&format!("{err:#}")));
        ExitCode::from(2)
    })
}

/// This grader's executable, which supervises every run.
fn me() -> Result<PathBuf> {
    std::env::current_exe().context("finding the grader's own executable")
}

/// The limits the flags set, over the rubric's.
fn limits(m: &ArgMatches) -> Result<Limits> {
    let mut limits = rubric::LIMITS;
    match m.get_one::<f64>("timeout") {
        Some(&s) if s > 0.0 && s <= 600.0 => limits.timeout_ms = (s * 1000.0).round() as u64,
        Some(s) => bail!("--timeout must be between 0 and 600 seconds, not {s}"),
        None => {}
    }
    let number = |name: &str| m.get_one::<u64>(name).copied();
    limits.memory_mib = number("memory").unwrap_or(limits.memory_mib);
    limits.file_size_mib = number("file-size").unwrap_or(limits.file_size_mib);
    limits.cpu_seconds = number("cpu-time").unwrap_or(limits.cpu_seconds);
    limits.open_files = number("open-files").unwrap_or(limits.open_files);
    limits.processes = number("processes").map_or(limits.processes, |n| n as usize);
    Ok(limits)
}

/// With `--require-sandbox`: fails, naming what is missing, unless every
/// protection is in force here.
fn check_sandbox(m: &ArgMatches) -> Result<bool> {
    if !m.get_flag("require-sandbox") {
        return Ok(false);
    }
    let status = Runner::new(me()?).probe_sandbox().context("trying the sandbox")?;
    if !status.complete() {
        bail!("{}", status.refusal());
    }
    Ok(true)
}

fn grade(m: &ArgMatches) -> Result<ExitCode> {
    let limits = limits(m)?;
    let questions: Vec<Question> =
        match m.get_one::<Question>("question").or(m.get_one::<Question>("question-flag")) {
            Some(&one) => vec![one],
            None => Question::ALL.to_vec(),
        };
    let require_sandbox = check_sandbox(m)?;
    let progress = std::io::stderr().is_terminal();
    let show = |q: grader::rubric::Question| {
        if progress {
            eprint!("\r\x1b[2Kgrading Q{} ({})…", q.number(), q.location());
        }
    };
    let card = if let Some(dir) = m.get_one::<PathBuf>("submission") {
        if m.get_flag("no-witness") {
            bail!("--no-witness applies to the workspace, not to --submission");
        }
        let options = Options {
            limits,
            require_sandbox,
            questions: questions.clone(),
            ..Options::new(&workspace::home(), &me()?)
        };
        submission::grade_submission(&options, dir, show)?
    } else {
        let workspace = m.get_one::<PathBuf>("workspace").cloned().unwrap_or_else(workspace::home);
        if !workspace.join("exercises").is_dir() && !workspace.join("answers").is_dir() {
            bail!(
                "{} is not an assignment workspace: it has neither exercises/ nor answers/",
                workspace.display()
            );
        }
        let workspace =
            workspace.canonicalize().with_context(|| format!("reading {}", workspace.display()))?;
        let mut ctx = Context::new(workspace, me()?);
        ctx.limits = limits;
        ctx.witness = !m.get_flag("no-witness");
        ctx.require_sandbox = require_sandbox;
        score::grade_questions(&ctx, &questions, show)?
    };
    if progress {
        eprint!("\r\x1b[2K");
    }
    if require_sandbox && !card.sandbox.as_ref().is_none_or(|s| s.complete()) {
        bail!("{}", card.sandbox.as_ref().expect("checked").refusal());
    }
    write_reports(&card, m)?;
    Ok(if card.full_marks() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn write_reports(card: &Scorecard, m: &ArgMatches) -> Result<()> {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    print!("{}", report::terminal(card, color));
    if let Some(path) = m.get_one::<PathBuf>("json") {
        let text = serde_json::to_string_pretty(&report::json(card))?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = m.get_one::<PathBuf>("markdown") {
        std::fs::write(path, report::markdown(card))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn run_batch(m: &ArgMatches) -> Result<ExitCode> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let options = Options {
        limits: limits(m)?,
        require_sandbox: check_sandbox(m)?,
        ..Options::new(&workspace::home(), &me()?)
    };
    let out = m.get_one::<PathBuf>("out").expect("required").clone();
    let terminal = std::io::stderr().is_terminal();
    let bar = |what: &'static str| {
        move |done: usize, all: usize| {
            if terminal {
                let filled = done * 30 / all.max(1);
                eprint!("\r\x1b[2K[{}{}] {done}/{all} {what}", "#".repeat(filled), ".".repeat(30 - filled));
            }
        }
    };
    let dirs: Vec<PathBuf> = m.get_many::<PathBuf>("dirs").into_iter().flatten().cloned().collect();
    let mut submissions = Submission::from_dirs(&dirs);
    if let Some(roster) = m.get_one::<PathBuf>("roster") {
        let students = read_roster(roster)?;
        let cache = m.get_one::<PathBuf>("cache").cloned().unwrap_or_else(|| out.join(".repositories"));
        let fetch = Fetch { cache, before: m.get_one::<String>("before").cloned() };
        let fetched = fetch_all(&students, &fetch, bar("fetched"));
        if terminal {
            eprintln!();
        }
        submissions.extend(fetched);
    }
    // Unique over directories and roster together: each names a directory of OUT.
    let names = grader::batch::unique_names(submissions.iter().map(|s| Some(s.name.clone())));
    for (submission, name) in submissions.iter_mut().zip(names) {
        submission.name = name;
    }
    let jobs = m.get_one::<usize>("jobs").copied().unwrap_or(cores).clamp(1, cores.max(1) * 4);
    let spec = Batch { options, submissions, out, jobs };
    let rows = batch(&spec, bar("graded"))?;
    if terminal {
        eprintln!();
    }
    let failed = rows.iter().filter(|r| r.error.is_some()).count();
    println!(
        "graded {} submissions ({failed} with errors): {}",
        rows.len(),
        spec.out.join("gradebook.csv").display()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_release(m: &ArgMatches) -> Result<ExitCode> {
    let template = workspace::home();
    let repository = m.get_one::<String>("repository").expect("required");
    let out: &Path = m.get_one::<PathBuf>("out").expect("required");
    let summary = release(&template, out, repository, !m.get_flag("no-git"))?;
    println!(
        "wrote the assignment repository to {}: {} files, {} solution regions replaced by todo!()",
        out.display(),
        summary.files,
        summary.regions,
    );
    match &summary.pinned {
        Some(first) => println!(
            "{}",
            PUSH.replace("{out}", &out.display().to_string())
                .replace("{repository}", repository)
                .replace("{first}", first)
        ),
        None => println!("not a git repository (--no-git): its workflow is not pinned, and grades itself"),
    }
    Ok(ExitCode::SUCCESS)
}

/// What to do with a release, once written.
const PUSH: &str = "its workflow grades every push with the grader of its first commit, {first}.
Make an empty public repository https://github.com/{repository} (no README), then:

    cd {out}
    git remote add origin https://github.com/{repository}.git
    git push -u origin main

and in its Settings, tick \"Template repository\", so students can press \"Use this template\".";
