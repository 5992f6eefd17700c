//! `cargo run -p grader` grades the workspace it sits in and prints a
//! scorecard. Exit status: 0 at full marks, 1 when points are missing, 2 when
//! it could not grade.
//!
//! Subcommands:
//! - `grade` (the default): the workspace, or with `--submission DIR`
//!   another checkout, graded with this grader;
//! - `batch`: a whole class (directories, or a roster of repositories),
//!   into a gradebook;
//! - `review`: the instructor's pass over the answers a batch flagged;
//! - `release`: the repository students copy;
//! - `watch`: the student's loop, grading again on every save;
//! - `hint`: the next hint for a question;
//! - `supervise` (hidden): runs one program in the sandbox, for the grader
//!   itself.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Parser, Subcommand};
use grader::classroom::batch::{Batch, Submission, batch};
use grader::classroom::release::release;
use grader::classroom::review::{Reviewer, Set};
use grader::classroom::roster::{Deadline, Fetch, fetch_all, read_roster};
use grader::engine::grade::Context;
use grader::engine::run::{Limits, Runner};
use grader::engine::workspace;
use grader::grading::score::Scorecard;
use grader::grading::submission::Options;
use grader::grading::{score, submission};
use grader::rubric::{LIMITS, Question};
use grader::{report, supervisor};

/// Grades the Multiprocessing assignment: builds and runs the exercises,
/// reads the answers, prints a scorecard.
#[derive(Debug, Parser)]
#[command(name = "grader", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a subcommand, `grade`.
    #[command(flatten)]
    grade: GradeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Grade the workspace (the default)
    Grade(GradeArgs),
    /// Grade many submissions (checkouts of students' repositories, or a
    /// roster of them) into OUT/gradebook.csv
    Batch(BatchArgs),
    /// Grade, then grade again on every save: a progress bar, the first
    /// failing check, keys h (hint), a (all questions), q (quit)
    Watch(WatchArgs),
    /// Show the next hint for a question (q1 to q6)
    Hint(HintArgs),
    /// Review the written answers the last batch in OUT flagged: set each
    /// one's mark (kept in OUT/reviews.json, applied to every gradebook
    /// while the answer is unchanged)
    Review(ReviewArgs),
    /// Write the assignment repository: solutions replaced by todo!(), the
    /// students' README, its workflow pinned to its own first commit
    Release(ReleaseArgs),
    /// Run one program under supervision, as the request on stdin says (used
    /// by the grader itself)
    #[command(hide = true)]
    Supervise,
}

