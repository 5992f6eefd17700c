//! `cargo run -p grader -- watch`: the student's loop. Grades every
//! question, then re-grades a question each time one of its files is saved
//! (`exercises/q6_four_procs/…` re-grades Q6; `answers/q1.md` re-reads Q1),
//! and keeps one screen up to date: a bar over the six questions and the
//! points, and the first failing check of the question being worked on.
//! Keys: `h` the next hint, `a` every question, `q` quit.
//!
//! ```no_run
//! let home = grader::engine::workspace::home();
//! let settings = grader::engine::context::Settings::from_env(&home, "target/debug/grader".as_ref())?;
//! grader::student::watch::watch(&home, &settings)?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Shaped as one loop on one thread, fed by a channel: the file watcher
//! (`notify`) and a thread reading keys send to it, and it grades and draws.
//! Grading only ever happens on that thread, through the supervisor like
//! every grading, so quitting between two gradings leaves nothing running.
//! The screen is drawn for 80 columns.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::engine::context::{Context, Settings};
use crate::grading::score::{QuestionScore, grade_question};
use crate::rubric::Question;
use crate::student::hints;

/// How long a burst of saves is let settle before grading.
const SETTLE: Duration = Duration::from_millis(150);
/// The screen's width.
const WIDTH: usize = 80;

/// What reaches the loop.
enum Event {
    /// A file of these questions changed.
    Changed(Vec<Question>),
    Key(u8),
    /// The watcher failed.
    Failed(String),
}

/// Watches `workspace`, graded with `settings`, until `q`.
pub fn watch(workspace: &Path, settings: &Settings) -> Result<()> {
    let ctx = Context::new(workspace.to_path_buf(), settings);
    let (tx, rx) = mpsc::channel();
    let _watcher = start_watcher(workspace, tx.clone())?;
    let _raw = RawTerminal::enter();
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut byte = [0u8; 1];
            let mut stdin = std::io::stdin();
            while let Ok(1) = stdin.read(&mut byte) {
                if tx.send(Event::Key(byte[0])).is_err() {
                    break;
                }
            }
        });
    }
    let mut screen = Screen {
        scores: vec![None; Question::ALL.len()],
        focus: None,
        all: false,
        hint: None,
        status: String::new(),
    };
    for question in Question::ALL {
        screen.status = format!("grading Q{}…", question.number());
        draw(&screen);
        screen.scores[question as usize] = Some(grade(&ctx, question)?);
    }
    screen.focus = screen.first_unfinished();
    screen.status = String::from("watching exercises/ and answers/: save a file to grade it again");
    draw(&screen);
    loop {
        let Ok(event) = rx.recv() else { return Ok(()) };
        match event {
            Event::Key(b'q' | b'Q' | 3 | 4) => break,
            Event::Key(b'a' | b'A') => screen.all = !screen.all,
            Event::Key(b'h' | b'H') => {
                let question = screen.focus.unwrap_or(Question::Q1);
                let target = crate::engine::workspace::target_dir(workspace);
                let score = screen.scores[question as usize].as_ref();
                screen.hint = Some(hints::next(&target, question, score, false)?.said(question));
            }
            Event::Key(_) => continue,
            Event::Failed(why) => screen.status = format!("the file watcher failed: {why}"),
            Event::Changed(mut questions) => {
                // Let a burst of saves (an editor's temporary files) settle.
                std::thread::sleep(SETTLE);
                while let Ok(more) = rx.try_recv() {
                    match more {
                        Event::Changed(more) => questions.extend(more),
                        Event::Key(b'q' | b'Q' | 3 | 4) => return Ok(()),
                        _ => {}
                    }
                }
                questions.sort();
                questions.dedup();
                for &question in &questions {
                    screen.status = format!("grading Q{}…", question.number());
                    screen.focus = Some(question);
                    draw(&screen);
                    screen.scores[question as usize] = Some(grade(&ctx, question)?);
                }
                screen.hint = None;
                screen.status =
                    String::from("watching exercises/ and answers/: save a file to grade it again");
            }
        }
        draw(&screen);
    }
    print!("\x1b[2J\x1b[H");
    let _ = std::io::stdout().flush();
    Ok(())
}

/// Grades one question, built afresh; an error of the grader's own stops
/// the watch.
fn grade(ctx: &Context, question: Question) -> Result<QuestionScore> {
    crate::engine::compile::forget_builds();
    grade_question(ctx, question).map(|(_, scored)| scored)
}

