//! A batch's outputs, and the instructor's decisions applied to every one of
//! them: `OUT/gradebook.csv` (for a spreadsheet), `OUT/gradebook.json`
//! (the rows: the marks as graded and as decided), `OUT/review.json` (the
//! work flagged for review, with the text of each flagged answer) and each
//! student's `OUT/<name>/results.json` (Gradescope's format). The decisions
//! are `OUT/reviews.json`, the one file here that only the instructor
//! writes (through `grader review`).
//!
//! ```no_run
//! use grader::classroom::gradebook::{Decisions, Gradebook};
//! let out = std::path::Path::new("marks");
//! let mut book = Gradebook::load(out)?;
//! book.write(out, &Decisions::load(out)?)?; // every output carries the same, reviewed, marks
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Shaped so that no output can disagree with another: a row keeps the
//! marks as graded (`automatic`), and [`Gradebook::write`] derives every
//! output from them and the decisions, each time, whole. Every file is
//! written atomically ([`write_atomic`]): a crash or a full disk part-way
//! leaves the old file whole, never a truncated one.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::classroom::late::Late;
use crate::engine::workspace::write_atomic;
use crate::rubric::Question;

/// The rows, as graded and as decided.
pub const ROWS_FILE: &str = "gradebook.json";
/// The spreadsheet.
pub const CSV_FILE: &str = "gradebook.csv";
/// The work flagged for review, with its text: what `grader review` shows.
pub const FLAGGED_FILE: &str = "flagged.json";
/// The instructor's decisions, kept between batches.
pub const DECISIONS_FILE: &str = "reviews.json";
/// Each student's Gradescope results, in `OUT/<name>/`.
pub const RESULTS_FILE: &str = "results.json";
/// Each student's scorecard as they see it (Markdown), as graded, in
/// `OUT/<name>/`: what `export --feedback` sends them.
pub const SCORECARD_FILE: &str = "scorecard.md";

/// Every row of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gradebook {
    pub rows: Vec<Row>,
}

/// One submission, as graded, and as decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub name: String,
    /// The roster's identifiers of the student (email, SIS id…), for a
    /// learning platform's gradebook.
    #[serde(default)]
    pub identifiers: std::collections::BTreeMap<String, String>,
    /// Points per question, Q1 to Q6, as graded; none when it could not be
    /// graded (its cells stay empty: an error is not a zero).
    pub automatic: Vec<u32>,
    /// Points per question with the instructor's decisions: what every
    /// output says.
    pub points: Vec<u32>,
    pub total: Option<u32>,
    pub changed: Vec<String>,
    pub commit: Option<String>,
    /// When the graded commit was made (UTC, as the student's git said).
    pub committed_at: Option<String>,
    /// The deadline it was graded at (in the zone it was given in), if there
    /// was one.
    pub deadline: Option<String>,
    /// Commits after the deadline, not graded (with a late policy: after
    /// its last day).
    pub after_deadline: Option<u32>,
    /// How late the graded commit was, under the batch's late policy.
    #[serde(default)]
    pub late: Option<Late>,
    /// The points that took from the total (after review).
    #[serde(default)]
    pub penalty: Option<u32>,
    /// Commits of the student's own that changed their work, up to the
    /// graded one (none: the graded work is the assignment's).
    pub own_commits: Option<u32>,
    pub error: Option<String>,
    /// Each question's work: its fingerprint, why it needs review, and a
    /// written answer's text.
    pub work: Vec<Work>,
    /// The decisions applied to this row.
    pub reviewed: Vec<Decision>,
}

/// One question's work in a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Work {
    pub question: Question,
    /// A fingerprint of it: of a written answer's text, of a program's
    /// sources.
    pub fingerprint: String,
    /// Why it needs the instructor's review (none: it does not), as the
    /// marker found.
    pub reasons: Vec<String>,
    /// The other students whose answer shares most of this one's text.
    pub copies: Vec<String>,
    /// A written answer's text (for copy detection and review).
    pub text: Option<String>,
}

/// One decision of the instructor's: a mark set for one student's work on
/// one question, for as long as that work is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub name: String,
    pub question: Question,
    /// The work decided on.
    pub fingerprint: String,
    pub mark: u32,
    /// The automatic mark it replaced.
    pub automatic: u32,
    /// Who decided.
    #[serde(default)]
    pub by: String,
    /// When (UTC).
    #[serde(default)]
    pub at: String,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

