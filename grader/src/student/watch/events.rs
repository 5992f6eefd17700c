//! What reaches the watch's loop: the questions whose files were saved
//! (from `notify`), and keys (from a thread reading stdin).

use std::io::Read;
use std::path::Path;
use std::sync::mpsc;

use anyhow::{Context as _, Result};

use crate::rubric::Question;

/// What reaches the loop.
pub(super) enum Event {
    /// A file of these questions changed.
    Changed(Vec<Question>),
    Key(u8),
    /// The watcher failed.
    Failed(String),
}

/// Sends each key typed to the loop, from a thread of its own.
pub(super) fn read_keys(tx: mpsc::Sender<Event>) {
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

/// Watches `exercises/` and `answers/` and sends which questions changed.
pub(super) fn start_watcher(workspace: &Path, tx: mpsc::Sender<Event>) -> Result<notify::RecommendedWatcher> {
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
}