/// Watches `exercises/` and `answers/` and sends which questions changed.
fn start_watcher(workspace: &Path, tx: mpsc::Sender<Event>) -> Result<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher};
    let root = workspace.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let sent = match event {
            Ok(event) if !event.kind.is_access() => {
                let questions: Vec<Question> =
                    event.paths.iter().filter_map(|p| question_of(&root, p)).collect();
                if questions.is_empty() { Ok(()) } else { tx.send(Event::Changed(questions)) }
            }
            Ok(_) => Ok(()),
            Err(e) => tx.send(Event::Failed(e.to_string())),
        };
        let _ = sent;
    })
    .context("starting the file watcher")?;
    for dir in ["exercises", "answers"] {
        let path = workspace.join(dir);
        if path.is_dir() {
            watcher
                .watch(&path, RecursiveMode::Recursive)
                .with_context(|| format!("watching {}", path.display()))?;
        }
    }
    Ok(watcher)
}

/// The question a changed file belongs to: its package's sources or its
/// answer (a build's output, or an editor's backup, is none).
pub fn question_of(workspace: &Path, path: &Path) -> Option<Question> {
    let relative = path.strip_prefix(workspace).ok()?;
    let name = relative.file_name()?.to_string_lossy();
    if name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") {
        return None;
    }
    let text = relative.to_string_lossy().replace('\\', "/");
    if text.split('/').any(|part| part == "target") {
        return None;
    }
    Question::ALL
        .into_iter()
        .find(|q| text == q.location() || text.starts_with(&format!("{}/", q.location())))
}

/// What is on the screen.
struct Screen {
    scores: Vec<Option<QuestionScore>>,
    /// The question being worked on: the last one saved.
    focus: Option<Question>,
    /// Every question's first failing check, not the focused one's alone.
    all: bool,
    hint: Option<String>,
    status: String,
}

impl Screen {
    /// The first question not yet at full marks, in the order a student is
    /// best taken through them (the programs first).
    fn first_unfinished(&self) -> Option<Question> {
        Question::SUGGESTED
            .into_iter()
            .find(|&q| self.scores[q as usize].as_ref().is_some_and(|s| s.score() < s.max()))
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let (score, max): (u32, u32) =
            self.scores.iter().flatten().fold((0, 0), |(s, m), q| (s + q.score(), m + q.max()));
        let full = Question::ALL.iter().map(|q| q.spec().points()).sum::<u32>().max(1);
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

/// Clears the screen and draws it.
fn draw(screen: &Screen) {
    let mut stdout = std::io::stdout().lock();
    // In raw mode a newline does not return the carriage: say both.
    let text = screen.render().replace('\n', "\r\n");
    let _ = write!(stdout, "\x1b[2J\x1b[H{text}");
    let _ = stdout.flush();
}

/// The terminal in raw mode (keys arrive one at a time, unechoed) for as
/// long as it lives; restored when dropped, on a panic too.
struct RawTerminal {
    saved: Option<nix::sys::termios::Termios>,
}

impl RawTerminal {
    fn enter() -> RawTerminal {
        use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return RawTerminal { saved: None };
        }
        let Ok(saved) = tcgetattr(&stdin) else { return RawTerminal { saved: None } };
        let mut raw = saved.clone();
        // No line editing, no echo, and Ctrl-C as a key (3), so that the
        // terminal is always restored by this program.
        raw.local_flags.remove(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG);
        let _ = tcsetattr(&stdin, SetArg::TCSANOW, &raw);
        // Hide the cursor.
        print!("\x1b[?25l");
        RawTerminal { saved: Some(saved) }
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = nix::sys::termios::tcsetattr(std::io::stdin(), nix::sys::termios::SetArg::TCSANOW, saved);
        }
        print!("\x1b[?25h");
        let _ = std::io::stdout().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_file_names_its_question() {
        let ws = Path::new("/w");
        assert_eq!(question_of(ws, Path::new("/w/exercises/q6_four_procs/src/main.rs")), Some(Question::Q6));
        assert_eq!(question_of(ws, Path::new("/w/answers/q1.md")), Some(Question::Q1));
        assert_eq!(question_of(ws, Path::new("/w/exercises/q6_four_procs/target/x")), None);
        assert_eq!(question_of(ws, Path::new("/w/exercises/q6_four_procs/src/.main.rs.swp")), None);
        assert_eq!(question_of(ws, Path::new("/w/answers/q1.md~")), None);
        assert_eq!(question_of(ws, Path::new("/elsewhere/answers/q1.md")), None);
    }

    #[test]
    fn lines_fit_the_screen() {
        let text = "a ".repeat(100) + &"x".repeat(200);
        assert!(wrap(&text, 76).iter().all(|l| l.chars().count() <= 76));
    }
}
