//! The terminal the watch draws on: raw mode while it runs, restored when
//! it ends (on a panic too), and each screen drawn whole.

use std::io::{IsTerminal, Write};

/// Clears the screen and draws `screen` (a rendered screen) on it.
pub(super) fn draw(screen: &str) {
    let mut stdout = std::io::stdout().lock();
    // In raw mode a newline does not return the carriage: say both.
    let text = screen.replace('\n', "\r\n");
    let _ = write!(stdout, "\x1b[2J\x1b[H{text}");
    let _ = stdout.flush();
}

/// The terminal in raw mode (keys arrive one at a time, unechoed) for as
/// long as it lives; restored when dropped, on a panic too.
pub(super) struct RawTerminal {
    saved: Option<nix::sys::termios::Termios>,
}

impl RawTerminal {
    pub(super) fn enter() -> RawTerminal {
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
