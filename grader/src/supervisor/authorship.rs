//! Who wrote each line of a program's output.
//!
//! ```
//! use grader::supervisor::authorship::{Sink, Written, attribute};
//! let line = b"Process 1 (pid 11) prints 1\n".to_vec();
//! let writes = [Written { process: 10, thread: 10, sink: Sink::Stdout, bytes: Some(line), from_pipe: None }];
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
//! line of the output is given to the process that wrote those bytes first.
//! A line its writer could have read from another process's stdout (written
//! there before, to a pipe whose read end the writer held) is relayed from
//! that one; so is a line moved from such a pipe to stdout with `splice`.
//! A process that copies fd 1 is watched call by call from then on (and
//! its children), so its writes through the copy are seen too. A line no
//! seen write made (a thread writing through a copy another thread made,
//! before it next stops) has no author.
//!
//! What it cannot see: who computed what a process wrote (a worker that
//! writes a line its parent composed for it wrote that line), and a write
//! that fails after its stop at the witness (another thread unmapping the
//! buffer in that moment); the witness counts a write as made when it is
//! asked for, with the descriptor and bytes it names then.

use std::collections::{HashMap, VecDeque};

use super::protocol::{Author, Authors};

/// One write to a program's fd 1, as the witness saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The process that wrote, and its thread.
    pub process: i32,
    pub thread: i32,
    /// Where to.
    pub sink: Sink,
    /// What it wrote; `None` where the witness could not read it (moved
    /// from another descriptor, or past what it keeps).
    pub bytes: Option<Vec<u8>>,
    /// Bytes moved from a pipe (`splice`, `tee`): that pipe.
    pub from_pipe: Option<u64>,
}

/// Where a write to fd 1 went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// The run's stdout.
    Stdout,
    /// Another pipe (its inode), and the processes that held its read end
    /// when it was first written to: only they can have read what was
    /// written there.
    Pipe { pipe: u64, readers: Vec<i32> },
}

/// A line someone wrote: in the order of writes, by whom, and where.
#[derive(Debug, Clone, Copy)]
struct Wrote {
    order: usize,
    process: i32,
    thread: i32,
    /// The pipe it went to, for a line written elsewhere than stdout.
    pipe: Option<u64>,
}

