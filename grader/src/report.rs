//! Reports: the scorecard for a terminal, as Gradescope's `results.json`, and
//! as Markdown for a CI job summary.
//!
//! Everything quoted from a program (its output, in messages and notes) is
//! made [`printable`] first: a control character or a bidirectional
//! override is shown as its escape, never sent to a terminal or a page.
//!
//! ```no_run
//! # fn show(card: &grader::grading::score::Scorecard) {
//! print!("{}", grader::report::terminal(card, false));
//! let json = grader::report::json(card);
//! let markdown = grader::report::markdown(card);
//! # }
//! ```

use serde_json::{Value, json};

use crate::grading::score::Scorecard;

/// Said wherever a scorecard is shown when some run was not traced.
pub const UNVERIFIED: &str = "Process checks were NOT verified: the process witness (ptrace, Linux) could not watch every run, so what the programs really did was judged from their output alone (see the notes). Grading in CI on Linux verifies them.";

/// The warning listing the protected files a submission changed.
pub fn protected_warning(card: &Scorecard) -> String {
    format!(
        "This submission changed files it may not change, which grading ignored: {}",
        card.changed_protected_paths.join(", ")
    )
}

/// The warning listing files of a submission that were not taken.
pub fn skipped_warning(card: &Scorecard) -> String {
    format!(
        "Files of this submission were not used (links and special files are never followed): {}",
        card.skipped_files.join(", ")
    )
}

/// The warning naming the protections of the sandbox that were not fully in
/// force (`None`: all were).
pub fn sandbox_warning(card: &Scorecard) -> Option<String> {
    let status = card.sandbox.as_ref()?;
    let missing = status.missing();
    (!missing.is_empty()).then(|| {
        let list: Vec<String> =
            missing.iter().map(|p| format!("{} ({:?}: {})", p.guard.title(), p.level, p.detail)).collect();
        format!(
            "The sandbox was not fully in force on this machine; a submission was not kept from: {}. `grade --require-sandbox` refuses to grade without it.",
            list.join("; ")
        )
    })
}

/// `text` with every control character (but newline and tab) and every
/// bidirectional override shown as its escape (`\u{1b}`).
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if (c.is_control() && c != '\n' && c != '\t') || bidi {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// The scorecard as text, with ANSI colour if `color`.
pub fn terminal(card: &Scorecard, color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    };
    let mut out = String::new();
    for q in &card.questions {
        let points = format!("{}/{}", q.score(), q.max());
        let points = paint(if q.score() == q.max() { "32" } else { "33" }, &points);
        out.push_str(&format!(
            "\nQ{} {}  {}  [{}]\n",
            q.question.number(),
            q.question.title(),
            points,
            q.question.location()
        ));
        if !q.attempted {
            out.push_str(&format!("  {}\n", printable(not_attempted_line(q))));
            continue;
        }
        for c in &q.checks {
            let colour = match c.mark {
                crate::grading::score::Mark::Passed => "32",
                crate::grading::score::Mark::Failed => "31",
                _ => "33",
            };
            let mark = paint(colour, c.mark.symbol());
            let message = printable(&c.message);
            let mut lines = message.lines();
            let first = lines.next().unwrap_or_default();
            out.push_str(&format!(
                "  {mark} {} {} ({}/{}): {first}\n",
                c.check.id, c.check.title, c.score, c.check.points
            ));
            for line in lines {
                out.push_str(&format!("        {line}\n"));
            }
        }
        for reason in &q.review {
            out.push_str(&paint("33", &format!("  needs review: {}", printable(&reason.to_string()))));
            out.push('\n');
        }
        if q.score() < q.max() {
            out.push_str(&format!("  {}\n", hint_offer(q.question)));
        }
        for note in &q.notes {
            out.push_str(&format!("  note: {}\n", printable(note).replace('\n', "\n        ")));
        }
    }
    let total = format!("Total: {}/{}", card.score(), card.max());
    out.push_str(&format!("\n{}  (graded in {:.1} s)\n", paint("1", &total), card.elapsed.as_secs_f64()));
    if let Some(order) = suggested_order(card) {
        out.push_str(&format!("{order}\n"));
    }
    let marks: Vec<crate::grading::score::Mark> =
        card.questions.iter().flat_map(|q| q.checks.iter().map(|c| c.mark)).collect();
    if marks.contains(&crate::grading::score::Mark::NotCounted) {
        out.push_str("– right, but not counted: the point of its question was missed\n");
    }
    if marks.contains(&crate::grading::score::Mark::NotJudged) {
        out.push_str("○ not judged: another check counts the mistake that kept it from being judged; its points are kept\n");
    }
    if !card.process_checks_verified() {
        out.push_str(&paint("33", UNVERIFIED));
        out.push('\n');
    }
    let warnings = [
        sandbox_warning(card),
        (!card.changed_protected_paths.is_empty()).then(|| protected_warning(card)),
        (!card.skipped_files.is_empty()).then(|| skipped_warning(card)),
    ];
    for warning in warnings.into_iter().flatten() {
        out.push_str(&paint("33", &format!("Warning: {}", printable(&warning))));
        out.push('\n');
    }
    out
}

