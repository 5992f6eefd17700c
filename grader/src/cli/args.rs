//! The command line's words: each subcommand's arguments, as clap reads
//! them, and how the limits' flags become the one [`Settings`] a grading is
//! handed.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Parser, Subcommand};
use grader::classroom::late::LatePolicy;
use grader::classroom::review::Set;
use grader::classroom::roster::Deadline;
use grader::classroom::shard::Shard;
use grader::engine::context::Settings;
use grader::engine::run::{Limits, Runner};
use grader::engine::workspace;
use grader::rubric::{LIMITS, Question};

/// This grader's executable, which supervises every run.
pub fn me() -> Result<PathBuf> {
    std::env::current_exe().context("finding the grader's own executable")
}

/// Grades the Multiprocessing assignment: builds and runs the exercises,
/// reads the answers, prints a scorecard.
#[derive(Debug, Parser)]
#[command(name = "grader", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Without a subcommand, `grade`.
    #[command(flatten)]
    pub grade: GradeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Grade the workspace (the default)
    Grade(GradeArgs),
    /// Grade many submissions (checkouts of students' repositories, or a
    /// roster of them) into OUT/gradebook.csv
    Batch(BatchArgs),
    /// Join the OUTs of a class's shards (`batch --shard K/N`) into one
    /// gradebook, with copies found across the whole class
    Merge(MergeArgs),
    /// Grade, then grade again on every save: a progress bar, the first
    /// failing check, keys h (hint), a (all questions), q (quit)
    Watch(WatchArgs),
    /// Show the next hint for a question (q1 to q6)
    Hint(HintArgs),
    /// Review the written answers the last batch in OUT flagged: set each
    /// one's mark (kept in OUT/reviews.json, applied to every gradebook
    /// while the answer is unchanged)
    Review(ReviewArgs),
    /// Write a batch's marks for a learning platform's gradebook import
    /// (Canvas, Moodle), and each student's feedback as a file
    Export(ExportArgs),
    /// Write a Gradescope autograder, OUT/autograder.zip: the assignment
    /// without its solutions, and the scripts Gradescope runs
    Gradescope(GradescopeArgs),
    /// Build the exercises' dependencies now, so that later gradings build
    /// offline (an image's set-up: Gradescope's, a CI job's)
    Prepare(PrepareArgs),
    /// Grade the submission in ROOT/submission as Gradescope lays it out,
    /// into ROOT/results/results.json (what the autograder's run_autograder
    /// runs)
    #[command(hide = true)]
    OnGradescope(OnGradescopeArgs),
    /// Write the assignment repository: solutions replaced by todo!(), the
    /// students' README, its workflow pinned to its own first commit
    Release(ReleaseArgs),
    /// Run one program under supervision, as the request on stdin says (used
    /// by the grader itself)
    #[command(hide = true)]
    Supervise,
}

