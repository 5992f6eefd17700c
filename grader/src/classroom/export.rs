//! A batch's marks in the import formats of learning platforms, and each
//! student's feedback as a file to attach or mail.
//!
//! ```no_run
//! use grader::classroom::export::{Platform, export, feedback};
//! let out = std::path::Path::new("marks"); // a batch's OUT
//! let exported = export(out, Platform::Canvas, "Multiprocessing")?;
//! std::fs::write("canvas.csv", &exported.csv)?;
//! feedback(out, "feedback".as_ref())?; // feedback/<student>.md
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! - **Canvas** (Grades → Import): `Student`, `ID`, `SIS User ID`,
//!   `SIS Login ID`, `Section`, then a column named for the assignment
//!   (Canvas makes it an assignment), with a `Points Possible` row. Canvas
//!   finds each student by one of the three identifiers: every row needs
//!   one (the roster's `id`, `sis_id` or `login`).
//! - **Moodle** (Grades → Import → CSV file): an identifier column, the
//!   grade and the feedback, each mapped in Moodle's import form (the
//!   identifier to "Email address", "ID number" or "Username"; the
//!   feedback to "Feedback for" the grade item).
//!
//! A student without the identifier the platform needs is an error that
//! names every such student: a blank would be matched to no one, silently.
//! The marks are those of every other output, after review and late
//! penalties. A submission that could not be graded gets an empty grade
//! (no change on import), never a zero, and is listed.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::classroom::gradebook::{Decisions, Gradebook, Row, SCORECARD_FILE, field};
use crate::engine::workspace::{MAX_FILE, read_regular, write_atomic};
use crate::rubric::Question;

/// A platform whose gradebook import is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Canvas,
    /// Moodle, matching students by this identifier of the roster's.
    Moodle(MoodleId),
}

/// The roster's column that finds a student in Moodle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MoodleId {
    /// `email`: Moodle's "Email address".
    #[default]
    Email,
    /// `sis_id`: Moodle's "ID number".
    SisId,
    /// `login`: Moodle's "Username".
    Login,
}

impl MoodleId {
    /// The roster's column, and the header Moodle's form shows for it.
    fn column(self) -> (&'static str, &'static str) {
        match self {
            MoodleId::Email => ("email", "Email address"),
            MoodleId::SisId => ("sis_id", "ID number"),
            MoodleId::Login => ("login", "Username"),
        }
    }
}

/// What an export wrote, and what it could not give a mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub csv: String,
    pub students: usize,
    /// Students without a mark (not graded): their grade is left empty.
    pub ungraded: Vec<String>,
    /// Students with flagged work not yet reviewed: their mark is the
    /// automatic one.
    pub unreviewed: Vec<String>,
}

/// Said between the mark and the scorecard in a feedback file.
const SCORECARD_SAID: &str = "The scorecard below is the checks' marking, as graded; the mark above is after any review and late penalty.";

/// The roster's columns Canvas finds a student by.
const CANVAS_IDS: [&str; 3] = ["id", "sis_id", "login"];