/// What a question not attempted yet shows: the first line of its first
/// check's message ("not attempted yet: …").
fn not_attempted_line(q: &crate::grading::score::QuestionScore) -> &str {
    q.checks.first().and_then(|c| c.message.lines().next()).unwrap_or("not attempted yet")
}

/// When questions are not attempted yet: the order to take them in.
pub fn suggested_order(card: &Scorecard) -> Option<String> {
    let open: Vec<String> = crate::rubric::Question::SUGGESTED
        .into_iter()
        .filter(|s| card.questions.iter().any(|q| q.question == *s && !q.attempted))
        .map(|q| format!("Q{}", q.number()))
        .collect();
    match open.as_slice() {
        [] => None,
        [one] => Some(format!("Not attempted yet: {one}.")),
        many => Some(format!(
            "Not attempted yet: {}, in the order they are best taken (the programs first, the smallest first; each teaches the written answers something).",
            many.join(", ")
        )),
    }
}

/// Gradescope's `results.json`.
pub fn json(card: &Scorecard) -> Value {
    let tests: Vec<Value> = card
        .questions
        .iter()
        .flat_map(|q| {
            q.checks.iter().map(move |c| {
                let mut output = printable(&c.message);
                for reason in &q.review {
                    output.push_str(&format!("\n(needs review: {})", printable(&reason.to_string())));
                }
                for note in &q.notes {
                    output.push_str(&format!("\n(note: {})", printable(note)));
                }
                json!({
                    "name": format!("Q{} {}", q.question.number(), c.check.title),
                    "number": c.check.id,
                    "score": c.score,
                    "max_score": c.check.points,
                    "status": if c.score == c.check.points { "passed" } else { "failed" },
                    "output": output,
                })
            })
        })
        .collect();
    json!({
        "score": card.score(),
        "max_score": card.max(),
        "execution_time": card.elapsed.as_secs_f64(),
        "output": format!("Total: {}/{}; random inputs drawn with seed {}", card.score(), card.max(), card.seed),
        "tests": tests,
        "extra_data": {
            "process_checks_verified": card.process_checks_verified(),
            "changed_protected_paths": card.changed_protected_paths.iter().map(|p| printable(p)).collect::<Vec<_>>(),
            "skipped_files": card.skipped_files.iter().map(|p| printable(p)).collect::<Vec<_>>(),
            "seed": card.seed,
            "needs_review": card
                .questions
                .iter()
                .filter(|q| !q.review.is_empty())
                .map(|q| json!({
                    "question": q.question.number(),
                    "reasons": q.review.iter().map(|r| printable(&r.to_string())).collect::<Vec<_>>(),
                }))
                .collect::<Vec<_>>(),
            "sandbox": card.sandbox.as_ref().map(|s| json!({
                "complete": s.complete(),
                "protections": s.protections,
            })),
        },
    })
}

