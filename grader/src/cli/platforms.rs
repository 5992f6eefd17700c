//! Where marks live: `grader export` (a batch's marks for a learning
//! platform, each student's feedback as a file), `grader gradescope` (the
//! autograder archive) with `on-gradescope` (what it runs), and `grader
//! prepare` (an image's set-up).

use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use grader::classroom::export::{MoodleId, Platform, export, feedback};
use grader::classroom::gradescope::{Config, autograder_zip, grade_upload};
use grader::engine::context::Settings;
use grader::engine::workspace;

use crate::args::{By, ExportArgs, Format, GradescopeArgs, OnGradescopeArgs, PrepareArgs, me};

pub fn gradescope(args: &GradescopeArgs) -> Result<ExitCode> {
    let path = args.out.join("autograder.zip");
    let archive = autograder_zip(&workspace::home(), &path, &Config { late: args.late })?;
    println!(
        "{} ({} files, {} KiB): upload it as a Programming Assignment's autograder (see the README, \"Use it on Gradescope\")",
        path.display(),
        archive.files,
        archive.bytes / 1024
    );
    if let Some(late) = &args.late {
        println!("late work: {late}, by each upload's time against the assignment's due date");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn on_gradescope(args: &OnGradescopeArgs) -> Result<ExitCode> {
    let template = args.root.join("source").canonicalize().context("finding the autograder's source/")?;
    let settings = Settings::from_env(&template, &me()?)?;
    let dir = args.root.join("results");
    // No results but this run's: one left from before must not stand for
    // a grading that fails.
    match std::fs::remove_file(dir.join("results.json")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            bail!("removing the results left in {}: {e}", dir.display())
        }
        _ => {}
    }
    let results = grade_upload(&args.root, &settings)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    println!("{}/{} written to {}", results["score"], results["max_score"], path.display());
    Ok(ExitCode::SUCCESS)
}

pub fn prepare(args: &PrepareArgs) -> Result<ExitCode> {
    let template = args.workspace.clone().unwrap_or_else(workspace::home);
    let runner = grader::engine::run::Runner::new(me()?);
    let deps = grader::engine::compile::dependencies(&template, &runner)?;
    println!("the exercises' dependencies are built, in {}", deps.target.display());
    Ok(ExitCode::SUCCESS)
}

pub fn export_marks(args: &ExportArgs) -> Result<ExitCode> {
    if args.format.is_none() && args.feedback.is_none() {
        bail!("say what to write: --format canvas|moodle --out FILE, --feedback DIR, or both");
    }
    if let Some(format) = args.format {
        let Some(out) = &args.out else { bail!("--format needs --out FILE: where to write the import file") };
        let platform = match format {
            Format::Canvas => Platform::Canvas,
            Format::Moodle => Platform::Moodle(match args.by {
                By::Email => MoodleId::Email,
                By::SisId => MoodleId::SisId,
                By::Login => MoodleId::Login,
            }),
        };
        let exported = export(&args.marks, platform, &args.assignment)?;
        std::fs::write(out, &exported.csv).with_context(|| format!("writing {}", out.display()))?;
        println!("{} students' marks written to {}", exported.students, out.display());
        if !exported.ungraded.is_empty() {
            println!(
                "not graded, their grade left empty (an import changes nothing for them): {}",
                exported.ungraded.join(", ")
            );
        }
        if !exported.unreviewed.is_empty() {
            println!(
                "with flagged work not yet reviewed, whose automatic marks stand: {} (cargo run -p grader -- review {})",
                exported.unreviewed.join(", "),
                args.marks.display()
            );
        }
    }
    if let Some(dir) = &args.feedback {
        let written = feedback(&args.marks, dir)?;
        println!("{written} students' feedback written to {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}