impl Row {
    /// Nothing graded is the student's: no commit of theirs changed their
    /// work, and it earned nothing.
    pub fn no_work_of_its_own(&self) -> bool {
        self.own_commits == Some(0) && self.total == Some(0)
    }

    /// Commits after the deadline, not graded.
    pub fn late_commits(&self) -> u32 {
        self.after_deadline.unwrap_or(0)
    }

    /// Flagged work not decided on yet.
    pub fn open_flags(&self) -> usize {
        self.work
            .iter()
            .filter(|w| !w.flags().is_empty() && !self.reviewed.iter().any(|d| d.question == w.question))
            .count()
    }
}

impl Work {
    /// Every reason to review it: the marker's, then copies.
    pub fn flags(&self) -> Vec<String> {
        let mut flags = self.reasons.clone();
        if !self.copies.is_empty() {
            flags.push(format!("copied? most of it is also in the answer of {}", self.copies.join(", ")));
        }
        flags
    }
}

impl Decision {
    /// "set to 6 (automatic 3) by ta on 2026-12-06T10:00:00Z: reason".
    pub fn said(&self) -> String {
        let by = if self.by.is_empty() { String::new() } else { format!(" by {}", self.by) };
        let at = if self.at.is_empty() { String::new() } else { format!(" on {}", self.at) };
        let reason = self.reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default();
        format!("set to {} (automatic {}){by}{at}{reason}", self.mark, self.automatic)
    }
}

/// Every decision, as kept in `OUT/reviews.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decisions {
    pub decisions: Vec<Decision>,
}

impl Decisions {
    /// The decisions kept in `out` (none yet: no file). A file that cannot
    /// be read is an error: marks must never be written without them.
    pub fn load(out: &Path) -> Result<Decisions> {
        let path = out.join(DECISIONS_FILE);
        match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Decisions::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
            Ok(bytes) => {
                let decisions: Decisions =
                    serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?;
                // Hand-edited or not: a mark beyond a question's points
                // would make a total beyond 100.
                for d in &decisions.decisions {
                    let max = d.question.spec().points();
                    if d.mark > max || d.automatic > max {
                        bail!(
                            "{}: {}'s Q{} mark {} (automatic {}) is out of {max}",
                            path.display(),
                            d.name,
                            d.question.number(),
                            d.mark,
                            d.automatic
                        );
                    }
                }
                Ok(decisions)
            }
        }
    }

    pub fn save(&self, out: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)? + "\n";
        write_atomic(&out.join(DECISIONS_FILE), text.as_bytes())
    }

    /// The decision on this very work, if there is one.
    pub fn on(&self, name: &str, question: Question, fingerprint: &str) -> Option<&Decision> {
        self.decisions
            .iter()
            .rev()
            .find(|d| d.name == name && d.question == question && d.fingerprint == fingerprint)
    }

    /// Records a decision, replacing any earlier one on the same work.
    pub fn decide(&mut self, decision: Decision) {
        self.decisions.retain(|d| {
            !(d.name == decision.name
                && d.question == decision.question
                && d.fingerprint == decision.fingerprint)
        });
        self.decisions.push(decision);
    }

    /// Sets the row's points, total and decisions from its automatic marks
    /// and the decisions on its work as it is.
    pub fn apply(&self, row: &mut Row) {
        row.points = row.automatic.clone();
        row.reviewed.clear();
        for work in &row.work {
            if let Some(decision) = self.on(&row.name, work.question, &work.fingerprint)
                && let Some(p) = row.points.get_mut(work.question as usize)
            {
                *p = decision.mark;
                row.reviewed.push(decision.clone());
            }
        }
        let sum: u32 = row.points.iter().sum();
        row.penalty = row.late.as_ref().filter(|_| !row.points.is_empty()).map(|late| late.points_of(sum));
        row.total = (!row.points.is_empty()).then(|| sum - row.penalty.unwrap_or(0));
    }

    /// What the row's review cell says: each reviewed mark, each flagged
    /// work not yet decided on, and each decision that no longer holds.
    pub fn cells(&self, row: &Row) -> Vec<String> {
        let mut cells = Vec::new();
        for work in &row.work {
            let q = work.question.number();
            if let Some(decision) = row.reviewed.iter().find(|d| d.question == work.question) {
                cells.push(format!("q{q} reviewed: {}", decision.said()));
                continue;
            }
            let stale = self.decisions.iter().any(|d| d.name == row.name && d.question == work.question);
            match (work.flags().is_empty(), stale) {
                (false, _) => {
                    let changed = if stale { " (changed since it was reviewed)" } else { "" };
                    cells.push(format!("q{q} needs review{changed}: {}", work.flags().join("; ")));
                }
                (true, true) => cells.push(format!(
                    "q{q} changed since it was reviewed: the automatic mark stands until it is reviewed again"
                )),
                (true, false) => {}
            }
        }
        cells
    }
}

