//! Progress on stderr, where it is a terminal (and nothing where it is
//! not): a line for the question being graded; for a count (repositories
//! fetched, submissions graded), a bar with the time left (`indicatif`).

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Instant;

use grader::grading::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Shows [`Progress`] on stderr.
#[derive(Debug)]
pub struct Shown {
    terminal: bool,
    started: Instant,
    bar: OnceLock<ProgressBar>,
}

impl Shown {
    pub fn on_stderr() -> Shown {
        Shown { terminal: std::io::stderr().is_terminal(), started: Instant::now(), bar: OnceLock::new() }
    }

    /// Shows one event in place of the last.
    pub fn show(&self, progress: Progress) {
        if !self.terminal {
            return;
        }
        let Some((done, all)) = progress.count() else {
            eprint!("\r\x1b[2K{progress}");
            return;
        };
        let bar = self.bar.get_or_init(|| {
            let bar = ProgressBar::with_draw_target(Some(all as u64), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("[{bar:30}] {pos}/{len} {msg} ({eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("#>.");
            bar.set_style(style);
            bar
        });
        bar.set_message(match progress {
            Progress::Fetched { .. } => "fetched",
            Progress::Merged { .. } => "merged",
            _ => "graded",
        });
        bar.set_position(done as u64);
    }

    /// Clears the line shown.
    pub fn clear(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        } else if self.terminal {
            eprint!("\r\x1b[2K");
        }
    }

    /// Ends the bar, leaving it on the screen with the time it took.
    pub fn keep(&self) {
        if let Some(bar) = self.bar.get() {
            let took = self.started.elapsed().as_secs_f64();
            if let Ok(style) = ProgressStyle::with_template("[{bar:30}] {pos}/{len} {msg}") {
                bar.set_style(style.progress_chars("#>."));
            }
            bar.finish_with_message(format!("{} in {took:.1} s", bar.message()));
        }
    }
}