/// The scorecard as Markdown. Everything a submission controls (messages
/// quote its output) is escaped, or fenced with a fence longer than any run
/// of backticks inside.
pub fn markdown(card: &Scorecard) -> String {
    let mut out = format!("## Multiprocessing: {}/{}\n\n", card.score(), card.max());
    if !card.process_checks_verified() {
        out.push_str(&format!("> **Warning:** {}\n\n", escape(UNVERIFIED)));
    }
    let warnings = [
        sandbox_warning(card),
        (!card.changed_protected_paths.is_empty()).then(|| protected_warning(card)),
        (!card.skipped_files.is_empty()).then(|| skipped_warning(card)),
    ];
    for warning in warnings.into_iter().flatten() {
        out.push_str(&format!("> **Warning:** {}\n\n", escape(&warning)));
    }
    if let Some(order) = suggested_order(card) {
        out.push_str(&format!("{}\n\n", escape(&order)));
    }
    out.push_str("| question | points |\n|---|---|\n");
    for q in &card.questions {
        out.push_str(&format!(
            "| Q{} {} | {}/{} |\n",
            q.question.number(),
            escape(q.question.title()),
            q.score(),
            q.max()
        ));
    }
    for q in &card.questions {
        out.push_str(&format!(
            "\n### Q{} {} ({}/{})\n\n",
            q.question.number(),
            escape(q.question.title()),
            q.score(),
            q.max()
        ));
        if !q.attempted {
            out.push_str(&format!("_{}_\n", escape(not_attempted_line(q))));
            continue;
        }
        for c in &q.checks {
            let mark = match c.mark {
                crate::grading::score::Mark::Passed => "✅",
                crate::grading::score::Mark::Failed => "❌",
                crate::grading::score::Mark::NotJudged => "⚪",
                crate::grading::score::Mark::NotCounted => "➖",
            };
            out.push_str(&format!(
                "- {mark} **{}** {} ({}/{})",
                c.check.id,
                escape(c.check.title),
                c.score,
                c.check.points
            ));
            if c.message.contains('\n') {
                out.push_str(&format!("\n\n{}", fenced(&c.message, "  ")));
            } else {
                out.push_str(&format!(": {}\n", escape(&c.message)));
            }
        }
        for reason in &q.review {
            out.push_str(&format!("\n> **Needs review:** {}\n", escape(&reason.to_string())));
        }
        if q.score() < q.max() {
            out.push_str(&format!("\n{}\n", escape(&hint_offer(q.question))));
        }
        for note in &q.notes {
            match note.split_once('\n') {
                None => out.push_str(&format!("\n_{}_\n", escape(note))),
                Some((first, rest)) => {
                    out.push_str(&format!("\n_{}_\n\n{}", escape(first), fenced(rest, "")))
                }
            }
        }
    }
    out
}

/// Escapes text for one line of Markdown: HTML, the characters that start
/// markup, and line breaks (shown as `\n`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            // One line stays one line: a name with a line break in it
            // must not start a heading, a list or a fence of its own.
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push_str(&printable(c.encode_utf8(&mut [0; 4]))),
        }
    }
    out
}

/// `text` as a code block, each line indented by `indent`, with a fence longer
/// than any run of backticks inside, so the text cannot close it.
fn fenced(text: &str, indent: &str) -> String {
    let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
    let body: String = printable(text).lines().map(|line| format!("{indent}{line}\n")).collect();
    format!("{indent}{fence}text\n{body}{indent}{fence}\n")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// The line the scorecard gives a question that lost points.
pub fn hint_offer(question: crate::rubric::Question) -> String {
    format!(
        "stuck? `cargo run -p grader -- hint q{}` gives a hint on what fails first, then more, one at a time",
        question.number()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html_and_markup() {
        assert_eq!(escape("<b>x</b> | *y*"), "&lt;b&gt;x&lt;/b&gt; \\| \\*y\\*");
    }

    #[test]
    fn control_characters_and_bidi_overrides_are_shown_escaped() {
        assert_eq!(printable("red \x1b[31mX\x1b[0m\tok\n"), "red \\u{1b}[31mX\\u{1b}[0m\tok\n");
        assert_eq!(printable("a\u{202e}b\u{9b}c\r"), "a\\u{202e}b\\u{9b}c\\u{d}");
        assert_eq!(escape("x\x07y"), "x\\u{7}y");
        // A file name that would end the line and start a heading of its own.
        assert_eq!(escape("a\n\nTotal: 100\n===\n~~~"), "a\\n\\nTotal: 100\\n===\\n\\~\\~\\~");
    }

    #[test]
    fn fences_are_longer_than_any_backtick_run() {
        assert_eq!(longest_backtick_run("a ```` b ` c"), 4);
        assert_eq!(fenced("x\n````", "  "), "  `````text\n  x\n  ````\n  `````\n");
    }
}