/// The work flagged for review, with what the instructor needs to decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub name: String,
    pub question: Question,
    pub fingerprint: String,
    pub automatic: u32,
    pub reasons: Vec<String>,
    /// The others whose answer shares most of this one's text.
    pub copies: Vec<String>,
    pub text: String,
}

/// What `OUT/flagged.json` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flagged {
    pub items: Vec<Item>,
}

impl Flagged {
    pub fn load(out: &Path) -> Result<Flagged> {
        let path = out.join(FLAGGED_FILE);
        let bytes = std::fs::read(&path).with_context(|| {
            format!("reading {}: grade the batch first (grader batch … --out DIR)", path.display())
        })?;
        serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))
    }

    fn of(rows: &[Row]) -> Flagged {
        let items = rows
            .iter()
            .flat_map(|row| {
                row.work.iter().filter(|w| !w.flags().is_empty()).map(|w| Item {
                    name: row.name.clone(),
                    question: w.question,
                    fingerprint: w.fingerprint.clone(),
                    automatic: row.automatic.get(w.question as usize).copied().unwrap_or(0),
                    reasons: w.flags(),
                    copies: w.copies.clone(),
                    text: w.text.clone().unwrap_or_default(),
                })
            })
            .collect();
        Flagged { items }
    }
}

impl Gradebook {
    /// The rows of the last batch in `out`.
    pub fn load(out: &Path) -> Result<Gradebook> {
        let path = out.join(ROWS_FILE);
        let bytes = std::fs::read(&path).with_context(|| {
            format!("reading {}: grade the batch first (grader batch … --out DIR)", path.display())
        })?;
        let book: Gradebook = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "reading {}: written by another version of the grader? grade the batch again",
                path.display()
            )
        })?;
        // Hand-edited or not: it names directories of OUT, and carries marks.
        let max = Question::ALL.map(|q| q.spec().points());
        for row in &book.rows {
            if crate::classroom::roster::safe_name(&row.name) != row.name {
                bail!("{}: {:?} is not a name the grader gives a submission", path.display(), row.name);
            }
            let marks_of_this_rubric = row.automatic.is_empty()
                || (row.automatic.len() == max.len() && row.automatic.iter().zip(max).all(|(p, m)| *p <= m));
            if !marks_of_this_rubric {
                bail!(
                    "{}: {}'s marks are not marks of this rubric: grade the batch again",
                    path.display(),
                    row.name
                );
            }
        }
        Ok(book)
    }

    /// The rows of the last batch in `out`, if there was one.
    pub fn load_if_any(out: &Path) -> Result<Option<Gradebook>> {
        if out.join(ROWS_FILE).exists() { Gradebook::load(out).map(Some) } else { Ok(None) }
    }

    /// Applies `decisions` to every row and writes every output: the
    /// gradebooks, the flagged work, and each graded student's
    /// `results.json` (which must already hold the results as graded).
    /// An error writing one student's results is said in their row.
    pub fn write(&mut self, out: &Path, decisions: &Decisions) -> Result<()> {
        for row in &mut self.rows {
            decisions.apply(row);
            if row.automatic.is_empty() {
                continue;
            }
            let path = out.join(&row.name).join(RESULTS_FILE);
            if let Err(e) = patch_results_file(&path, row) {
                row.error = Some(format!("{e:#}"));
            }
        }
        write_atomic(&out.join(CSV_FILE), csv(&self.rows, decisions).as_bytes())?;
        let rows = serde_json::to_string_pretty(self)? + "\n";
        write_atomic(&out.join(ROWS_FILE), rows.as_bytes())?;
        let flagged = serde_json::to_string_pretty(&Flagged::of(&self.rows))? + "\n";
        write_atomic(&out.join(FLAGGED_FILE), flagged.as_bytes())
    }
}