#[derive(Debug, Args)]
pub struct GradeArgs {
    /// Grade this question only: q6, or 6
    #[arg(value_name = "QUESTION", value_parser = question)]
    pub question: Option<Question>,
    /// Grade this question only (as the QUESTION argument)
    #[arg(long = "question", value_name = "N", value_parser = question, conflicts_with = "question")]
    pub question_flag: Option<Question>,
    /// Also write Gradescope's results.json to this file
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Also write the scorecard as Markdown to this file (for a CI job summary)
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<PathBuf>,
    /// The workspace to grade [default: the one the current directory is in]
    #[arg(long, value_name = "PATH", conflicts_with = "submission")]
    pub workspace: Option<PathBuf>,
    /// Grade another checkout's exercises/ and answers/ with this grader,
    /// leaving it untouched
    #[arg(long, value_name = "PATH")]
    pub submission: Option<PathBuf>,
    /// With --submission of a git repository (a batch's cached clone):
    /// grade its last commit at or before this moment, e.g.
    /// 2026-12-01T23:59:59Z, as `batch --before` does
    #[arg(long, value_name = "DATE", requires = "submission", value_parser = deadline)]
    pub before: Option<Deadline>,
    /// Do not trace the runs (process checks then rest on output alone)
    #[arg(long, hide = true)]
    pub no_witness: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The limits of every run of a program, and the sandbox's: the same for
/// `grade` and `batch`, with the rubric's defaults.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Time limit of each run of a program
    #[arg(long, value_name = "SECONDS", default_value_t = LIMITS.timeout_ms as f64 / 1000.0)]
    pub timeout: f64,
    /// Memory of a program's processes, each and together
    #[arg(long, value_name = "MiB", default_value_t = LIMITS.memory_mib, value_parser = limit)]
    pub memory: u64,
    /// What a program may write to disk
    #[arg(long, value_name = "MiB", default_value_t = LIMITS.file_size_mib, value_parser = limit)]
    pub file_size: u64,
    /// CPU time of each process
    #[arg(long, value_name = "SECONDS", default_value_t = LIMITS.cpu_seconds, value_parser = limit)]
    pub cpu_time: u64,
    /// Files each process may have open
    #[arg(long, value_name = "N", default_value_t = LIMITS.open_files, value_parser = limit)]
    pub open_files: u64,
    /// Processes a program may create
    #[arg(long, value_name = "N", default_value_t = LIMITS.processes as u64, value_parser = limit)]
    pub processes: u64,
    /// Refuse to grade unless every protection of the sandbox is in force here
    #[arg(long)]
    pub require_sandbox: bool,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Checkouts of students' repositories
    #[arg(value_name = "DIR", required_unless_present = "roster")]
    pub dirs: Vec<PathBuf>,
    /// A CSV of `student,repository` (a URL git can clone, or a path): each
    /// is cloned or fetched, then graded
    #[arg(long, value_name = "PATH")]
    pub roster: Option<PathBuf>,
    /// Where the roster's repositories are kept between batches [default: OUT/.repositories]
    #[arg(long, value_name = "PATH")]
    pub cache: Option<PathBuf>,
    /// Grade each repository's last commit at or before this moment: a
    /// date, a time and a zone, e.g. 2026-12-01T23:59:59Z (UTC) or
    /// 2026-12-01T23:59:59-05:00; commit dates are the student's to set
    #[arg(long, value_name = "DATE", requires = "roster", value_parser = deadline)]
    pub before: Option<Deadline>,
    /// Accept late work under this policy: e.g. "10%/day, 3 days" takes 10%
    /// of the total for each day begun after the deadline (--before), and
    /// grades the last commit up to 3 days after it
    #[arg(long, value_name = "POLICY", requires = "before")]
    pub late: Option<LatePolicy>,
    /// Grade only these students (or directories), keeping the other rows
    /// of the gradebook already in OUT
    #[arg(long, value_name = "NAME", num_args = 1..)]
    pub only: Option<Vec<String>>,
    /// Where to write gradebook.csv and each submission's results.json
    #[arg(long, value_name = "PATH", required = true)]
    pub out: PathBuf,
    /// Submissions graded at once [default: the number of cores]
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Grade the K-th of N parts of the class only (for `merge`): every job
    /// given the same roster cuts it the same way. Without it, a Kubernetes
    /// Indexed Job's or a Slurm array's index is used, where one is set
    #[arg(long, value_name = "K/N", value_parser = shard)]
    pub shard: Option<Shard>,
    /// Fetch the roster's repositories (of the shard) into the cache, at the
    /// deadline, and grade nothing: the step that holds the credentials
    #[arg(long, requires = "roster", conflicts_with = "offline")]
    pub fetch_only: bool,
    /// Grade the repositories already in the cache, without the network
    /// (and so without credentials): after a `--fetch-only`
    #[arg(long, requires = "roster")]
    pub offline: bool,
    /// Grade every submission again, even those whose result in OUT stands
    /// (graded from the same commit by the same grader, rubric and limits)
    #[arg(long)]
    pub regrade: bool,
    /// The number of parts, with a Kubernetes Indexed Job's
    /// JOB_COMPLETION_INDEX (a Slurm array's count is its own)
    #[arg(long, value_name = "N", conflicts_with = "shard")]
    pub shards: Option<usize>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Every shard's OUT (of `batch --shard K/N`), all N of them
    #[arg(value_name = "SHARD_OUT", required = true)]
    pub shards: Vec<PathBuf>,
    /// Where to write the class's gradebook and each student's results
    #[arg(long, value_name = "PATH", required = true)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A batch's OUT (of `batch` or `merge`)
    #[arg(value_name = "MARKS")]
    pub marks: PathBuf,
    /// The platform whose import file to write
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Where to write it
    #[arg(long, value_name = "FILE", requires = "format")]
    pub out: Option<PathBuf>,
    /// The assignment's column (Canvas makes an assignment of this name)
    #[arg(long, value_name = "NAME", default_value = "Multiprocessing")]
    pub assignment: String,
    /// Moodle: the roster's column students are found by (email: "Email
    /// address", sis_id: "ID number", login: "Username")
    #[arg(long, value_enum, default_value = "email")]
    pub by: By,
    /// Also write each graded student's feedback (their scorecard, with
    /// their mark after review and lateness) to DIR/<student>.md
    #[arg(long, value_name = "DIR")]
    pub feedback: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Canvas,
    Moodle,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum By {
    Email,
    /// Named as the roster's column is.
    #[value(name = "sis_id")]
    SisId,
    Login,
}

#[derive(Debug, Args)]
pub struct GradescopeArgs {
    /// Where to write autograder.zip
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// Late work under this policy, by the upload's time against the
    /// assignment's due date, e.g. "10%/day, 3 days"
    #[arg(long, value_name = "POLICY")]
    pub late: Option<LatePolicy>,
}

#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// The workspace [default: the one the current directory is in]
    #[arg(long, value_name = "PATH")]
    pub workspace: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct OnGradescopeArgs {
    /// Gradescope's root: submission/ in it, results/ written
    #[arg(long, value_name = "PATH", default_value = "/autograder")]
    pub root: PathBuf,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The workspace to watch [default: the one the current directory is in]
    #[arg(long, value_name = "PATH")]
    pub workspace: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HintArgs {
    /// The question: q6, or 6
    #[arg(value_name = "QUESTION", value_parser = question)]
    pub question: Question,
    /// Start over from the first hint
    #[arg(long)]
    pub again: bool,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The batch's OUT directory
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// Set a mark without asking, of any question: alice:q1=7, bob:q3=15
    /// (repeatable); without any, each flagged answer is shown and its mark
    /// asked for
    #[arg(long = "set", value_name = "NAME:qN=MARK")]
    pub set: Vec<Set>,
    /// Why, for the marks --set sets (kept with each decision, and shown
    /// with the mark to the student); without --set, each changed mark is
    /// asked its own reason
    #[arg(long, value_name = "TEXT", requires = "set")]
    pub reason: Option<String>,
    /// Who decides [default: $GRADER_REVIEWER, or your login name]
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    #[arg(value_name = "OUT_DIR")]
    pub out: PathBuf,
    /// The public GitHub repository the assignment will be pushed to (never this one)
    #[arg(long, value_name = "OWNER/NAME")]
    pub repository: String,
    /// Do not make the release a git repository (its workflow then stays unpinned)
    #[arg(long)]
    pub no_git: bool,
    /// What students get of the written answers' marker: `public`, the
    /// concepts and the rules that recognise them (their local marks are
    /// the marks); `private`, the concepts only (their local marks of the
    /// concepts are provisional, and your batch gives the marks)
    #[arg(long, value_name = "public|private", default_value = "public", value_parser = written_rubric)]
    pub written_rubric: grader::classroom::release::WrittenRubric,
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

fn shard(text: &str) -> Result<Shard, String> {
    text.parse()
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

impl LimitArgs {
    /// The limits the flags set.
    pub fn limits(&self) -> Result<Limits> {
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

    /// The settings of a grading: these limits and sandbox, the seed of
    /// `GRADER_SEED` (or the clock), the grader's own workspace and
    /// executable. Made once, here; everything below is handed them.
    pub fn settings(&self, questions: Vec<Question>, witness: bool) -> Result<Settings> {
        let settings = Settings::from_env(&workspace::home(), &me()?)?;
        Ok(Settings {
            limits: self.limits()?,
            require_sandbox: self.check_sandbox()?,
            questions,
            witness,
            ..settings
        })
    }
}