#[derive(Debug, Args)]
struct GradeArgs {
    /// Grade this question only: q6, or 6
    #[arg(value_name = "QUESTION", value_parser = question)]
    question: Option<Question>,
    /// Grade this question only (as the QUESTION argument)
    #[arg(long = "question", value_name = "N", value_parser = question, conflicts_with = "question")]
    question_flag: Option<Question>,
    /// Also write Gradescope's results.json to this file
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Also write the scorecard as Markdown to this file (for a CI job summary)
    #[arg(long, value_name = "PATH")]
    markdown: Option<PathBuf>,
    /// The workspace to grade [default: the one the current directory is in]
    #[arg(long, value_name = "PATH", conflicts_with = "submission")]
    workspace: Option<PathBuf>,
    /// Grade another checkout's exercises/ and answers/ with this grader,
    /// leaving it untouched
    #[arg(long, value_name = "PATH")]
    submission: Option<PathBuf>,
    /// With --submission of a git repository (a batch's cached clone):
    /// grade its last commit at or before this moment, e.g.
    /// 2026-12-01T23:59:59Z, as `batch --before` does
    #[arg(long, value_name = "DATE", requires = "submission", value_parser = deadline)]
    before: Option<Deadline>,
    /// Do not trace the runs (process checks then rest on output alone)
    #[arg(long, hide = true, conflicts_with = "submission")]
    no_witness: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

/// The limits of every run of a program, and the sandbox's: the same for
/// `grade` and `batch`, with the rubric's defaults.
#[derive(Debug, Args)]
struct LimitArgs {
    /// Time limit of each run of a program
    #[arg(long, value_name = "SECONDS", default_value_t = LIMITS.timeout_ms as f64 / 1000.0)]
    timeout: f64,
    /// Memory of a program's processes, each and together
    #[arg(long, value_name = "MiB", default_value_t = LIMITS.memory_mib, value_parser = limit)]
    memory: u64,
    /// What a program may write to disk
    #[arg(long, value_name = "MiB", default_value_t = LIMITS.file_size_mib, value_parser = limit)]
    file_size: u64,
    /// CPU time of each process
    #[arg(long, value_name = "SECONDS", default_value_t = LIMITS.cpu_seconds, value_parser = limit)]
    cpu_time: u64,
    /// Files each process may have open
    #[arg(long, value_name = "N", default_value_t = LIMITS.open_files, value_parser = limit)]
    open_files: u64,
    /// Processes a program may create
    #[arg(long, value_name = "N", default_value_t = LIMITS.processes as u64, value_parser = limit)]
    processes: u64,
    /// Refuse to grade unless every protection of the sandbox is in force here
    #[arg(long)]
    require_sandbox: bool,
}

#[derive(Debug, Args)]
struct BatchArgs {
    /// Checkouts of students' repositories
    #[arg(value_name = "DIR", required_unless_present = "roster")]
    dirs: Vec<PathBuf>,
    /// A CSV of `student,repository` (a URL git can clone, or a path): each
    /// is cloned or fetched, then graded
    #[arg(long, value_name = "PATH")]
    roster: Option<PathBuf>,
    /// Where the roster's repositories are kept between batches [default: OUT/.repositories]
    #[arg(long, value_name = "PATH")]
    cache: Option<PathBuf>,
    /// Grade each repository's last commit at or before this moment: a
    /// date, a time and a zone, e.g. 2026-12-01T23:59:59Z (UTC) or
    /// 2026-12-01T23:59:59-05:00; commit dates are the student's to set
    #[arg(long, value_name = "DATE", requires = "roster", value_parser = deadline)]
    before: Option<Deadline>,
    /// Grade only these students (or directories), keeping the other rows
    /// of the gradebook already in OUT
    #[arg(long, value_name = "NAME", num_args = 1..)]
    only: Option<Vec<String>>,
    /// Where to write gradebook.csv and each submission's results.json
    #[arg(long, value_name = "PATH", required = true)]
    out: PathBuf,
    /// Submissions graded at once [default: the number of cores]
    #[arg(long)]
    jobs: Option<usize>,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Debug, Args)]