/// Brings one `results.json` up to date with the row's decisions.
fn patch_results_file(path: &Path, row: &Row) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut results: Value =
        serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?;
    let before = results.clone();
    patch_results(&mut results, row)?;
    if results != before {
        let text = serde_json::to_string_pretty(&results)? + "\n";
        write_atomic(path, text.as_bytes())?;
    }
    Ok(())
}

/// Number of the entry a late submission gets in `results.json`.
const LATE_NUMBER: &str = "late";

/// Number of the entry a reviewed question gets in `results.json`.
fn review_number(question: Question) -> String {
    format!("{}.review", question.number())
}

/// Gradescope's results of a submission, with the row's decisions: the
/// top-level `score` is the reviewed total (Gradescope takes it over the
/// tests' sum), each reviewed question gets an entry that says its mark and
/// the decision, and `extra_data.reviewed` records them. The tests keep
/// their automatic scores: they are what the checks found. Idempotent:
/// what an earlier call added is taken out first.
pub fn patch_results(results: &mut Value, row: &Row) -> Result<()> {
    let Some(tests) = results.get_mut("tests").and_then(Value::as_array_mut) else {
        bail!("not Gradescope's results: no tests");
    };
    tests.retain(|t| !t["number"].as_str().is_some_and(|n| n.ends_with(".review") || n == LATE_NUMBER));
    // A reviewed question's flags are settled: its checks say so no more.
    for test in tests.iter_mut() {
        let Some(number) = test["number"].as_str() else { continue };
        let reviewed = row.reviewed.iter().any(|d| number.starts_with(&format!("{}.", d.question.number())));
        if let (true, Some(output)) = (reviewed, test["output"].as_str()) {
            let kept: Vec<&str> = output.lines().filter(|l| !l.starts_with("(needs review: ")).collect();
            test["output"] = json!(kept.join("\n"));
        }
    }
    let automatic: f64 = tests.iter().filter_map(|t| t["score"].as_f64()).sum();
    for decision in &row.reviewed {
        let q = decision.question;
        let max = q.spec().points();
        let entry = json!({
            "name": format!("Q{} mark set on review: {}/{max} (the checks gave {}/{max})", q.number(), decision.mark, decision.automatic),
            "number": review_number(q),
            "status": if decision.mark == max { "passed" } else { "failed" },
            "output": format!(
                "Q{}'s mark was {}. It replaces the total of Q{}'s checks above, which are the automatic marking.",
                q.number(),
                decision.said(),
                q.number()
            ),
        });
        let at = tests
            .iter()
            .rposition(|t| t["number"].as_str().is_some_and(|n| n.starts_with(&format!("{}.", q.number()))))
            .map_or(tests.len(), |i| i + 1);
        tests.insert(at, entry);
    }
    let delta: i64 = row.reviewed.iter().map(|d| i64::from(d.mark) - i64::from(d.automatic)).sum();
    let penalty = row.penalty.unwrap_or(0);
    // Said where it took something, or would have (past the last day).
    let took = penalty > 0 || row.late.as_ref().is_some_and(|l| l.past_limit);
    if let Some(said) = row.late.as_ref().filter(|_| took).and_then(|late| late.said(penalty)) {
        tests.push(json!({
            "name": format!("Late: {penalty} points taken"),
            "number": LATE_NUMBER,
            "status": "failed",
            "output": format!("{}{}. The total above is after it.", said[..1].to_uppercase(), &said[1..]),
        }));
    }
    let score = (automatic + delta as f64 - f64::from(penalty)).max(0.0);
    // Whole points stay whole numbers, as the grader writes them.
    results["score"] = if score.fract() == 0.0 { json!(score as u64) } else { json!(score) };
    let max = results["max_score"].as_f64().unwrap_or(100.0);
    let late = match penalty {
        0 => String::new(),
        points => format!(", {points} points taken for lateness"),
    };
    let output = match row.reviewed.as_slice() {
        [] if penalty > 0 => format!("Total: {score}/{max} (the checks gave {automatic}/{max}{late})"),
        [] => format!("Total: {score}/{max}"),
        reviewed => format!(
            "Total: {score}/{max} after review (the checks gave {automatic}/{max}{late}); {}",
            reviewed
                .iter()
                .map(|d| format!("Q{} {}", d.question.number(), d.said()))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    let seed = results["extra_data"]["seed"].as_u64();
    let graded = graded_what(row);
    results["output"] = json!(format!(
        "{output}{}{graded}",
        seed.map(|s| format!("; random inputs drawn with seed {s}")).unwrap_or_default()
    ));
    if let Some(extra) = results.get_mut("extra_data").and_then(Value::as_object_mut) {
        extra.insert("reviewed".into(), serde_json::to_value(&row.reviewed)?);
        extra.insert(
            "submission".into(),
            json!({
                "commit": row.commit,
                "committed_at": row.committed_at,
                "deadline": row.deadline,
                "after_deadline": row.after_deadline,
                "late": row.late,
                "penalty": row.penalty,
                "notes": notes(row),
            }),
        );
        // A flag the instructor has decided on is settled.
        if let Some(flags) = extra.get_mut("needs_review").and_then(Value::as_array_mut) {
            flags.retain(|f| {
                !row.reviewed.iter().any(|d| f["question"].as_u64() == Some(u64::from(d.question.number())))
            });
        }
    }
    Ok(())
}

/// The identifier columns of `rows` (email, SIS id…): those any row has.
fn identifier_columns(rows: &[Row]) -> Vec<String> {
    let mut columns: Vec<String> = rows.iter().flat_map(|r| r.identifiers.keys().cloned()).collect();
    columns.sort();
    columns.dedup();
    columns
}

/// What was graded, said to the student: the commit, when it was made, the
/// deadline and what came after it (empty for a checkout on disk).
fn graded_what(row: &Row) -> String {
    let Some(commit) = &row.commit else { return String::new() };
    let short = &commit[..commit.len().min(12)];
    let when = row.committed_at.as_ref().map(|c| format!(", committed {c}")).unwrap_or_default();
    let deadline = match (&row.deadline, &row.late) {
        (Some(d), None) => format!(", the last at or before the deadline {d}"),
        (Some(d), Some(_)) => {
            format!(", the last up to the last day late work is accepted after the deadline {d}")
        }
        (None, _) => String::new(),
    };
    let notes = notes(row);
    let notes = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) };
    format!("\nGraded: commit {short}{when}{deadline}{notes}.")
}

