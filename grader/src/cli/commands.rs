//! The student's commands (`watch`, `hint`) and the instructor's small ones
//! (`review`, `release`, `merge`): each its arguments in, one job of the library
//! called, what it did said.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use grader::classroom::review::Reviewer;
use grader::engine::context::{Context, Settings};
use grader::engine::workspace;
use grader::grading::score;

use crate::args::{HintArgs, MergeArgs, ReleaseArgs, ReviewArgs, WatchArgs, me};

pub fn watch(args: &WatchArgs) -> Result<ExitCode> {
    let settings = Settings::from_env(&workspace::home(), &me()?)?;
    let workspace = args.workspace.clone().unwrap_or_else(workspace::home);
    let workspace = workspace.canonicalize().with_context(|| format!("reading {}", workspace.display()))?;
    grader::student::watch::watch(&workspace, &settings)?;
    Ok(ExitCode::SUCCESS)
}

pub fn hint(args: &HintArgs) -> Result<ExitCode> {
    let home = workspace::home();
    let target = workspace::target_dir(&home);
    let q = args.question.number();
    // Graded first, so that the first hint is about what fails first.
    if std::io::stderr().is_terminal() {
        eprint!("grading Q{q} to see what fails first…");
    }
    let ctx = Context::new(home.clone(), &Settings::from_env(&home, &me()?)?);
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

pub fn review(args: &ReviewArgs) -> Result<ExitCode> {
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

pub fn release(args: &ReleaseArgs) -> Result<ExitCode> {
    let template = workspace::home();
    let (repository, out) = (&args.repository, args.out.as_path());
    let summary =
        grader::classroom::release::release(&template, out, repository, !args.no_git, args.written_rubric)?;
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

pub fn merge(args: &MergeArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let shown = crate::progress::Shown::on_stderr();
    let merged = grader::classroom::merge::merge(&args.shards, &args.out, |p| shown.show(p));
    shown.keep();
    let merged = merged?;
    println!(
        "{} students from {} shards, {} could not be graded, in {:.1} s; the gradebook: {}",
        merged.rows,
        args.shards.len(),
        merged.errors,
        started.elapsed().as_secs_f64(),
        args.out.join(grader::classroom::gradebook::CSV_FILE).display()
    );
    if merged.flagged > 0 {
        println!(
            "{} answers flagged for your review (copies looked for across the whole class): cargo run -p grader -- review {}",
            merged.flagged,
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
