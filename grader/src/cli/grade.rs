//! `grader grade` (the default): this workspace, another, or a checkout
//! graded with this grader; the scorecard printed, and written as
//! Gradescope's JSON and as Markdown where asked.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use grader::classroom::roster::Deadline;
use grader::engine::context::{Context, Settings};
use grader::engine::workspace;
use grader::grading::Progress;
use grader::grading::score::{self, Scorecard};
use grader::grading::submission::grade_submission;
use grader::report;
use grader::rubric::Question;

use crate::args::GradeArgs;
use crate::progress::Shown;

pub fn grade(args: &GradeArgs) -> Result<ExitCode> {
    let questions: Vec<Question> = match args.question.or(args.question_flag) {
        Some(one) => vec![one],
        None => Question::ALL.to_vec(),
    };
    let settings = args.limits.settings(questions, !args.no_witness)?;
    let shown = Shown::on_stderr();
    let card = scorecard(args, &settings, |p| shown.show(p));
    // Cleared whatever happened, so that an error is not said after it.
    shown.clear();
    let card = card?;
    write_reports(&card, args)?;
    Ok(if card.full_marks() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The workspace, or the checkout of `--submission`, graded.
fn scorecard(args: &GradeArgs, settings: &Settings, show: impl Fn(Progress)) -> Result<Scorecard> {
    let Some(dir) = &args.submission else {
        let workspace = args.workspace.clone().unwrap_or_else(workspace::home);
        if !workspace::has_work(&workspace) {
            bail!(
                "{} is not an assignment workspace: it has neither exercises/ nor answers/",
                workspace.display()
            );
        }
        let workspace =
            workspace.canonicalize().with_context(|| format!("reading {}", workspace.display()))?;
        let ctx = Context::new(workspace, settings);
        return score::grade_questions(&ctx, &settings.questions, show);
    };
    grade_checkout(settings, dir, args.before.as_ref(), show)
}

/// A checkout graded with this grader: as it is, or its last commit at or
/// before `before`, read out of the repository into a directory of its own
/// (the repository stays as it is).
fn grade_checkout(
    settings: &Settings,
    dir: &Path,
    before: Option<&Deadline>,
    show: impl Fn(Progress),
) -> Result<Scorecard> {
    let Some(deadline) = before else {
        return grade_submission(settings, dir, show);
    };
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
    grade_submission(settings, at.path(), show)
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
