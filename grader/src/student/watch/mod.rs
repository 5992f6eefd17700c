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
//!
//! Its parts: [`events`] (what reaches the loop: saves and keys),
//! [`screen`] (what is shown, as text) and [`terminal`] (raw mode, and
//! drawing).

mod events;
mod screen;
mod terminal;

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Result;

use crate::engine::context::{Context, Settings};
use crate::grading::Progress;
use crate::grading::score::{QuestionScore, grade_question};
use crate::rubric::Question;
use crate::student::hints;
use events::Event;
pub use events::question_of;
use screen::Screen;
use terminal::{RawTerminal, draw};

/// How long a burst of saves is let settle before grading.
const SETTLE: Duration = Duration::from_millis(150);

/// Watches `workspace`, graded with `settings`, until `q`.
pub fn watch(workspace: &Path, settings: &Settings) -> Result<()> {
    let ctx = Context::new(workspace.to_path_buf(), settings);
    let (tx, rx) = mpsc::channel();
    let _watcher = events::start_watcher(workspace, tx.clone())?;
    let _raw = RawTerminal::enter();
    events::read_keys(tx.clone());
    let mut screen = Screen {
        scores: vec![None; Question::ALL.len()],
        focus: None,
        all: false,
        hint: None,
        status: String::new(),
    };
    for question in Question::ALL {
        screen.show(Progress::Grading(question));
        draw(&screen.render());
        screen.scores[question as usize] = Some(grade(&ctx, question)?);
    }
    screen.focus = screen.first_unfinished();
    screen.status = String::from("watching exercises/ and answers/: save a file to grade it again");
    draw(&screen.render());
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
                    screen.focus = Some(question);
                    screen.show(Progress::Grading(question));
                    draw(&screen.render());
                    screen.scores[question as usize] = Some(grade(&ctx, question)?);
                }
                screen.hint = None;
                screen.status =
                    String::from("watching exercises/ and answers/: save a file to grade it again");
            }
        }
        draw(&screen.render());
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
