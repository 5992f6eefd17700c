//! Reports: the scorecard for a terminal, as Gradescope's `results.json`, and
//! as Markdown for a CI job summary.
//!
//! ```no_run
//! # fn show(card: &grader::score::Scorecard) {
//! print!("{}", grader::report::terminal(card, false));
//! let json = grader::report::json(card);
//! let markdown = grader::report::markdown(card);
//! # }
//! ```

use serde_json::{Value, json};

use crate::score::Scorecard;

/// Said wherever a scorecard is shown when some run was not traced.
pub const UNVERIFIED: &str = "Process checks were NOT verified: the process witness (ptrace, Linux) could not watch every run, so what the programs really did was judged from their output alone (see the notes). Grading in CI on Linux verifies them.";

/// The warning listing the protected files a submission changed.
pub fn protected_warning(card: &Scorecard) -> String {
    format!(
        "This submission changed files it may not change, which grading ignored: {}",
        card.changed_protected_paths.join(", ")
    )
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
        for c in &q.checks {
            let mark = if c.passed { paint("32", "✓") } else { paint("31", "✗") };
            let mut lines = c.message.lines();
            let first = lines.next().unwrap_or_default();
            out.push_str(&format!(
                "  {mark} {} {} ({}/{}): {first}\n",
                c.check.id, c.check.title, c.score, c.check.points
            ));
            for line in lines {
                out.push_str(&format!("        {line}\n"));
            }
        }
        for note in &q.notes {
            out.push_str(&format!("  note: {}\n", note.replace('\n', "\n        ")));
        }
    }
    let total = format!("Total: {}/{}", card.score(), card.max());
    out.push_str(&format!("\n{}  (graded in {:.1} s)\n", paint("1", &total), card.elapsed.as_secs_f64()));
    if !card.process_checks_verified() {
        out.push_str(&paint("33", UNVERIFIED));
        out.push('\n');
    }
    if !card.changed_protected_paths.is_empty() {
        out.push_str(&paint("33", &format!("Warning: {}", protected_warning(card))));
        out.push('\n');
    }
    out
}

/// Gradescope's `results.json`.
pub fn json(card: &Scorecard) -> Value {
    let tests: Vec<Value> = card
        .questions
        .iter()
        .flat_map(|q| {
            q.checks.iter().map(move |c| {
                let mut output = c.message.clone();
                for note in &q.notes {
                    output.push_str(&format!("\n(note: {note})"));
                }
                json!({
                    "name": format!("Q{} {}", q.question.number(), c.check.title),
                    "number": c.check.id,
                    "score": c.score,
                    "max_score": c.check.points,
                    "status": if c.passed { "passed" } else { "failed" },
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
            "changed_protected_paths": card.changed_protected_paths,
            "seed": card.seed,
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
    if !card.changed_protected_paths.is_empty() {
        out.push_str(&format!("> **Warning:** {}\n\n", escape(&protected_warning(card))));
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
        for c in &q.checks {
            let mark = if c.passed { "✅" } else { "❌" };
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

/// Escapes text for Markdown: HTML and the characters that start markup.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `text` as a code block, each line indented by `indent`, with a fence longer
/// than any run of backticks inside, so the text cannot close it.
fn fenced(text: &str, indent: &str) -> String {
    let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
    let body: String = text.lines().map(|line| format!("{indent}{line}\n")).collect();
    format!("{indent}{fence}text\n{body}{indent}{fence}\n")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html_and_markup() {
        assert_eq!(escape("<b>x</b> | *y*"), "&lt;b&gt;x&lt;/b&gt; \\| \\*y\\*");
    }

    #[test]
    fn fences_are_longer_than_any_backtick_run() {
        assert_eq!(longest_backtick_run("a ```` b ` c"), 4);
        assert_eq!(fenced("x\n````", "  "), "  `````text\n  x\n  ````\n  `````\n");
    }
}
