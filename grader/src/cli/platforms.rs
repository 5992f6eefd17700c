//! `grader export`: a batch's marks for a learning platform, and each
//! student's feedback as a file.

use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use grader::classroom::export::{MoodleId, Platform, export, feedback};

use crate::args::{By, ExportArgs, Format};

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
                "with work flagged for review and not yet reviewed, their marks are the automatic ones: {} (grader review {})",
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