/// The columns of `gradebook.csv` for `rows`.
pub fn csv_header(rows: &[Row]) -> Vec<String> {
    let mut header: Vec<String> = vec!["name".into()];
    header.extend(identifier_columns(rows));
    header.extend(Question::ALL.iter().map(|q| format!("q{}", q.number())));
    header.extend(
        [
            "total",
            "changed_protected_paths",
            "commit",
            "committed_at",
            "deadline",
            "after_deadline",
            "late_days",
            "penalty",
            "errors",
            "notes",
            "review",
        ]
        .map(String::from),
    );
    header
}

/// The gradebook as CSV (decisions already applied to `rows`).
pub fn csv(rows: &[Row], decisions: &Decisions) -> String {
    let mut out = csv_header(rows).join(",") + "\n";
    let identifiers = identifier_columns(rows);
    for row in rows {
        let mut fields = vec![field(&row.name)];
        fields.extend(identifiers.iter().map(|c| field(row.identifiers.get(c).map_or("", String::as_str))));
        match row.points.is_empty() {
            true => fields.extend(Question::ALL.map(|_| String::new())),
            false => fields.extend(row.points.iter().map(u32::to_string)),
        }
        fields.push(row.total.map(|t| t.to_string()).unwrap_or_default());
        fields.push(field(&row.changed.join("; ")));
        fields.push(field(row.commit.as_deref().unwrap_or("")));
        fields.push(field(row.committed_at.as_deref().unwrap_or("")));
        fields.push(field(row.deadline.as_deref().unwrap_or("")));
        fields.push(row.after_deadline.map(|n| n.to_string()).unwrap_or_default());
        fields.push(row.late.as_ref().map(|l| l.days.to_string()).unwrap_or_default());
        fields.push(row.penalty.map(|p| p.to_string()).unwrap_or_default());
        fields.push(field(row.error.as_deref().unwrap_or("")));
        fields.push(field(&notes(row).join("; ")));
        fields.push(field(&decisions.cells(row).join("; ")));
        out.push_str(&(fields.join(",") + "\n"));
    }
    out
}