struct WatchArgs {
    /// The workspace to watch [default: the one the current directory is in]
    #[arg(long, value_name = "PATH")]
    workspace: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct HintArgs {
    /// The question: q6, or 6
    #[arg(value_name = "QUESTION", value_parser = question)]
    question: Question,
    /// Start over from the first hint
    #[arg(long)]
    again: bool,
}

#[derive(Debug, Args)]
struct ReviewArgs {
    /// The batch's OUT directory
    #[arg(value_name = "OUT")]
    out: PathBuf,
    /// Set a mark without asking, of any question: alice:q1=7, bob:q3=15
    /// (repeatable); without any, each flagged answer is shown and its mark
    /// asked for
    #[arg(long = "set", value_name = "NAME:qN=MARK")]
    set: Vec<Set>,
    /// Why, for the marks --set sets (kept with each decision, and shown
    /// with the mark to the student); without --set, each changed mark is
    /// asked its own reason
    #[arg(long, value_name = "TEXT", requires = "set")]
    reason: Option<String>,
    /// Who decides [default: $GRADER_REVIEWER, or your login name]
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
}

#[derive(Debug, Args)]
struct ReleaseArgs {
    #[arg(value_name = "OUT_DIR")]
    out: PathBuf,
    /// The public GitHub repository the assignment will be pushed to (never this one)
    #[arg(long, value_name = "OWNER/NAME")]
    repository: String,
    /// Do not make the release a git repository (its workflow then stays unpinned)
    #[arg(long)]
    no_git: bool,
    /// What students get of the written answers' marker: `public`, the
    /// concepts and the rules that recognise them (their local marks are
    /// the marks); `private`, the concepts only (their local marks of the
    /// concepts are provisional, and your batch gives the marks)
    #[arg(long, value_name = "public|private", default_value = "public", value_parser = written_rubric)]
    written_rubric: grader::classroom::release::WrittenRubric,
}

fn question(text: &str) -> Result<Question, String> {
    Question::parse(text).ok_or_else(|| format!("{text:?} is not a question (1 to 6, or q1 to q6)"))
}

fn written_rubric(text: &str) -> Result<grader::classroom::release::WrittenRubric, String> {
    match text {
        "public" => Ok(grader::classroom::release::WrittenRubric::Public),
        "private" => Ok(grader::classroom::release::WrittenRubric::Private),
        _ => Err(format!("{text:?} is neither public nor private")),
    }
}

fn deadline(text: &str) -> Result<Deadline, String> {
    Deadline::parse(text).map_err(|e| e.to_string())
}

fn limit(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if (1..=1 << 20).contains(&n) => Ok(n),
        _ => Err(format!("{text:?} is not a number from 1 to {}", 1 << 20)),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (result, failed) = match cli.command {
        Some(Command::Supervise) => (supervisor::serve().map(|()| ExitCode::SUCCESS), "supervise"),
        Some(Command::Batch(args)) => (run_batch(&args), "grade the batch"),
        Some(Command::Release(args)) => (run_release(&args), "release"),
        Some(Command::Review(args)) => (run_review(&args), "review"),
        Some(Command::Hint(args)) => (run_hint(&args), "give a hint"),
        Some(Command::Watch(args)) => (run_watch(&args), "watch"),
        Some(Command::Grade(args)) => (grade(&args), "grade"),
        None => (grade(&cli.grade), "grade"),
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

impl LimitArgs {
    /// The limits the flags set.
    fn limits(&self) -> Result<Limits> {
        if !(self.timeout > 0.0 && self.timeout <= 600.0) {
            bail!("--timeout must be between 0 and 600 seconds, not {}", self.timeout);
        }
        Ok(Limits {
            timeout_ms: (self.timeout * 1000.0).round() as u64,
            memory_mib: self.memory,
            file_size_mib: self.file_size,
            cpu_seconds: self.cpu_time,
            open_files: self.open_files,
            processes: self.processes as usize,
            ..LIMITS
        })
    }

    /// With `--require-sandbox`: fails, naming what is missing, unless
    /// every protection is in force here.
    fn check_sandbox(&self) -> Result<bool> {
        if !self.require_sandbox {
            return Ok(false);
        }
        let status = Runner::new(me()?).probe_sandbox().context("trying the sandbox")?;
        if !status.complete() {
            bail!("{}", status.refusal());
        }
        Ok(true)
    }
}

fn grade(args: &GradeArgs) -> Result<ExitCode> {
    grader::engine::grade::seed_from_env()?;
    let limits = args.limits.limits()?;
    let questions: Vec<Question> = match args.question.or(args.question_flag) {
        Some(one) => vec![one],
        None => Question::ALL.to_vec(),
    };
    let require_sandbox = args.limits.check_sandbox()?;
    let progress = std::io::stderr().is_terminal();
    let show = |q: grader::rubric::Question| {
        if progress {
            eprint!("\r\x1b[2Kgrading Q{} ({})…", q.number(), q.location());
        }
    };
    let card = if let Some(dir) = &args.submission {
        let options = Options {
            limits,
            require_sandbox,
            questions: questions.clone(),
            ..Options::new(&workspace::home(), &me()?)
        };
        match &args.before {
            None => submission::grade_submission(&options, dir, show)?,
            Some(deadline) => {
                // The commit at the deadline, read out of the repository
                // into a directory of its own: the repository stays as it is.
                let history = grader::classroom::roster::history(dir, "HEAD", Some(deadline))
                    .with_context(|| format!("finding the commit of {} at {deadline}", dir.display()))?;
                let at = tempfile::Builder::new().prefix("grader-at-deadline-").tempdir()?;
                grader::classroom::roster::export(dir, &history.commit, at.path())?;
                eprintln!(
                    "grading {} at {} (committed {}), the last commit at or before {deadline}",
                    dir.display(),
                    &history.commit[..history.commit.len().min(12)],
                    history.committed_at
                );
                submission::grade_submission(&options, at.path(), show)?
            }
        }
    } else {
        let workspace = args.workspace.clone().unwrap_or_else(workspace::home);
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
        ctx.witness = !args.no_witness;
        ctx.require_sandbox = require_sandbox;
        score::grade_questions(&ctx, &questions, show)?
    };
    if progress {
        eprint!("\r\x1b[2K");
    }
    if require_sandbox && !card.sandbox.as_ref().is_none_or(|s| s.complete()) {
        bail!("{}", card.sandbox.as_ref().expect("checked").refusal());
    }
    write_reports(&card, args)?;
    Ok(if card.full_marks() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn write_reports(card: &Scorecard, args: &GradeArgs) -> Result<()> {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    print!("{}", report::terminal(card, color));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report::json(card))?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.markdown {
        std::fs::write(path, report::markdown(card))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn run_batch(args: &BatchArgs) -> Result<ExitCode> {
    grader::engine::grade::seed_from_env()?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let options = Options {
        limits: args.limits.limits()?,
        require_sandbox: args.limits.check_sandbox()?,
        ..Options::new(&workspace::home(), &me()?)
    };
    let out = args.out.clone();
    let terminal = std::io::stderr().is_terminal();
    let bar = |what: &'static str| {
        move |done: usize, all: usize| {
            if terminal {
                let filled = done * 30 / all.max(1);
                eprint!("\r\x1b[2K[{}{}] {done}/{all} {what}", "#".repeat(filled), ".".repeat(30 - filled));
            }
        }
    };
    let mut submissions = Submission::from_dirs(&args.dirs);
    if let Some(roster) = &args.roster {
        let students = read_roster(roster)?;
        // Only those to grade are fetched; a name not in the roster is said
        // before anything is fetched.
        if let Some(only) = &args.only {
            let mut known: Vec<String> = students.iter().map(|s| s.name.clone()).collect();
            known.extend(submissions.iter().map(|s| s.name.clone()));
            let unknown: Vec<&String> = only
                .iter()
                .filter(|o| !known.iter().any(|k| grader::classroom::batch::same_student(o, k)))
                .collect();
            if !unknown.is_empty() {
                bail!(
                    "--only names {} not in the roster or the directories given (they name: {})",
                    unknown.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "),
                    known.join(", ")
                );
            }
        }
        let students: Vec<_> = students
            .into_iter()
            .filter(|s| grader::classroom::batch::chosen_by(args.only.as_deref(), &s.name))
            .collect();
        let cache = args.cache.clone().unwrap_or_else(|| out.join(".repositories"));
        let fetch = Fetch { cache, deadline: args.before.clone() };
        if let Some(deadline) = &args.before {
            eprintln!(
                "deadline: {deadline} (each repository's last commit at or before it is graded; a student's own, in the roster's deadline column, comes first)"
            );
        }
        let fetched = fetch_all(&students, &fetch, bar("fetched"));
        if terminal {
            eprintln!();
        }
        submissions.extend(fetched.into_iter().map(Submission::from));
    }
    // Unique over directories and roster together: each names a directory of OUT.
    let names = grader::classroom::roster::unique_names(submissions.iter().map(|s| Some(s.name.clone())));
    for (submission, name) in submissions.iter_mut().zip(names) {
        submission.name = name;
    }
    let jobs = args.jobs.unwrap_or(cores).clamp(1, cores.max(1) * 4);
    let spec = Batch { options, submissions, out, jobs, only: args.only.clone() };
    let rows = batch(&spec, bar("graded"))?;
    if terminal {
        eprintln!();
    }
    let graded_now = |row: &&grader::classroom::gradebook::Row| {
        grader::classroom::batch::chosen_by(args.only.as_deref(), &row.name)
    };
    let plural =
        |n: usize, one: &str, many: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") };
    let now: Vec<&grader::classroom::gradebook::Row> = rows.iter().filter(graded_now).collect();
    let failed: Vec<&str> = now.iter().filter(|r| r.error.is_some()).map(|r| r.name.as_str()).collect();
    let deadline = args.before.as_ref().map(|d| format!(" at the deadline {d}")).unwrap_or_default();
    let of = if now.len() == rows.len() {
        String::new()
    } else {
        format!(" (of {} in the gradebook)", rows.len())
    };
    let could_not = match failed.len() {
        0 => String::new(),
        n => format!(", {n} could not be graded"),
    };
    println!(
        "{}{deadline}{of}: {} graded{could_not}; the gradebook: {}",
        plural(now.len(), "submission", "submissions"),
        now.len() - failed.len(),
        spec.out.join(grader::classroom::gradebook::CSV_FILE).display()
    );
    if !failed.is_empty() {
        println!("could not be graded (see the errors column): {}", failed.join(", "));
    }
    // Those whose own deadline (the roster's) is not the batch's.
    let own_deadlines: Vec<String> = now
        .iter()
        .filter(|r| r.deadline.is_some() && r.deadline != args.before.as_ref().map(|d| d.local()))
        .map(|r| format!("{} at {}", r.name, r.deadline.as_deref().unwrap_or_default()))
        .collect();
    if !own_deadlines.is_empty() {
        println!("graded at their own deadline: {}", own_deadlines.join(", "));
    }
    let no_work = now.iter().filter(|r| r.no_work_of_its_own()).count();
    let late = now.iter().filter(|r| r.late_commits() > 0).count();
    if no_work + late > 0 {
        println!(
            "{} with no work of their own, {} with commits after the deadline (see the notes column)",
            no_work, late
        );
    }
    let kept_errors: Vec<&str> =
        rows.iter().filter(|r| r.error.is_some() && !graded_now(r)).map(|r| r.name.as_str()).collect();
    if !kept_errors.is_empty() {
        println!("rows kept from before, with errors: {}", kept_errors.join(", "));
    }
    let open: usize = rows.iter().map(|r| r.open_flags()).sum();
    if open > 0 {
        println!(
            "{} flagged for your review: cargo run -p grader -- review {}",
            plural(open, "answer", "answers"),
            spec.out.display()
        );
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn run_watch(args: &WatchArgs) -> Result<ExitCode> {
    grader::engine::grade::seed_from_env()?;
    let workspace = args.workspace.clone().unwrap_or_else(workspace::home);
    let workspace = workspace.canonicalize().with_context(|| format!("reading {}", workspace.display()))?;
    grader::student::watch::watch(&workspace, &me()?)?;
    Ok(ExitCode::SUCCESS)
}

fn run_hint(args: &HintArgs) -> Result<ExitCode> {
    let home = workspace::home();
    let target = workspace::target_dir(&home);
    let q = args.question.number();
    // Graded first, so that the first hint is about what fails first.
    if std::io::stderr().is_terminal() {
        eprint!("grading Q{q} to see what fails first…");
    }
    let ctx = Context::new(home.clone(), me()?);
    let score = score::grade_questions(&ctx, &[args.question], |_| {}).ok();
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
    let score = score.as_ref().and_then(|card| card.questions.first());
    let next = grader::student::hints::next(&target, args.question, score, args.again)?;
    println!("{}", next.said(args.question));
    if !matches!(next, grader::student::hints::Next::NoMore { .. }) {
        println!("(again for the next: cargo run -p grader -- hint q{q})");
    }
    Ok(ExitCode::SUCCESS)
}

fn run_review(args: &ReviewArgs) -> Result<ExitCode> {
    let reviewer =
        Reviewer { by: args.by.clone().unwrap_or_else(Reviewer::default_name), reason: args.reason.clone() };
    let summary = grader::classroom::review::review(
        &args.out,
        &args.set,
        &reviewer,
        std::io::stdin().lock(),
        std::io::stdout(),
    )?;
    println!(
        "{} decided now; {} of {} flagged answers still open; {} rewritten with every decision",
        summary.decided,
        summary.open,
        summary.flagged,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_release(args: &ReleaseArgs) -> Result<ExitCode> {
    let template = workspace::home();
    let (repository, out) = (&args.repository, args.out.as_path());
    let summary = release(&template, out, repository, !args.no_git, args.written_rubric)?;
    println!(
        "wrote the assignment repository to {}: {} files, {} solution regions replaced by todo!()",
        out.display(),
        summary.files,
        summary.regions,
    );
    if args.written_rubric == grader::classroom::release::WrittenRubric::Private {
        println!(
            "its grader/src/checks/written/answers.toml has the concepts of the written answers, not the rules that recognise them: students' marks of the concepts are provisional, and your batch gives them"
        );
    }
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
