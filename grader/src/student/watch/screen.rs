//! What the watch shows, as text: a bar over the questions and the points,
//! the first failing check of the question worked on (or of each), a hint,
//! a status line; for 80 columns.

use crate::grading::Progress;
use crate::grading::score::QuestionScore;
use crate::rubric::Question;

/// The screen's width.
const WIDTH: usize = 80;

/// What is on the screen.
pub(super) struct Screen {
    pub(super) scores: Vec<Option<QuestionScore>>,
    /// The question being worked on: the last one saved.
    pub(super) focus: Option<Question>,
    /// Every question's first failing check, not the focused one's alone.
    pub(super) all: bool,
    pub(super) hint: Option<String>,
    pub(super) status: String,
}

impl Screen {
    /// The first question not yet at full marks, in the order a student is
    /// best taken through them (the programs first).
    pub(super) fn first_unfinished(&self) -> Option<Question> {
        Question::SUGGESTED
            .into_iter()
            .find(|&q| self.scores[q as usize].as_ref().is_some_and(|s| s.score() < s.max()))
    }

    /// Says how the grading goes, on the status line.
    pub(super) fn show(&mut self, progress: Progress) {
        self.status = progress.to_string();
    }

    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        let (score, max): (u32, u32) =
            self.scores.iter().flatten().fold((0, 0), |(s, m), q| (s + q.score(), m + q.max()));
        let full = crate::rubric::total_points().max(1);
        let bar_width = 50;
        let filled = (score as usize * bar_width) / full as usize;
        out.push_str("Multiprocessing: h hint · a all questions · q quit\n\n");
        out.push_str(&format!(
            "[{}{}] {score}/{full}{}\n",
            "#".repeat(filled),
            ".".repeat(bar_width - filled),
            if max < full { " (grading…)" } else { "" }
        ));
        let cells: Vec<String> = Question::ALL
            .iter()
            .map(|&q| match &self.scores[q as usize] {
                None => format!("Q{} …", q.number()),
                Some(s) => {
                    let mark = if s.score() == s.max() { green("✓") } else { red("✗") };
                    format!("Q{} {mark} {}/{}", q.number(), s.score(), s.max())
                }
            })
            .collect();
        out.push_str(&cells.join("  "));
        out.push_str("\n\n");
        let shown: Vec<Question> =
            if self.all { Question::ALL.to_vec() } else { self.focus.into_iter().collect() };
        for question in shown {
            let Some(scored) = &self.scores[question as usize] else { continue };
            out.push_str(&format!("Q{} {}\n", question.number(), question.title()));
            match scored.checks.iter().find(|c| c.mark == crate::grading::score::Mark::Failed) {
                None => out.push_str(&format!("  {} every check passes\n", green("✓"))),
                Some(check) => {
                    let text = crate::report::printable(&format!(
                        "{} {} ({}/{}): {}",
                        check.check.id, check.check.title, check.score, check.check.points, check.message
                    ));
                    let lines = wrap(&text, WIDTH - 4);
                    let keep = if self.all { 3 } else { 12 };
                    out.push_str(&format!("  {} {}\n", red("✗"), lines.first().map_or("", String::as_str)));
                    for line in lines.iter().skip(1).take(keep) {
                        out.push_str(&format!("    {line}\n"));
                    }
                    if lines.len() > keep + 1 {
                        out.push_str(&format!(
                            "    … (cargo run -p grader -- q{} shows it all)\n",
                            question.number()
                        ));
                    }
                }
            }
            out.push('\n');
        }
        if let Some(hint) = &self.hint {
            for line in wrap(&crate::report::printable(hint), WIDTH) {
                out.push_str(&line);
                out.push('\n');
            }
            out.push('\n');
        }
        out.push_str(&self.status);
        out.push('\n');
        out
    }
}

fn green(text: &str) -> String {
    format!("\x1b[32m{text}\x1b[0m")
}

fn red(text: &str) -> String {
    format!("\x1b[31m{text}\x1b[0m")
}

/// `text` cut into lines of at most `width` characters, at spaces where it
/// can be.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let mut word = word.to_string();
            while word.chars().count() > width {
                let cut: String = word.chars().take(width).collect();
                word = word.chars().skip(width).collect();
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                lines.push(cut);
            }
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fit_the_screen() {
        let text = "a ".repeat(100) + &"x".repeat(200);
        assert!(wrap(&text, 76).iter().all(|l| l.chars().count() <= 76));
    }
}