/// What the row's history says, in words: work that is not the student's
/// own, and commits after the deadline.
pub fn notes(row: &Row) -> Vec<String> {
    let mut notes = Vec::new();
    if row.no_work_of_its_own() {
        notes.push(match row.deadline {
            Some(_) => {
                "no work of the student's own by the deadline: only the assignment's commits".to_string()
            }
            None => "no work of the student's own: only the assignment's commits".to_string(),
        });
    }
    // Under a late policy, what is not graded is what came after its last day.
    let after = if row.late.is_some() { "the last day late work is accepted" } else { "the deadline" };
    match row.late_commits() {
        0 => {}
        1 => notes.push(format!("1 commit after {after}, not graded")),
        n => notes.push(format!("{n} commits after {after}, not graded")),
    }
    if let Some(said) = row.late.as_ref().zip(row.penalty).and_then(|(late, points)| late.said(points)) {
        notes.push(said);
    }
    notes
}

/// A CSV field, quoted when it must be; a leading `=`, `+`, `-` or `@` is
/// defused so a spreadsheet does not run it as a formula.
pub fn field(text: &str) -> String {
    let text = crate::report::printable(&text.replace(['\r', '\n'], " "));
    let text = if text.starts_with(['=', '+', '-', '@', '\t']) { format!("'{text}") } else { text };
    if text.contains([',', '"']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

/// Flags written answers that share most of their text with another
/// submission's answer to the same question (at least 60% of the shorter
/// one's runs of five words): each gets the others' names. Earlier flags
/// of this kind are replaced.
pub fn flag_copies(rows: &mut [Row]) {
    for question in Question::ALL.into_iter().filter(|q| q.is_written()) {
        let shingles: Vec<Option<HashSet<String>>> = rows
            .iter()
            .map(|row| {
                let work = row.work.iter().find(|w| w.question == question)?;
                shingles(work.text.as_deref()?)
            })
            .collect();
        // Pairs are found through the runs they share (an index from each
        // run to the answers that have it), not by comparing every pair: a
        // class of thousands shares few runs, and pairs that share none
        // cost nothing.
        let mut having: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, runs) in shingles.iter().enumerate() {
            for run in runs.iter().flatten() {
                having.entry(run.as_str()).or_default().push(i);
            }
        }
        let mut copies: Vec<Vec<usize>> = vec![Vec::new(); rows.len()];
        let mut shared = vec![0usize; rows.len()];
        for (i, runs) in shingles.iter().enumerate() {
            let Some(runs) = runs else { continue };
            let mut met = Vec::new();
            for run in runs {
                for &j in having[run.as_str()].iter().filter(|&&j| j > i) {
                    if shared[j] == 0 {
                        met.push(j);
                    }
                    shared[j] += 1;
                }
            }
            met.sort_unstable();
            for j in met {
                let b = shingles[j].as_ref().map_or(0, HashSet::len);
                if shared[j] * 10 >= runs.len().min(b) * 6 {
                    copies[i].push(j);
                    copies[j].push(i);
                }
                shared[j] = 0;
            }
        }
        let copies: Vec<Vec<String>> = copies
            .into_iter()
            .map(|mut others| {
                others.sort_unstable();
                others.into_iter().map(|j| rows[j].name.clone()).collect()
            })
            .collect();
        for (row, others) in rows.iter_mut().zip(copies) {
            if let Some(work) = row.work.iter_mut().find(|w| w.question == question) {
                work.copies = others;
            }
        }
    }
}

/// The answer's runs of five words, if it has enough words to compare.
fn shingles(text: &str) -> Option<HashSet<String>> {
    let words: Vec<String> = text
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    (words.len() >= 25).then(|| words.windows(5).map(|w| w.join(" ")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1"), "'=1+1");
    }

    fn alice() -> Row {
        Row {
            name: "alice".into(),
            identifiers: Default::default(),
            automatic: vec![3, 10, 20, 10, 30, 20],
            points: Vec::new(),
            total: None,
            changed: Vec::new(),
            commit: None,
            committed_at: None,
            deadline: None,
            after_deadline: None,
            late: None,
            penalty: None,
            own_commits: None,
            error: None,
            work: vec![Work {
                question: Question::Q1,
                fingerprint: "f1".into(),
                reasons: Vec::new(),
                copies: Vec::new(),
                text: None,
            }],
            reviewed: Vec::new(),
        }
    }

    #[test]
    fn results_carry_the_decision_and_patching_twice_changes_nothing() {
        let mut decisions = Decisions::default();
        decisions.decide(Decision {
            name: "alice".into(),
            question: Question::Q1,
            fingerprint: "f1".into(),
            mark: 7,
            automatic: 3,
            by: "ta".into(),
            at: "2026-12-06T10:00:00Z".into(),
            reason: Some("a fair answer in plain words".into()),
        });
        let mut row = alice();
        decisions.apply(&mut row);
        assert_eq!((row.points[0], row.total), (7, Some(97)));
        let mut results = json!({
            "score": 93, "max_score": 100, "output": "Total: 93/100",
            "tests": [
                {"number": "1.1", "score": 2, "max_score": 2},
                {"number": "1.2", "score": 1, "max_score": 8},
                {"number": "2.1", "score": 90, "max_score": 90},
            ],
            "extra_data": {"seed": 5},
        });
        patch_results(&mut results, &row).unwrap();
        let once = results.clone();
        patch_results(&mut results, &row).unwrap();
        assert_eq!(results, once);
        assert_eq!(results["score"], 97);
        assert_eq!(results["tests"][2]["number"], "1.review");
        let said = results["tests"][2]["output"].as_str().unwrap();
        assert!(said.contains("set to 7 (automatic 3) by ta") && said.contains("plain words"), "{said}");
        assert_eq!(results["extra_data"]["reviewed"][0]["by"], "ta");
        // The decision withdrawn: back to the checks' marks.
        let mut row = alice();
        Decisions::default().apply(&mut row);
        patch_results(&mut results, &row).unwrap();
        assert_eq!((results["score"].as_f64(), results["tests"].as_array().unwrap().len()), (Some(93.0), 3));
    }

    /// The index finds exactly the pairs that comparing every pair finds:
    /// answers drawn from a few sentences, so that many pairs share much.
    #[test]
    fn copies_found_through_the_index_are_those_every_pair_would_give() {
        let sentences = [
            "a process has its own memory and the operating system schedules it on any core",
            "threads share the memory of their process so a data race is possible without locks",
            "a pool keeps worker processes alive and hands each a task from a queue in turn",
            "the global interpreter lock lets one thread run python bytecode at a time",
            "forking copies the address space lazily with copy on write pages of memory",
        ];
        let mut seed = 7u64;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % n
        };
        let mut rows: Vec<Row> = (0..60)
            .map(|i| {
                let text: Vec<&str> = (0..3 + next(3)).map(|_| sentences[next(sentences.len())]).collect();
                let mut row = Row { name: format!("s{i:02}"), ..alice() };
                row.work[0].text = Some(text.join(". "));
                row
            })
            .collect();
        let answers: Vec<Option<HashSet<String>>> =
            rows.iter().map(|r| shingles(r.work[0].text.as_deref().unwrap())).collect();
        let mut expected: Vec<Vec<String>> = vec![Vec::new(); rows.len()];
        for i in 0..rows.len() {
            for j in 0..rows.len() {
                let (Some(a), Some(b)) = (&answers[i], &answers[j]) else { continue };
                if i != j && a.intersection(b).count() * 10 >= a.len().min(b.len()) * 6 {
                    expected[i].push(rows[j].name.clone());
                }
            }
        }
        flag_copies(&mut rows);
        let found: Vec<Vec<String>> = rows.iter().map(|r| r.work[0].copies.clone()).collect();
        assert_eq!(found, expected);
        let pairs: usize = found.iter().map(Vec::len).sum();
        assert!(pairs > 60 && pairs < 60 * 59, "a test of both kinds of pair: {pairs}");
    }

    #[test]
    fn the_history_is_said_on_the_row() {
        let mut row = alice();
        row.automatic = vec![0; 6];
        Decisions::default().apply(&mut row);
        row.own_commits = Some(0);
        row.deadline = Some("2026-12-01T23:59:59Z".into());
        row.after_deadline = Some(3);
        assert_eq!(
            notes(&row),
            [
                "no work of the student's own by the deadline: only the assignment's commits",
                "3 commits after the deadline, not graded"
            ]
        );
        row.own_commits = Some(2);
        assert_eq!(notes(&row), ["3 commits after the deadline, not graded"]);
    }
}
