//! Who wrote each line of a program's output.
//!
//! ```
//! use grader::supervisor::authorship::{Written, attribute};
//! let writes = [
//!     Written { process: 10, thread: 10, to_stdout: true, bytes: Some(b"Process 1 (pid 11) prints 1\n".to_vec()) },
//! ];
//! let authors = attribute(b"Process 1 (pid 11) prints 1\n", &writes);
//! assert_eq!(authors.of(0).map(|a| a.process), Some(10)); // the parent wrote it, not 11
//! ```
//!
//! The sandbox's filter hands the [witness](super::witness) every write to
//! a program's fd 1, before it is made; the witness keeps what each process
//! wrote, to the run's stdout or, for a process whose fd 1 is another pipe
//! (a worker talking to its parent), to that. The pipe keeps no trace of
//! who wrote what, so the lines are matched by content: each process's
//! writes, joined in order and cut at newlines, are the lines it wrote; a
//! line of the output is given to the process that wrote those bytes first,
//! and a line its writer had read from another process's stdout (written
//! there before) is said to be relayed from that one. A line no seen write
//! made (written through a copy of fd 1, which the filter cannot follow)
//! has no author.

use std::collections::{HashMap, VecDeque};

use super::protocol::{Author, Authors};

/// One write to a program's fd 1, as the witness saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The process that wrote, and its thread.
    pub process: i32,
    pub thread: i32,
    /// To the run's stdout, or to another pipe.
    pub to_stdout: bool,
    /// What it wrote; `None` where the witness could not read it (a
    /// `splice` from another descriptor, or past what it keeps).
    pub bytes: Option<Vec<u8>>,
}

/// A line someone wrote: in the order of writes, by whom.
#[derive(Debug, Clone, Copy)]
struct Wrote {
    order: usize,
    process: i32,
    thread: i32,
}

/// Who wrote each line of `stdout`, from the writes the witness saw, in
/// the order it saw them.
pub fn attribute(stdout: &[u8], writes: &[Written]) -> Authors {
    let (printed, mut elsewhere) = lines_written(writes);
    let mut printed = printed;
    let mut authors = Authors::default();
    let mut lines: Vec<&[u8]> = stdout.split(|&b| b == b'\n').collect();
    if stdout.ends_with(b"\n") {
        lines.pop();
    }
    for line in lines {
        let wrote = printed.get_mut(line).and_then(VecDeque::pop_front);
        let author = wrote.map(|w| {
            // Written before, by another, to its own stdout: relayed.
            let relayed_from = elsewhere.get_mut(line).and_then(|before| {
                let at = before.iter().position(|b| b.order < w.order && b.process != w.process)?;
                before.remove(at).map(|b| b.process)
            });
            Author { process: w.process, thread: (w.thread != w.process).then_some(w.thread), relayed_from }
        });
        let index = author.map(|author| match authors.writers.iter().position(|a| *a == author) {
            Some(i) => i as u32,
            None => {
                authors.writers.push(author);
                (authors.writers.len() - 1) as u32
            }
        });
        authors.lines.push(index);
    }
    authors
}

type Lines = HashMap<Vec<u8>, VecDeque<Wrote>>;

