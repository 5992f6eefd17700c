//! The instructor's review: the work a batch flagged (written answers that
//! look gamed, answer another question, hold a misconception, or share most
//! of their text with another student's) is shown beside its automatic
//! mark, and the instructor sets the mark; any other mark, of a written or
//! a programming question, can be set with `--set`. Each decision is kept
//! in `OUT/reviews.json` with who made it, when, the automatic mark and the
//! reason, and every output of the batch ([`gradebook`](crate::classroom::gradebook))
//! carries it, now and after every later batch, for as long as the work is
//! the one decided on.
//!
//! ```no_run
//! use grader::classroom::review::{Reviewer, review};
//! // `grader review marks --set alice:q1=7 --reason "…"`, or, with no sets, one by one:
//! let who = Reviewer { by: "ta".into(), reason: None };
//! let summary = review("marks".as_ref(), &[], &who, std::io::stdin().lock(), std::io::stdout())?;
//! println!("{} decided", summary.decided);
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

pub use crate::classroom::gradebook::flag_copies;
use crate::classroom::gradebook::{Decision, Decisions, Flagged, Gradebook, Item};
use crate::report::printable;
use crate::rubric::Question;

/// Who is deciding, and (for `--set`) why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewer {
    pub by: String,
    pub reason: Option<String>,
}

impl Reviewer {
    /// Who, by default: `GRADER_REVIEWER`, or the login name.
    pub fn default_name() -> String {
        ["GRADER_REVIEWER", "USER", "USERNAME", "LOGNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
            .unwrap_or_else(|| "the instructor".into())
    }
}

/// What a review did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Work flagged in the last batch.
    pub flagged: usize,
    /// Decisions made now.
    pub decided: usize,
    /// Flagged work still without a decision.
    pub open: usize,
}

/// One `--set NAME:qN=MARK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Set {
    pub name: String,
    pub question: Question,
    pub mark: u32,
}

impl std::str::FromStr for Set {
    type Err = String;

    /// `NAME:qN=MARK`, checked: a question, a mark within its points.
    fn from_str(set: &str) -> Result<Set, String> {
        let usage = || format!("{set:?}: expected NAME:qN=MARK, e.g. alice:q1=7");
        let (name, rest) = set.rsplit_once(':').ok_or_else(usage)?;
        let (question, mark) = rest.split_once('=').ok_or_else(usage)?;
        let question = Question::parse(question).ok_or_else(|| {
            match question.trim_start_matches(['q', 'Q']).parse::<u32>() {
                Ok(n) => format!("{set:?}: there is no Q{n} (questions 1 to 6)"),
                Err(_) => usage(),
            }
        })?;
        let mark: u32 = mark.trim().parse().ok().ok_or_else(usage)?;
        let max = question.spec().points();
        if mark > max {
            return Err(format!("{set:?}: Q{} is out of {max}", question.number()));
        }
        if name.is_empty() {
            return Err(usage());
        }
        Ok(Set { name: name.to_string(), question, mark })
    }
}

const PROMPT: &str = "mark 0-{max} (Enter keeps {automatic}, s skips, q stops): ";
const CLUSTER_PROMPT: &str = "one mark 0-{max} for all {n}, e to decide each, Enter keeps each one's automatic mark, s skips, q stops: ";

/// Reviews the batch in `out`: applies each of `sets`; without any, shows
/// each flagged work not yet decided on `output` (a copied answer beside
/// the others, and the answers of one cluster of copies decided together)
/// and reads the marks from `input`. Keeps the decisions and rewrites every
/// output of the batch with them.
pub fn review(
    out: &Path,
    sets: &[Set],
    reviewer: &Reviewer,
    input: impl BufRead,
    output: impl Write,
) -> Result<Summary> {
    let mut book = Gradebook::load(out)?;
    let flagged = Flagged::load(out)?;
    let at = crate::classroom::roster::utc(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64),
    );
    let mut session = Session { reviewer, at, decisions: Decisions::load(out)?, decided: 0 };
    for set in sets {
        session.apply(&book, set, out)?;
    }
    if sets.is_empty() {
        let mut lines = input.lines();
        let mut prompt = Prompt { output, read: move || lines.next().transpose() };
        session.ask_all(&flagged, &mut prompt)?;
    }
    let Session { decisions, decided, .. } = session;
    // The decisions first: the outputs are derived from them.
    decisions.save(out)?;
    book.write(out, &decisions)?;
    let open =
        flagged.items.iter().filter(|i| decisions.on(&i.name, i.question, &i.fingerprint).is_none()).count();
    Ok(Summary { flagged: flagged.items.len(), decided, open })
}

