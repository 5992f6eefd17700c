//! Why a piece of work needs the instructor's eyes: a value while grading,
//! worded only when it is reported (the scorecard, the gradebook, review).
//!
//! ```
//! use grader::checks::flag::Flag;
//! let flag = Flag::Repeated { sentences: 3 };
//! assert_eq!(flag.to_string(), "repeated text: 3 sentences say again what another said");
//! assert!(flag.gamed() && !Flag::TooLong { words: 900 }.gamed());
//! ```

use std::fmt;

/// One reason to review a question's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    /// Lines of a few words, more of them than sentences on the subject.
    KeywordList { fragments: usize, on_topic: usize },
    /// Sentences that say again what another said.
    Repeated { sentences: usize },
    /// Sentences not about the subject, out of all.
    Filler { off_topic: usize, sentences: usize },
    /// Few different words for many.
    Generated { words: usize, distinct: usize },
    /// Sentences about another question.
    OtherQuestion { sentences: usize },
    /// Far more words than an answer needs.
    TooLong { words: usize },
    /// A misconception the marker found, by its name, for a person to
    /// confirm.
    Misconception { name: String },
    /// Claims the answer makes and denies, as said back.
    SaysBoth { claims: Vec<String> },
    /// Told by an analogy: what stands for what ("word = role"), if it says.
    Analogy { mapped: Vec<String> },
    /// Sentences on the subject that earned nothing, at this total.
    Unplaced { sentences: usize, total: u32 },
    /// Many words for a low total.
    LongForMark { words: usize, total: u32 },
    /// The question's file is missing, and this is what it may have been
    /// renamed to.
    Renamed { said: String },
}

impl Flag {
    /// Whether it says the answer looks gamed or answers another question
    /// (its answer points are lost and its concepts capped), rather than
    /// that the marker is unsure.
    pub fn gamed(&self) -> bool {
        matches!(
            self,
            Flag::KeywordList { .. }
                | Flag::Repeated { .. }
                | Flag::Filler { .. }
                | Flag::Generated { .. }
                | Flag::OtherQuestion { .. }
        )
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::KeywordList { fragments, on_topic } => write!(
                f,
                "a list of keywords: {fragments} lines of a few words, {on_topic} sentences on the subject"
            ),
            Flag::Repeated { sentences } => {
                write!(f, "repeated text: {sentences} sentences say again what another said")
            }
            Flag::Filler { off_topic, sentences } => {
                write!(f, "filler: {off_topic} of {sentences} sentences are not about the subject")
            }
            Flag::Generated { words, distinct } => {
                write!(f, "repeated or generated text: {words} words, only {distinct} different ones")
            }
            Flag::OtherQuestion { sentences } => {
                write!(f, "another question answered: {sentences} sentences are about something else")
            }
            Flag::TooLong { words } => write!(f, "{words} words: far longer than an answer to this question"),
            Flag::Misconception { name } => write!(f, "a misconception to confirm: {name}"),
            Flag::SaysBoth { claims } => {
                write!(f, "the answer says both that and the opposite: {}", claims.join(", "))
            }
            Flag::Analogy { mapped } if mapped.is_empty() => f.write_str(
                "told by an analogy that does not say what stands for what, which the marker reads only in part",
            ),
            Flag::Analogy { mapped } => {
                write!(f, "told by analogy ({}), which the marker reads only in part", mapped.join(", "))
            }
            Flag::Unplaced { sentences, total } => write!(
                f,
                "{sentences} sentences on the subject earned nothing, at {total}/10: they may say in other words what the marker looks for"
            ),
            Flag::LongForMark { words, total } => {
                write!(f, "{words} words for {total}/10: the marker may have missed what they say")
            }
            Flag::Renamed { said } => write!(f, "renamed? {said}"),
        }
    }
}

/// Flags, worded and joined as a scorecard or gradebook shows them.
pub fn worded(flags: &[Flag]) -> String {
    flags.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}