/// The lines each process wrote, to the run's stdout and elsewhere: its
/// writes joined in order and cut at newlines, each line with the write
/// that ended it.
fn lines_written(writes: &[Written]) -> (Lines, Lines) {
    let (mut printed, mut elsewhere) = (Lines::new(), Lines::new());
    let mut partial: HashMap<(i32, bool), Vec<u8>> = HashMap::new();
    for (order, write) in writes.iter().enumerate() {
        let key = (write.process, write.to_stdout);
        let lines = if write.to_stdout { &mut printed } else { &mut elsewhere };
        let Some(bytes) = &write.bytes else {
            // Unseen bytes: what this process had begun is no longer known.
            partial.remove(&key);
            continue;
        };
        let buffer = partial.entry(key).or_default();
        buffer.extend_from_slice(bytes);
        let wrote = Wrote { order, process: write.process, thread: write.thread };
        while let Some(end) = buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).take(end).collect();
            lines.entry(line).or_default().push_back(wrote);
        }
    }
    // A last line without its newline.
    for ((process, to_stdout), rest) in partial {
        if !rest.is_empty() {
            let lines = if to_stdout { &mut printed } else { &mut elsewhere };
            let wrote = Wrote { order: writes.len(), process, thread: process };
            lines.entry(rest).or_default().push_back(wrote);
        }
    }
    (printed, elsewhere)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrote(process: i32, thread: i32, to_stdout: bool, text: &str) -> Written {
        Written { process, thread, to_stdout, bytes: Some(text.as_bytes().to_vec()) }
    }

    #[test]
    fn each_line_goes_to_the_process_that_wrote_it_whatever_pid_it_names() {
        let writes = [
            wrote(10, 10, true, "Process 1 (pid 11) prints 1\n"),
            wrote(12, 12, true, "Process 2 (pid 12) prints 2\n"),
        ];
        let authors = attribute(b"Process 2 (pid 12) prints 2\nProcess 1 (pid 11) prints 1\n", &writes);
        assert_eq!(authors.of(0).map(|a| a.process), Some(12));
        assert_eq!(authors.of(1).map(|a| a.process), Some(10));
        assert_eq!(authors.of(2), None);
    }

    #[test]
    fn a_line_written_in_pieces_or_with_others_in_one_write_is_cut_right() {
        let writes = [wrote(10, 10, true, "Pool of 2"), wrote(10, 10, true, " workers\nResults: [1]\n")];
        let authors = attribute(b"Pool of 2 workers\nResults: [1]\n", &writes);
        assert_eq!(authors.lines, [Some(0), Some(0)]);
    }

    #[test]
    fn a_thread_is_named_and_a_line_nobody_was_seen_writing_has_no_author() {
        let writes = [wrote(10, 14, true, "Worker starting\n")];
        let authors = attribute(b"Worker starting\nWorker finishing\n", &writes);
        assert_eq!(authors.of(0).and_then(|a| a.thread), Some(14));
        assert_eq!(authors.of(1), None);
    }

    #[test]
    fn a_line_read_from_a_workers_stdout_and_printed_is_relayed_from_it() {
        let writes = [
            wrote(11, 11, false, "Worker pid 11 squared 3 = 9\n"),
            wrote(10, 10, true, "Worker pid 11 squared 3 = 9\n"),
            // The parent printing a line no worker wrote: its own.
            wrote(10, 10, true, "Worker pid 12 squared 4 = 16\n"),
        ];
        let authors = attribute(b"Worker pid 11 squared 3 = 9\nWorker pid 12 squared 4 = 16\n", &writes);
        assert_eq!(authors.of(0).map(|a| (a.process, a.origin())), Some((10, 11)));
        assert_eq!(authors.of(1).map(|a| (a.process, a.origin())), Some((10, 10)));
    }

    #[test]
    fn the_same_line_twice_goes_to_each_writer_in_turn() {
        let writes = [wrote(11, 11, true, "same\n"), wrote(12, 12, true, "same\n")];
        let authors = attribute(b"same\nsame\n", &writes);
        assert_eq!(authors.of(0).map(|a| a.process), Some(11));
        assert_eq!(authors.of(1).map(|a| a.process), Some(12));
    }

    #[test]
    fn unseen_bytes_leave_their_line_without_an_author() {
        let writes = [
            wrote(10, 10, true, "half "),
            Written { process: 10, thread: 10, to_stdout: true, bytes: None },
            wrote(10, 10, true, "line\n"),
        ];
        let authors = attribute(b"half spliced line\n", &writes);
        assert_eq!(authors.of(0), None);
    }
}