/// The gradebook of the batch in `out` for `platform`, with a column named
/// `assignment`.
pub fn export(out: &Path, platform: Platform, assignment: &str) -> Result<Exported> {
    let rows = rows(out)?;
    let missing: Vec<&str> = rows
        .iter()
        .filter(|row| match platform {
            Platform::Canvas => !CANVAS_IDS.iter().any(|c| has(row, c)),
            Platform::Moodle(by) => !has(row, by.column().0),
        })
        .map(|row| row.name.as_str())
        .collect();
    if !missing.is_empty() {
        let needed = match platform {
            Platform::Canvas => {
                "Canvas finds a student by the roster's id, sis_id or login column".to_string()
            }
            Platform::Moodle(by) => {
                format!("Moodle is matched here by the roster's {} column", by.column().0)
            }
        };
        bail!(
            "{} without an identifier: {}. {needed}: add it to their row of the roster and run the batch again (their results are reused).",
            if missing.len() == 1 { "1 student is" } else { "students are" },
            missing.join(", ")
        );
    }
    let max = crate::rubric::total_points();
    let grade = |row: &Row| row.total.map(|t| t.to_string()).unwrap_or_default();
    let mut csv = String::new();
    let mut line = |cells: Vec<String>| {
        csv.push_str(&cells.join(","));
        csv.push('\n');
    };
    match platform {
        Platform::Canvas => {
            let header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment];
            line(header.iter().map(|h| field(h)).collect());
            line(vec!["Points Possible".into(), "".into(), "".into(), "".into(), "".into(), max.to_string()]);
            for row in &rows {
                let id = |c: &str| field(row.identifiers.get(c).map_or("", String::as_str));
                let name = row.identifiers.get("student").unwrap_or(&row.name);
                line(vec![field(name), id("id"), id("sis_id"), id("login"), id("section"), grade(row)]);
            }
        }
        Platform::Moodle(by) => {
            let (column, header) = by.column();
            line(vec![field(header), field(assignment), field(&format!("Feedback for {assignment}"))]);
            for row in &rows {
                line(vec![field(&row.identifiers[column]), grade(row), field(&summary(row, max))]);
            }
        }
    }
    Ok(Exported {
        csv,
        students: rows.len(),
        ungraded: rows.iter().filter(|r| r.total.is_none()).map(|r| r.name.clone()).collect(),
        unreviewed: rows.iter().filter(|r| r.open_flags() > 0).map(|r| r.name.clone()).collect(),
    })
}

/// Writes `dir/<student>.md` for every graded student of the batch in
/// `out`: their mark as every gradebook has it, what review and lateness
/// changed, then the scorecard as they saw it. Returns how many.
pub fn feedback(out: &Path, dir: &Path) -> Result<usize> {
    let rows = rows(out)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let max = crate::rubric::total_points();
    let mut written = 0;
    for row in rows.iter().filter(|r| r.total.is_some()) {
        let path = out.join(&row.name).join(SCORECARD_FILE);
        let scorecard = read_regular(&path, MAX_FILE).map_err(|why| {
            anyhow::anyhow!(
                "{} {why}: grade {} again (batch --regrade --only {})",
                path.display(),
                row.name,
                row.name
            )
        })?;
        let text = format!(
            "# Multiprocessing: feedback for {}\n\n**Mark: {}**\n\n{}\n\n{}",
            row.name,
            summary(row, max),
            SCORECARD_SAID,
            String::from_utf8_lossy(&scorecard)
        );
        write_atomic(&dir.join(format!("{}.md", row.name)), text.as_bytes())?;
        written += 1;
    }
    Ok(written)
}

/// The batch's rows with the instructor's decisions applied.
fn rows(out: &Path) -> Result<Vec<Row>> {
    let mut book = Gradebook::load(out)?;
    let decisions = Decisions::load(out)?;
    for row in &mut book.rows {
        decisions.apply(row);
    }
    Ok(book.rows)
}

fn has(row: &Row, column: &str) -> bool {
    row.identifiers.get(column).is_some_and(|v| !v.trim().is_empty())
}

/// A row's mark in one line: the total, each question, and what review and
/// lateness changed.
fn summary(row: &Row, max: u32) -> String {
    let Some(total) = row.total else {
        return format!("not graded: {}", row.error.as_deref().unwrap_or("no result"));
    };
    let questions: Vec<String> = Question::ALL
        .iter()
        .zip(&row.points)
        .map(|(q, p)| format!("Q{} {p}/{}", q.number(), q.spec().points()))
        .collect();
    let mut said = format!("{total}/{max} ({})", questions.join(", "));
    for decision in &row.reviewed {
        said.push_str(&format!("; Q{} {}", decision.question.number(), decision.said()));
    }
    if let Some(late) = row.late.as_ref().and_then(|l| l.said(row.penalty.unwrap_or(0))) {
        said.push_str(&format!("; {late}"));
    }
    said
}