/// One review: who decides, when, and what has been decided.
struct Session<'a> {
    reviewer: &'a Reviewer,
    at: String,
    decisions: Decisions,
    decided: usize,
}

/// Where the reviewer is asked and answers.
struct Prompt<W, R> {
    output: W,
    read: R,
}

/// What was asked of one cluster (or one item): a mark or none for each,
/// reasons given for single members, and whether the reviewer stopped
/// part-way.
struct Asked {
    marks: Vec<Option<u32>>,
    own_reasons: Vec<(String, Option<String>)>,
    stop: bool,
}

impl Session<'_> {
    /// Keeps a decision on one piece of work.
    fn decide(&mut self, item: &Item, mark: u32, reason: Option<String>) {
        self.decide_on(&item.name, item.question, &item.fingerprint, mark, item.automatic, reason);
    }

    fn decide_on(
        &mut self,
        name: &str,
        question: Question,
        fingerprint: &str,
        mark: u32,
        automatic: u32,
        reason: Option<String>,
    ) {
        self.decisions.decide(Decision {
            name: name.to_string(),
            question,
            fingerprint: fingerprint.to_string(),
            mark,
            automatic,
            by: self.reviewer.by.clone(),
            at: self.at.clone(),
            reason,
        });
        self.decided += 1;
    }

    /// A mark set on the command line (`--set name:q1=7`).
    fn apply(&mut self, book: &Gradebook, set: &Set, out: &Path) -> Result<()> {
        let row = book
            .rows
            .iter()
            .find(|r| crate::classroom::roster::same_student(&set.name, &r.name))
            .with_context(|| {
                let names: Vec<&str> = book.rows.iter().map(|r| r.name.as_str()).collect();
                format!(
                    "no submission named {:?} in {} (its submissions: {})",
                    set.name,
                    out.display(),
                    names.join(", ")
                )
            })?;
        if row.automatic.is_empty() {
            bail!(
                "{} was not graded ({}): there is no mark to replace",
                set.name,
                row.error.as_deref().unwrap_or("no marks")
            );
        }
        let work = row.work.iter().find(|w| w.question == set.question).with_context(|| {
            format!("{} has no work on Q{} to set a mark for", set.name, set.question.number())
        })?;
        let automatic = row.automatic.get(set.question as usize).copied().unwrap_or(0);
        let reason = self.reviewer.reason.clone();
        self.decide_on(&row.name, set.question, &work.fingerprint, set.mark, automatic, reason);
        Ok(())
    }

    /// Asks for each flagged work not yet decided, a cluster of copies at
    /// once, until the reviewer stops or nothing is left.
    fn ask_all<W: Write, R: FnMut() -> std::io::Result<Option<String>>>(
        &mut self,
        flagged: &Flagged,
        prompt: &mut Prompt<W, R>,
    ) -> Result<()> {
        let open: Vec<&Item> = flagged
            .items
            .iter()
            .filter(|i| self.decisions.on(&i.name, i.question, &i.fingerprint).is_none())
            .collect();
        let mut done: HashSet<(String, Question)> = HashSet::new();
        for item in &open {
            if done.contains(&(item.name.clone(), item.question)) {
                continue;
            }
            let cluster = cluster_of(item, &open);
            done.extend(cluster.iter().map(|m| (m.name.clone(), m.question)));
            let asked = if cluster.len() > 1 {
                prompt.cluster(&cluster)?
            } else {
                let others: Vec<&Item> = flagged
                    .items
                    .iter()
                    .filter(|o| o.question == item.question && item.copies.contains(&o.name))
                    .collect();
                prompt.single(item, &others)?
            };
            let Some(asked) = asked else { break };
            self.keep(&cluster, &asked, prompt)?;
            if asked.stop {
                break;
            }
        }
        Ok(())
    }

    /// Keeps the marks asked of a cluster. A mark that differs from the
    /// automatic one is asked its reason (once for a cluster given one
    /// mark): it goes back to the students.
    fn keep<W: Write, R: FnMut() -> std::io::Result<Option<String>>>(
        &mut self,
        cluster: &[&Item],
        asked: &Asked,
        prompt: &mut Prompt<W, R>,
    ) -> Result<()> {
        let changed: Vec<&str> = cluster
            .iter()
            .zip(&asked.marks)
            .filter(|(m, mark)| mark.is_some_and(|k| k != m.automatic))
            .map(|(m, _)| m.name.as_str())
            .collect();
        let shared = if !changed.is_empty() && asked.own_reasons.is_empty() {
            ask_reason(&mut prompt.output, &mut prompt.read, &changed)?
        } else {
            None
        };
        for (member, mark) in cluster.iter().zip(&asked.marks) {
            if let Some(mark) = *mark {
                let own = asked.own_reasons.iter().find(|(n, _)| *n == member.name).map(|(_, r)| r.clone());
                let reason =
                    if mark == member.automatic { None } else { own.unwrap_or_else(|| shared.clone()) };
                self.decide(member, mark, reason);
            }
        }
        Ok(())
    }
}

