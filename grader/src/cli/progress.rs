//! Progress on stderr, where it is a terminal (and nothing where it is
//! not): a line for the question being graded, a bar for a count.

use std::io::IsTerminal;

use grader::grading::Progress;

/// Shows [`Progress`] on stderr.
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    terminal: bool,
}

impl Shown {
    pub fn on_stderr() -> Shown {
        Shown { terminal: std::io::stderr().is_terminal() }
    }

    /// Shows one event in place of the last.
    pub fn show(self, progress: Progress) {
        if !self.terminal {
            return;
        }
        match progress.count() {
            None => eprint!("\r\x1b[2K{progress}"),
            Some((done, all)) => {
                let filled = (done * 30 / all.max(1)).min(30);
                eprint!("\r\x1b[2K[{}{}] {progress}", "#".repeat(filled), ".".repeat(30 - filled));
            }
        }
    }

    /// Clears the line shown.
    pub fn clear(self) {
        if self.terminal {
            eprint!("\r\x1b[2K");
        }
    }

    /// Ends the line shown, leaving it on the screen (a bar's last count).
    pub fn keep(self) {
        if self.terminal {
            eprintln!();
        }
    }
}