/// Who wrote each line of `stdout`, from the writes the witness saw, in
/// the order it saw them.
pub fn attribute(stdout: &[u8], writes: &[Written]) -> Authors {
    let (mut printed, mut elsewhere) = lines_written(writes);
    // Who may have read each pipe, and who moved bytes from one to stdout.
    let mut readers: HashMap<u64, &[i32]> = HashMap::new();
    let mut moved: HashMap<u64, (i32, i32)> = HashMap::new();
    for write in writes {
        if let Sink::Pipe { pipe, readers: r } = &write.sink {
            readers.entry(*pipe).or_insert(r);
        }
        if let (Sink::Stdout, Some(pipe)) = (&write.sink, write.from_pipe) {
            moved.entry(pipe).or_insert((write.process, write.thread));
        }
    }
    let mut authors = Authors::default();
    let mut lines: Vec<&[u8]> = stdout.split(|&b| b == b'\n').collect();
    if stdout.ends_with(b"\n") {
        lines.pop();
    }
    for line in lines {
        let author = match printed.get_mut(line).and_then(VecDeque::pop_front) {
            Some(w) => {
                // Written before, by another, to a pipe this one reads:
                // relayed.
                let relayed_from = elsewhere.get_mut(line).and_then(|before| {
                    let at = before.iter().position(|b| {
                        b.order < w.order
                            && b.process != w.process
                            && b.pipe.is_some_and(|p| readers.get(&p).is_some_and(|r| r.contains(&w.process)))
                    })?;
                    before.remove(at).map(|b| b.process)
                });
                Some(author_of(w.process, w.thread, relayed_from))
            }
            // Moved to stdout from a pipe, unread by the witness: the line
            // its writer wrote there.
            None => elsewhere.get_mut(line).and_then(|before| {
                let at = before.iter().position(|b| b.pipe.is_some_and(|p| moved.contains_key(&p)))?;
                let b = before.remove(at)?;
                let (process, thread) = moved[&b.pipe?];
                Some(author_of(process, thread, (b.process != process).then_some(b.process)))
            }),
        };
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

fn author_of(process: i32, thread: i32, relayed_from: Option<i32>) -> Author {
    Author { process, thread: (thread != process).then_some(thread), relayed_from }
}

type Lines = HashMap<Vec<u8>, VecDeque<Wrote>>;

/// The lines each process wrote, to the run's stdout and elsewhere: its
/// writes to each joined in order and cut at newlines, each line with the
/// write that ended it.
fn lines_written(writes: &[Written]) -> (Lines, Lines) {
    let (mut printed, mut elsewhere) = (Lines::new(), Lines::new());
    // What each process has begun and not ended, where, and the last write
    // of it.
    let mut partial: HashMap<(i32, Option<u64>), (Vec<u8>, Wrote)> = HashMap::new();
    for (order, write) in writes.iter().enumerate() {
        let pipe = match write.sink {
            Sink::Stdout => None,
            Sink::Pipe { pipe, .. } => Some(pipe),
        };
        let key = (write.process, pipe);
        let lines = if pipe.is_none() { &mut printed } else { &mut elsewhere };
        let Some(bytes) = &write.bytes else {
            // Unseen bytes: what this process had begun is no longer known.
            partial.remove(&key);
            continue;
        };
        let wrote = Wrote { order, process: write.process, thread: write.thread, pipe };
        let (buffer, last) = partial.entry(key).or_insert_with(|| (Vec::new(), wrote));
        buffer.extend_from_slice(bytes);
        *last = wrote;
        while let Some(end) = buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).take(end).collect();
            lines.entry(line).or_default().push_back(wrote);
        }
    }
    // A last line without its newline, as of the write that ended it.
    let mut rest: Vec<_> = partial.into_values().filter(|(buffer, _)| !buffer.is_empty()).collect();
    rest.sort_by_key(|(_, wrote)| wrote.order);
    for (buffer, wrote) in rest {
        let lines = if wrote.pipe.is_none() { &mut printed } else { &mut elsewhere };
        lines.entry(buffer).or_default().push_back(wrote);
    }
    // Each line's writers in the order they wrote it.
    for queue in printed.values_mut().chain(elsewhere.values_mut()) {
        queue.make_contiguous().sort_by_key(|w| w.order);
    }
    (printed, elsewhere)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write of `text`, to stdout (`to_stdout`) or to pipe 7, which the
    /// process 10 reads.
    fn wrote(process: i32, thread: i32, to_stdout: bool, text: &str) -> Written {
        let sink = if to_stdout { Sink::Stdout } else { Sink::Pipe { pipe: 7, readers: vec![10] } };
        Written { process, thread, sink, bytes: Some(text.as_bytes().to_vec()), from_pipe: None }
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
    fn a_line_written_to_a_pipe_the_printer_does_not_read_is_not_relayed() {
        let unread = Sink::Pipe { pipe: 8, readers: vec![11] };
        let writes = [
            Written {
                process: 11,
                thread: 11,
                sink: unread,
                bytes: Some(b"Process 1 (pid 11) prints 1\n".to_vec()),
                from_pipe: None,
            },
            wrote(10, 10, true, "Process 1 (pid 11) prints 1\n"),
        ];
        let authors = attribute(b"Process 1 (pid 11) prints 1\n", &writes);
        assert_eq!(authors.of(0).map(|a| a.origin()), Some(10));
    }

    #[test]
    fn a_line_written_without_its_newline_then_relayed_is_relayed() {
        let writes = [
            wrote(11, 11, false, "Process 1 (pid 11) prints 1"),
            wrote(10, 10, true, "Process 1 (pid 11) prints 1\n"),
        ];
        let authors = attribute(b"Process 1 (pid 11) prints 1\n", &writes);
        assert_eq!(authors.of(0).map(|a| a.origin()), Some(11));
    }

    #[test]
    fn lines_moved_from_a_workers_pipe_with_splice_are_the_workers() {
        let writes = [
            wrote(11, 11, false, "Process 1 (pid 11) prints 1\n"),
            Written { process: 10, thread: 10, sink: Sink::Stdout, bytes: None, from_pipe: Some(7) },
        ];
        let authors = attribute(b"Process 1 (pid 11) prints 1\n", &writes);
        assert_eq!(authors.of(0).map(|a| (a.process, a.origin())), Some((10, 11)));
        // Moved from a pipe nobody wrote that line to: no author.
        let authors = attribute(b"Process 2 (pid 12) prints 2\n", &writes);
        assert_eq!(authors.of(0), None);
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
            Written { process: 10, thread: 10, sink: Sink::Stdout, bytes: None, from_pipe: None },
            wrote(10, 10, true, "line\n"),
        ];
        let authors = attribute(b"half spliced line\n", &writes);
        assert_eq!(authors.of(0), None);
    }
}