impl<W: Write, R: FnMut() -> std::io::Result<Option<String>>> Prompt<W, R> {
    /// Asks one mark for a cluster of copies (or each its own); `None` when
    /// the reviewer stops.
    fn cluster(&mut self, cluster: &[&Item]) -> Result<Option<Asked>> {
        let max = cluster[0].question.spec().points();
        for member in cluster {
            show(&mut self.output, member, max, &[])?;
        }
        let prompt =
            CLUSTER_PROMPT.replace("{max}", &max.to_string()).replace("{n}", &cluster.len().to_string());
        let marks = match ask(&mut self.output, &mut self.read, &prompt, max, true)? {
            Answer::Mark(mark) => vec![Some(mark); cluster.len()],
            Answer::Keep => cluster.iter().map(|m| Some(m.automatic)).collect(),
            Answer::Skip => vec![None; cluster.len()],
            Answer::Stop => return Ok(None),
            Answer::Each => return self.each(cluster, max).map(Some),
        };
        Ok(Some(Asked { marks, own_reasons: Vec::new(), stop: false }))
    }

    /// Each member of a cluster its own mark, and its own reason.
    fn each(&mut self, cluster: &[&Item], max: u32) -> Result<Asked> {
        let mut asked = Asked { marks: Vec::new(), own_reasons: Vec::new(), stop: false };
        for member in cluster {
            writeln!(self.output, "\n{}, Q{}:", member.name, member.question.number())?;
            match ask(&mut self.output, &mut self.read, &prompt_for(member, max), max, false)? {
                Answer::Mark(mark) => {
                    let reason = if mark == member.automatic {
                        None
                    } else {
                        ask_reason(&mut self.output, &mut self.read, &[member.name.as_str()])?
                    };
                    asked.own_reasons.push((member.name.clone(), reason));
                    asked.marks.push(Some(mark));
                }
                Answer::Keep => asked.marks.push(Some(member.automatic)),
                Answer::Stop => {
                    asked.stop = true;
                    break;
                }
                Answer::Skip | Answer::Each => asked.marks.push(None),
            }
        }
        Ok(asked)
    }

    /// Asks the mark of one work, shown beside the answers it may copy;
    /// `None` when the reviewer stops.
    fn single(&mut self, item: &Item, others: &[&Item]) -> Result<Option<Asked>> {
        let max = item.question.spec().points();
        show(&mut self.output, item, max, others)?;
        let mark = match ask(&mut self.output, &mut self.read, &prompt_for(item, max), max, false)? {
            Answer::Mark(mark) => Some(mark),
            Answer::Keep => Some(item.automatic),
            Answer::Skip | Answer::Each => None,
            Answer::Stop => return Ok(None),
        };
        Ok(Some(Asked { marks: vec![mark], own_reasons: Vec::new(), stop: false }))
    }
}

/// The open items of one cluster of copies with `item`: those whose answers
/// to the same question share most of their text, directly or through
/// another.
fn cluster_of<'a>(item: &'a Item, open: &[&'a Item]) -> Vec<&'a Item> {
    let mut cluster = vec![item];
    let mut i = 0;
    while i < cluster.len() {
        let current = cluster[i];
        for other in open {
            let linked = other.question == current.question
                && (current.copies.contains(&other.name) || other.copies.contains(&current.name));
            if linked && !cluster.iter().any(|c| c.name == other.name) {
                cluster.push(other);
            }
        }
        i += 1;
    }
    cluster
}

fn prompt_for(item: &Item, max: u32) -> String {
    PROMPT.replace("{max}", &max.to_string()).replace("{automatic}", &item.automatic.to_string())
}

/// Shows a flagged work, and beside it the answers it shares text with.
fn show(output: &mut impl Write, item: &Item, max: u32, others: &[&Item]) -> Result<()> {
    writeln!(
        output,
        "\n{}, Q{}: automatic mark {}/{max}\nneeds review: {}\n----- {}'s answer -----\n{}\n------------------",
        item.name,
        item.question.number(),
        item.automatic,
        printable(&item.reasons.join("; ")),
        item.name,
        printable(item.text.trim_end()),
    )?;
    for other in others {
        writeln!(
            output,
            "----- beside it, {}'s answer (automatic mark {}) -----\n{}\n------------------",
            other.name,
            other.automatic,
            printable(other.text.trim_end())
        )?;
    }
    Ok(())
}

/// Asks why the marks of `whose` were changed (an empty answer gives none).
fn ask_reason(
    output: &mut impl Write,
    read: &mut impl FnMut() -> std::io::Result<Option<String>>,
    whose: &[&str],
) -> Result<Option<String>> {
    write!(output, "{}", REASON_PROMPT.replace("{whose}", &whose.join(", ")))?;
    output.flush()?;
    Ok(read()?.map(|l| l.trim().to_string()).filter(|l| !l.is_empty()))
}

const REASON_PROMPT: &str =
    "why the mark of {whose}? (kept with the mark, and shown to the student; Enter for no reason): ";

/// What the instructor answered.
enum Answer {
    Mark(u32),
    Keep,
    Skip,
    Stop,
    /// Decide each member of a cluster on its own.
    Each,
}

/// Asks until the answer is one; the end of the input stops.
fn ask(
    output: &mut impl Write,
    read: &mut impl FnMut() -> std::io::Result<Option<String>>,
    prompt: &str,
    max: u32,
    each: bool,
) -> Result<Answer> {
    loop {
        write!(output, "{prompt}")?;
        output.flush()?;
        let Some(line) = read()? else { return Ok(Answer::Stop) };
        match line.trim() {
            "" => return Ok(Answer::Keep),
            "s" => return Ok(Answer::Skip),
            "q" => return Ok(Answer::Stop),
            "e" if each => return Ok(Answer::Each),
            n => match n.parse::<u32>() {
                Ok(mark) if mark <= max => return Ok(Answer::Mark(mark)),
                _ => writeln!(output, "{n:?} is not a mark from 0 to {max}")?,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_checked() {
        let set: Set = "alice:q1=7".parse().unwrap();
        assert_eq!((set.name.as_str(), set.question, set.mark), ("alice", Question::Q1, 7));
        assert_eq!("bob:q3=15".parse::<Set>().unwrap().question, Question::Q3);
        assert!("alice:q1=11".parse::<Set>().unwrap_err().contains("out of 10"));
        assert!("alice:q5=31".parse::<Set>().unwrap_err().contains("out of 30"));
        assert!("alice=7".parse::<Set>().is_err());
        assert!(":q1=7".parse::<Set>().is_err());
    }

    fn item(name: &str, copies: &[&str]) -> Item {
        Item {
            name: name.into(),
            question: Question::Q1,
            fingerprint: String::new(),
            automatic: 5,
            reasons: Vec::new(),
            copies: copies.iter().map(|c| c.to_string()).collect(),
            text: String::new(),
        }
    }

    #[test]
    fn a_cluster_of_copies_is_found_through_its_links() {
        let (a, b, c, d) = (item("a", &["b"]), item("b", &["a", "c"]), item("c", &["b"]), item("d", &[]));
        let open = [&a, &b, &c, &d];
        let names: Vec<&str> = cluster_of(&a, &open).iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(cluster_of(&d, &open).len(), 1);
    }
}
