//! Marking a written answer (Q1, Q2, Q4) by what its sentences say, as the
//! instructor's rubric in `answers.toml` describes, rather than by its
//! length or its keywords.
//!
//! ```
//! use grader::rubric::Question;
//! use grader::checks::written::mark;
//! let marked = mark(Question::Q1, "Multiprocessing runs several processes at the same time, \
//!     on several cores in parallel, so CPU-bound work finishes faster.");
//! assert!(marked.concept_points >= 6 && marked.flags.is_empty());
//! let stuffed = mark(Question::Q1, "- processes\n- cores\n- parallel\n- speed\n- isolation\n- overhead\n");
//! assert_eq!(stuffed.concept_points, 0);
//! assert!(!stuffed.flags.is_empty());
//! ```
//!
//! An answer is cut into sentences (each bullet is one). Only a sentence
//! that says something counts: enough words, enough of them the small words
//! every English sentence has (a list of keywords has none), not a repeat.
//! A concept is shown by one such sentence matching one of its patterns, all
//! of a pattern's words in that sentence; the sentence is quoted back to
//! the student. Answers that look gamed (keyword lists, repeated or filler
//! text) or that answer another question are flagged for the instructor's
//! review, and capped.

pub mod claims;

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::checks::flag::Flag;
use crate::rubric::Question;
use claims::{Claim, Spec, Vocabulary};

/// The rubric of the written answers, as the instructor wrote it.
pub const RUBRIC: &str = include_str!("written/answers.toml");

/// `answers.toml`, read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// Whether this copy carries the marker's matching rules (`public`, the
    /// default) or only the concepts (`private`: a release made with
    /// `--written-rubric private`, whose local marks of the concepts are
    /// provisional; the instructor's grader gives the marks).
    #[serde(default)]
    pub rules: Rules,
    /// What an answer of the student's own, on the question, earns.
    pub answer_points: u32,
    /// The most a flagged answer's concepts earn.
    pub flagged_at_most: u32,
    /// The most an answer that states a central misconception earns in all.
    pub misconception_at_most: u32,
    /// The most all the misconceptions of an answer take together (two
    /// statements of one wrong idea are not charged twice over).
    pub misconceptions_take_at_most: u32,
    /// Words that show a sentence reports a wrong claim rather than states
    /// it.
    pub reported: Vec<String>,
    pub sentences: Sentences,
    pub topic: Topic,
    /// Who does what: the roles and relations claims are read with.
    pub claims: Vocabulary,
    /// When a mark is uncertain enough to ask the instructor.
    pub confidence: Confidence,
    pub question: Vec<QuestionRubric>,
}

/// What makes the marker unsure of a mark, and so ask.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confidence {
    /// Only an answer marked below this is asked about.
    pub unsure_below: u32,
    /// Sentences on the subject that name a role or say a relation but
    /// credit nothing and state nothing the rubric knows: this many or
    /// more, at a mark of `unplaced_below` or less, is asked about.
    pub unplaced_sentences: usize,
    pub unplaced_below: u32,
    /// An answer of at least this many words that earns at most
    /// `long_below` is asked about: it says a lot the marker did not credit.
    pub long_words: usize,
    pub long_below: u32,
}

/// Whether the matching rules are in this copy of `answers.toml`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rules {
    #[default]
    Public,
    Private,
}

/// The keys of `answers.toml` that say how the marker recognises what an
/// answer says, rather than what a full answer covers.
const RULE_KEYS: &[&str] = &[
    "reported",
    "shown_by",
    "unless",
    "different_question",
    "claims",
    "examples",
    "negators",
    "clause_words",
    "contrasts",
    "named_by",
    "weakly_named_by",
    "says",
    "opposite",
];

/// `answers.toml` without its matching rules (every pattern, claim and
/// example emptied), marked `rules = "private"`: what a
/// release made with `--written-rubric private` carries. The concepts,
/// their hints and nudges stay: what a full answer covers is a fair
/// published rubric; how the marker recognises it is the instructor's.
pub fn without_rules(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    let mut marked = false;
    for line in text.split_inclusive('\n') {
        if skipping {
            skipping = !line.trim_start().starts_with(']');
            continue;
        }
        let key = line.split('=').next().unwrap_or_default().trim();
        if RULE_KEYS.contains(&key) {
            out.push_str(&format!("{key} = []\n"));
            skipping = !line.trim_end().ends_with(']');
            continue;
        }
        if !marked && line.starts_with("rules = ") {
            // Already a private copy.
            marked = true;
        }
        if !marked && line.starts_with("answer_points") {
            out.push_str("# This copy carries the concepts, not the rules that recognise them: its\n# marks of the concepts are provisional, and your instructor's grader\n# gives the marks.\nrules = \"private\"\n");
            marked = true;
        }
        out.push_str(line);
    }
    out
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sentences {
    pub min_words: usize,
    pub min_function_words: usize,
    pub min_function_share: f64,
    pub vocabulary_from: usize,
    pub min_vocabulary_growth: f64,
    pub longest: usize,
    pub function_words: Vec<String>,
    pub placeholders: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub words: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionRubric {
    pub number: u32,
    pub hint: String,
    /// Who an analogy that never says what stands for what speaks of, as
    /// a TA reads it (Q1: the processes; Q4: the workers; Q2 compares two
    /// roles, so none).
    #[serde(default)]
    pub analogy_role: Option<String>,
    pub different_question: Vec<String>,
    pub concept: Vec<Concept>,
    #[serde(default)]
    pub misconception: Vec<Misconception>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Concept {
    pub id: String,
    pub name: String,
    pub required: bool,
    pub points: u32,
    /// Patterns of words that show it.
    #[serde(default)]
    pub shown_by: Vec<String>,
    /// Claims that show it ([`claims::Spec`]).
    #[serde(default)]
    pub claims: Vec<String>,
    pub hint: String,
    /// What `grader hint` says when it is missing: a question to think
    /// about, one step further than the hint.
    pub nudge: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Misconception {
    pub id: String,
    /// The wrong claim, in short.
    pub name: String,
    /// What is true instead: a sentence that teaches.
    pub feedback: String,
    /// What it costs, beyond the concepts it contradicts.
    pub points: u32,
    /// About the heart of the question: the answer gets at most
    /// `misconception_at_most` in all.
    #[serde(default)]
    pub central: bool,
    /// The concepts it gets wrong: an answer that states it is not credited
    /// with them.
    #[serde(default)]
    pub contradicts: Vec<String>,
    #[serde(default)]
    pub shown_by: Vec<String>,
    #[serde(default)]
    pub claims: Vec<String>,
    /// Patterns that, in the same sentence, make it no misconception ("in
    /// Python", "through a shared memory segment").
    #[serde(default)]
    pub unless: Vec<String>,
    /// Sentences that state it, as students write it: the tests check each
    /// is found, and credits nothing it contradicts.
    #[serde(default)]
    pub examples: Vec<String>,
}

impl Rubric {
    /// `answers.toml`, parsed and checked once.
    pub fn get() -> &'static Rubric {
        static RUBRIC_READ: OnceLock<Rubric> = OnceLock::new();
        RUBRIC_READ.get_or_init(|| match Rubric::parse(RUBRIC) {
            Ok(rubric) => rubric,
            // The tests parse it: a grader cannot be built from a broken one
            // without a failing test.
            Err(e) => panic!("grader/src/checks/written/answers.toml: {e}"),
        })
    }

    /// Parses a rubric and checks it: every pattern well formed, each
    /// question's required points what its concepts check is worth.
    pub fn parse(text: &str) -> Result<Rubric, String> {
        let rubric: Rubric = toml::from_str(text).map_err(|e| e.to_string())?;
        for q in &rubric.question {
            let question =
                Question::parse(&q.number.to_string()).ok_or_else(|| format!("no question {}", q.number))?;
            if !question.is_written() {
                return Err(format!("Q{} is not a written question", q.number));
            }
            let required: u32 = q.concept.iter().filter(|c| c.required).map(|c| c.points).sum();
            let worth = concept_check_points(question);
            if required != worth {
                return Err(format!(
                    "Q{}: the required concepts are worth {required} points, but its concepts check {worth}",
                    q.number
                ));
            }
            let patterns = q
                .concept
                .iter()
                .flat_map(|c| &c.shown_by)
                .chain(q.misconception.iter().flat_map(|m| m.shown_by.iter().chain(&m.unless)))
                .chain(&q.different_question);
            for pattern in patterns {
                Pattern::parse(pattern).map_err(|e| format!("Q{}: {e}", q.number))?;
            }
            let specs = q
                .concept
                .iter()
                .flat_map(|c| &c.claims)
                .chain(q.misconception.iter().flat_map(|m| &m.claims));
            for spec in specs {
                Spec::parse(spec, &rubric.claims).map_err(|e| format!("Q{}: {e}", q.number))?;
            }
            for m in &q.misconception {
                if let Some(unknown) = m.contradicts.iter().find(|id| !q.concept.iter().any(|c| &c.id == *id))
                {
                    return Err(format!(
                        "Q{}: misconception {} contradicts no concept {unknown:?}",
                        q.number, m.id
                    ));
                }
                if m.shown_by.is_empty() && m.claims.is_empty() && rubric.rules == Rules::Public {
                    return Err(format!(
                        "Q{}: misconception {} has neither shown_by nor claims",
                        q.number, m.id
                    ));
                }
            }
        }
        for question in Question::ALL.into_iter().filter(|q| q.is_written()) {
            if !rubric.question.iter().any(|q| q.number == question.number()) {
                return Err(format!("Q{} has no entry", question.number()));
            }
        }
        for pattern in &rubric.reported {
            Pattern::parse(pattern)?;
        }
        claims::Reader::new(&rubric.claims)?;
        Ok(rubric)
    }

    fn of(&self, question: Question) -> &QuestionRubric {
        self.question.iter().find(|q| q.number == question.number()).expect("checked by parse")
    }
}

/// What the concepts check of a written question is worth: all of it but
/// the answer check's points.
fn concept_check_points(question: Question) -> u32 {
    crate::rubric::checks_of(question).skip(1).map(|c| c.points).sum()
}

/// What reading an answer found.
#[derive(Debug, Clone)]
pub struct Marked {
    /// Nothing but a placeholder, the prompt, or nothing at all.
    pub placeholder: bool,
    /// Sentences that say something, counted once each (a line of a few
    /// words that is no sentence is a fragment: four or more of them, more
    /// than the sentences on the subject, make a list of keywords).
    pub sentences: usize,
    /// Sentences that say something about the subject.
    pub on_topic: usize,
    /// Points for an answer of the student's own, on the question.
    pub answer_points: u32,
    /// Points for the concepts shown (misconceptions taken off, capped when
    /// flagged).
    pub concept_points: u32,
    /// What the concept points are out of.
    pub concept_max: u32,
    /// Each concept shown, with the sentence that showed it.
    pub shown: Vec<(&'static Concept, String)>,
    /// The required concepts not shown.
    pub missing: Vec<&'static Concept>,
    /// Misconceptions found, with the sentence.
    pub misconceptions: Vec<(&'static Misconception, String)>,
    /// Why the answer looks gamed or answers another question (no answer
    /// points, concepts capped), if it does.
    pub gamed: Vec<Flag>,
    /// Why the answer needs the instructor's review, if it does: what made
    /// it gamed, a misconception, or what makes the marker unsure of it.
    pub flags: Vec<Flag>,
    /// The concept points were cut to the flagged answer's most.
    pub capped: bool,
    /// Each sentence read, with the claims read in it.
    pub read: Vec<(String, Vec<Claim>)>,
    /// What the answer's analogies say stands for what: (word, role).
    pub analogies: Vec<(String, String)>,
}

impl Marked {
    pub fn total(&self) -> u32 {
        self.answer_points + self.concept_points
    }
}

/// The rubric, compiled once: its patterns parsed, its claims ready.
struct Compiled {
    text: Reader,
    reported: Vec<Pattern>,
    claims: claims::Reader,
    questions: Vec<(u32, CompiledQuestion)>,
}

struct CompiledQuestion {
    concepts: Vec<Rule>,
    misconceptions: Vec<(Rule, Vec<Pattern>)>,
    other: Vec<Pattern>,
}

/// What shows a concept or a misconception: word patterns, claims.
struct Rule {
    patterns: Vec<Pattern>,
    specs: Vec<Spec>,
}

impl Rule {
    fn new(patterns: &[String], specs: &[String], vocabulary: &Vocabulary) -> Rule {
        Rule {
            patterns: patterns.iter().filter_map(|p| Pattern::parse(p).ok()).collect(),
            specs: specs.iter().filter_map(|s| Spec::parse(s, vocabulary).ok()).collect(),
        }
    }

    fn shown_by(&self, sentence: &Sentence) -> bool {
        self.patterns.iter().any(|p| p.matches(&sentence.words)) || self.claimed(&sentence.claims)
    }

    /// Stated as a misconception is: by its words, or by a claim whose
    /// subject was named, not guessed.
    fn stated_by(&self, sentence: &Sentence) -> bool {
        self.patterns.iter().any(|p| p.matches(&sentence.words))
            || sentence.claims.iter().any(|c| !c.guessed && self.specs.iter().any(|s| s.matches(c)))
    }

    /// Shown as a concept is: in the sentence's words or in what its
    /// analogy's words stand for ("each cook" read "each process").
    fn shown_as_told(&self, sentence: &Sentence) -> bool {
        self.shown_by(sentence)
            || self.patterns.iter().any(|p| p.matches(&sentence.told))
            || self.claimed(&sentence.inferred)
    }

    fn claimed(&self, claims: &[Claim]) -> bool {
        claims.iter().any(|c| self.specs.iter().any(|s| s.matches(c)))
    }

    /// Whether the sentence claims the opposite of one of the rule's claims.
    fn denied_by(&self, sentence: &Sentence) -> bool {
        sentence.claims.iter().any(|c| self.specs.iter().any(|s| s.denied_by(c)))
    }
}

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let rubric = Rubric::get();
        let vocabulary = &rubric.claims;
        let questions = rubric
            .question
            .iter()
            .map(|q| {
                let concepts =
                    q.concept.iter().map(|c| Rule::new(&c.shown_by, &c.claims, vocabulary)).collect();
                let misconceptions = q
                    .misconception
                    .iter()
                    .map(|m| {
                        let unless = m.unless.iter().filter_map(|p| Pattern::parse(p).ok()).collect();
                        (Rule::new(&m.shown_by, &m.claims, vocabulary), unless)
                    })
                    .collect();
                let other = q.different_question.iter().filter_map(|p| Pattern::parse(p).ok()).collect();
                (q.number, CompiledQuestion { concepts, misconceptions, other })
            })
            .collect();
        Compiled {
            text: Reader::new(rubric),
            reported: rubric.reported.iter().filter_map(|p| Pattern::parse(p).ok()).collect(),
            // Checked by parse.
            claims: claims::Reader::new(vocabulary)
                .unwrap_or_else(|e| panic!("grader/src/checks/written/answers.toml: {e}")),
            questions,
        }
    })
}

/// The rubric's reader of claims (the marker's own).
pub fn claims_reader() -> &'static claims::Reader {
    &compiled().claims
}

/// What reading an answer's sentences found, before it is marked: the
/// sentences, its analogies, and which sentences state a misconception.
#[derive(Clone, Copy)]
struct Reading<'a> {
    sentences: &'a [Sentence<'a>],
    aliases: &'a [(String, String)],
    analogy: bool,
    wrong: &'a HashSet<usize>,
}

/// A sentence of an answer, read.
struct Sentence<'a> {
    text: &'a str,
    words: Vec<String>,
    /// Its words, an analogy's read as what they stand for.
    told: Vec<String>,
    claims: Vec<Claim>,
    /// Claims an analogy makes of the question's main role without naming
    /// it: they show concepts, never a misconception.
    inferred: Vec<Claim>,
}

/// Marks `text` as the answer to `question`.
pub fn mark(question: Question, text: &str) -> Marked {
    let rubric = Rubric::get();
    let q = rubric.of(question);
    let compiled = compiled();
    let rules =
        &compiled.questions.iter().find(|(n, _)| *n == question.number()).expect("checked by parse").1;
    let reader = &compiled.text;
    let units = units(text);
    let concept_max = concept_check_points(question);
    if reader.is_placeholder(&units) {
        return Marked::placeholder(q, concept_max);
    }
    let Kept { mut sentences, repeats, fragments } = kept_sentences(&units, reader);
    let (aliases, analogy) = read_claims(&mut sentences, q, compiled);
    let on_topic = sentences.iter().filter(|s| on_subject(s, reader, &aliases)).count();
    let (misconceptions, wrong) = misconceptions(&sentences, q, rules, compiled);
    let shown = concepts_shown(&sentences, q, rules, &misconceptions, &wrong);
    let words: Vec<String> = units.iter().flat_map(|u| words(&u.text)).collect();
    let gamed = gamed(&Counts {
        sentences: sentences.len(),
        on_topic,
        repeats,
        fragments,
        analogy,
        words: &words,
        about_other: sentences.iter().filter(|s| rules.other.iter().any(|p| p.matches(&s.words))).count(),
        shown: shown.len(),
    });
    let points = Points::of(&shown, &misconceptions, &gamed, on_topic, concept_max);

    let mut flags = gamed.clone();
    if words.len() > rubric.sentences.longest {
        flags.push(Flag::TooLong { words: words.len() });
    }
    flags.extend(misconceptions.iter().map(|(m, _)| Flag::Misconception { name: m.name.clone() }));
    // Without the rules (a private copy), the marker knows it cannot judge
    // the concepts: its doubts would only be noise.
    if gamed.is_empty() && rubric.rules == Rules::Public {
        let credited: HashSet<&str> = shown.iter().map(|(_, s)| s.as_str()).collect();
        let reading = Reading { sentences: &sentences, aliases: &aliases, analogy, wrong: &wrong };
        flags.extend(unsure(&reading, rules, &credited, words.len(), points.answer + points.concept));
    }
    Marked {
        placeholder: false,
        sentences: sentences.len(),
        on_topic,
        answer_points: points.answer,
        concept_points: points.concept,
        concept_max,
        missing: q
            .concept
            .iter()
            .filter(|c| c.required && !shown.iter().any(|(s, _)| s.id == c.id))
            .collect(),
        shown,
        misconceptions,
        gamed,
        flags,
        capped: points.capped,
        read: sentences.into_iter().map(|s| (s.text.to_string(), s.claims)).collect(),
        analogies: aliases,
    }
}

impl Marked {
    /// The mark of a placeholder: nothing shown, every required concept
    /// missing.
    fn placeholder(q: &'static QuestionRubric, concept_max: u32) -> Marked {
        Marked {
            placeholder: true,
            sentences: 0,
            on_topic: 0,
            answer_points: 0,
            concept_points: 0,
            concept_max,
            shown: Vec::new(),
            missing: q.concept.iter().filter(|c| c.required).collect(),
            misconceptions: Vec::new(),
            gamed: Vec::new(),
            flags: Vec::new(),
            capped: false,
            read: Vec::new(),
            analogies: Vec::new(),
        }
    }
}

/// The sentences that say something, each once, and what was left out.
struct Kept<'a> {
    sentences: Vec<Sentence<'a>>,
    /// Sentences that said again what another said.
    repeats: usize,
    /// Lines of a few words that say nothing.
    fragments: usize,
}

/// Each sentence once: a repeat says nothing new.
fn kept_sentences<'a>(units: &'a [Unit], reader: &Reader) -> Kept<'a> {
    let mut seen = HashSet::new();
    let mut kept = Kept { sentences: Vec::new(), repeats: 0, fragments: 0 };
    for unit in units {
        let words = words(&unit.text);
        if words.is_empty() {
            continue;
        }
        if !unit.structured && !reader.says_something(&words) {
            if words.len() <= 6 {
                kept.fragments += 1;
            }
            continue;
        }
        if !seen.insert(words.join(" ")) {
            kept.repeats += 1;
            continue;
        }
        kept.sentences.push(Sentence {
            text: unit.text.as_str(),
            told: words.clone(),
            words,
            claims: Vec::new(),
            inferred: Vec::new(),
        });
    }
    kept
}

/// Reads each sentence's claims, an analogy's words as what they stand for.
/// Returns the analogy's aliases (word, role) and whether the answer is
/// told by analogy.
fn read_claims(
    sentences: &mut [Sentence],
    q: &QuestionRubric,
    compiled: &Compiled,
) -> (Vec<(String, String)>, bool) {
    let reader = &compiled.text;
    let texts: Vec<String> = sentences.iter().map(|s| s.text.to_string()).collect();
    let aliases = claims::aliases(&compiled.claims, &texts, |w| {
        !reader.function_words.contains(w) && !reader.on_topic(&[w.to_string()])
    });
    let mut about = None;
    for sentence in sentences.iter_mut() {
        sentence.told = claims::as_told(&sentence.words, &aliases);
        sentence.claims = compiled.claims.claims(sentence.text, &aliases, &mut about);
        if let (true, Some(role)) = (sentence.claims.is_empty(), &q.analogy_role) {
            sentence.inferred = compiled.claims.claims_as(sentence.text, &aliases, role);
        }
    }
    // An analogy: said to be one, or saying what stands for what, or
    // sentences off the subject that say of something what the question's
    // concepts say of its main role (crews with their own sites, working
    // at once).
    let figurative =
        sentences.iter().filter(|s| !reader.on_topic(&s.words) && !s.inferred.is_empty()).count();
    let analogy = claims::told_by_analogy(&texts) || !aliases.is_empty() || figurative >= 2;
    if !analogy {
        sentences.iter_mut().for_each(|s| s.inferred.clear());
    }
    (aliases, analogy)
}

/// Whether a sentence is on the subject; an analogy's, through what stands
/// for it.
fn on_subject(s: &Sentence, reader: &Reader, aliases: &[(String, String)]) -> bool {
    reader.on_topic(&s.words)
        || !s.claims.is_empty()
        || !s.inferred.is_empty()
        || s.words.iter().any(|w| aliases.iter().any(|(a, _)| *a == w.trim_end_matches('s')))
}

/// The misconceptions stated, each with the first sentence that states it,
/// and every sentence that states one (it credits nothing).
fn misconceptions(
    sentences: &[Sentence],
    q: &'static QuestionRubric,
    rules: &CompiledQuestion,
    compiled: &Compiled,
) -> (Vec<(&'static Misconception, String)>, HashSet<usize>) {
    let mut found_all = Vec::new();
    let mut wrong = HashSet::new();
    for (m, (rule, unless)) in q.misconception.iter().zip(&rules.misconceptions) {
        let stated = |s: &Sentence| {
            rule.stated_by(s)
                && !unless.iter().any(|p| p.matches(&s.words))
                && !compiled.reported.iter().any(|p| p.matches(&s.words))
        };
        let mut found = sentences.iter().enumerate().filter(|(_, s)| stated(s)).peekable();
        if let Some((_, first)) = found.peek() {
            found_all.push((m, quote(first.text)));
        }
        wrong.extend(found.map(|(i, _)| i));
    }
    (found_all, wrong)
}

/// The concepts shown, each with the sentence that showed it: never by a
/// sentence that states a misconception, nor one a misconception found
/// contradicts.
fn concepts_shown(
    sentences: &[Sentence],
    q: &'static QuestionRubric,
    rules: &CompiledQuestion,
    misconceptions: &[(&'static Misconception, String)],
    wrong: &HashSet<usize>,
) -> Vec<(&'static Concept, String)> {
    let contradicted: HashSet<&str> =
        misconceptions.iter().flat_map(|(m, _)| m.contradicts.iter().map(String::as_str)).collect();
    let mut shown = Vec::new();
    for (concept, rule) in q.concept.iter().zip(&rules.concepts) {
        if contradicted.contains(concept.id.as_str()) {
            continue;
        }
        let found = sentences
            .iter()
            .enumerate()
            .find(|(i, s)| !wrong.contains(i) && rule.shown_as_told(s) && !rule.denied_by(s));
        if let Some((_, sentence)) = found {
            shown.push((concept, quote(sentence.text)));
        }
    }
    shown
}

/// What the answer's shape says of it, for [`gamed`].
struct Counts<'a> {
    sentences: usize,
    on_topic: usize,
    repeats: usize,
    fragments: usize,
    analogy: bool,
    words: &'a [String],
    about_other: usize,
    shown: usize,
}

/// Why the answer looks gamed or answers another question, if it does.
fn gamed(c: &Counts) -> Vec<Flag> {
    let limits = &Rubric::get().sentences;
    let mut gamed = Vec::new();
    if c.fragments >= 4 && c.fragments > c.on_topic {
        gamed.push(Flag::KeywordList { fragments: c.fragments, on_topic: c.on_topic });
    }
    if c.repeats >= 3 || (c.repeats >= 2 && c.repeats * 3 >= c.sentences + c.repeats) {
        gamed.push(Flag::Repeated { sentences: c.repeats });
    }
    // An analogy that says what stands for what is no filler: it is asked
    // about in `unsure`.
    let off_topic = c.sentences - c.on_topic;
    if off_topic >= 3 && off_topic * 5 >= c.sentences * 2 && !c.analogy {
        gamed.push(Flag::Filler { off_topic, sentences: c.sentences });
    }
    let distinct = c.words.iter().collect::<HashSet<_>>().len();
    let growth = (distinct as f64).ln() / (c.words.len() as f64).ln();
    if c.words.len() >= limits.vocabulary_from && growth < limits.min_vocabulary_growth {
        gamed.push(Flag::Generated { words: c.words.len(), distinct });
    }
    let other = c.about_other;
    if other >= 2 || (other >= 1 && c.shown <= 3) || (other >= 1 && other * 4 >= c.on_topic) {
        gamed.push(Flag::OtherQuestion { sentences: other });
    }
    gamed
}

/// An answer's points, from what it showed and stated.
struct Points {
    answer: u32,
    concept: u32,
    /// The concept points were cut to a flagged answer's most.
    capped: bool,
}

impl Points {
    fn of(
        shown: &[(&Concept, String)],
        misconceptions: &[(&Misconception, String)],
        gamed: &[Flag],
        on_topic: usize,
        concept_max: u32,
    ) -> Points {
        let rubric = Rubric::get();
        let required: u32 = shown.iter().filter(|(c, _)| c.required).map(|(c, _)| c.points).sum();
        let extras: u32 = shown.iter().filter(|(c, _)| !c.required).map(|(c, _)| c.points).sum();
        let taken: u32 =
            misconceptions.iter().map(|(m, _)| m.points).sum::<u32>().min(rubric.misconceptions_take_at_most);
        let earned = (required + extras).min(concept_max).saturating_sub(taken);
        let capped = !gamed.is_empty() && earned > rubric.flagged_at_most;
        let concept = if gamed.is_empty() { earned } else { earned.min(rubric.flagged_at_most) };
        let answer = if gamed.is_empty() && on_topic > 0 { rubric.answer_points } else { 0 };
        // Built on a wrong claim about a key point: at most so much in all.
        let concept = if misconceptions.iter().any(|(m, _)| m.central) {
            concept.min(rubric.misconception_at_most.saturating_sub(answer))
        } else {
            concept
        };
        Points { answer, concept, capped }
    }
}

/// Why the marker is unsure of its mark: claims it could not place, claims
/// that contradict each other, an answer long for its mark, an analogy.
fn unsure(
    reading: &Reading,
    rules: &CompiledQuestion,
    credited: &HashSet<&str>,
    words: usize,
    total: u32,
) -> Vec<Flag> {
    let Reading { sentences, aliases, analogy, wrong } = *reading;
    let (confidence, claims) = (&Rubric::get().confidence, &compiled().claims);
    let mut unsure = Vec::new();
    if total >= confidence.unsure_below {
        return unsure;
    }
    // Only claims the question's rubric speaks of: the rest is too loosely
    // read to say the answer contradicts itself.
    // Nor a claim its sentence qualifies ("in CPython only one thread runs
    // at a time"): that is no contradiction.
    let qualified = |sentence: &Sentence, c: &Claim| {
        rules.misconceptions.iter().any(|(rule, unless)| {
            rule.specs.iter().any(|s| s.matches(c)) && unless.iter().any(|p| p.matches(&sentence.words))
        })
    };
    let mut said: Vec<&Claim> = sentences
        .iter()
        .flat_map(|s| s.claims.iter().filter(move |c| !qualified(s, c)))
        .filter(|c| {
            rules
                .concepts
                .iter()
                .chain(rules.misconceptions.iter().map(|(r, _)| r))
                .any(|r| r.specs.iter().any(|s| s.matches(c) || s.denied_by(c)))
        })
        .collect();
    said.sort_by(|a, b| (&a.role, &a.relation).cmp(&(&b.role, &b.relation)));
    let claims_both: Vec<String> = said
        .windows(2)
        .filter(|w| w[0].role == w[1].role && w[0].relation == w[1].relation && w[0].holds != w[1].holds)
        .map(|w| format!("“{}”", Claim { holds: true, ..w[0].clone() }.said(&Rubric::get().claims)))
        .collect();
    if !claims_both.is_empty() {
        unsure.push(Flag::SaysBoth { claims: claims_both });
    }
    if !aliases.is_empty() {
        let roles = &Rubric::get().claims.roles;
        let said =
            |role: &str| roles.iter().find(|r| r.id == role).map_or(role.to_string(), |r| r.said.clone());
        let mapped: Vec<String> =
            aliases.iter().map(|(word, role)| format!("{word} = {}", said(role))).collect();
        unsure.push(Flag::Analogy { mapped });
    } else if analogy {
        unsure.push(Flag::Analogy { mapped: Vec::new() });
    }
    let unplaced = sentences
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            !wrong.contains(i)
                && !credited.contains(quote(s.text).as_str())
                && (claims.names_a_role(s.text, aliases) || claims.says_a_relation(s.text))
        })
        .count();
    if unplaced >= confidence.unplaced_sentences && total <= confidence.unplaced_below {
        unsure.push(Flag::Unplaced { sentences: unplaced, total });
    }
    if words >= confidence.long_words && total <= confidence.long_below {
        unsure.push(Flag::LongForMark { words, total });
    }
    unsure
}

/// For whoever edits `answers.toml`: of each sentence of `text`, which of
/// the question's misconceptions its words or claims state, and what
/// excuses it (an `unless` or `reported` pattern, or a guessed subject).
pub fn explain(question: Question, text: &str) -> Vec<String> {
    let q = Rubric::get().of(question);
    let compiled = compiled();
    let Some((_, rules)) = compiled.questions.iter().find(|(n, _)| *n == question.number()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut about = None;
    for unit in units(text) {
        let words = words(&unit.text);
        let claims = compiled.claims.claims(&unit.text, &[], &mut about);
        let sentence = Sentence {
            text: &unit.text,
            told: words.clone(),
            words: words.clone(),
            claims,
            inferred: Vec::new(),
        };
        for (m, (rule, unless)) in q.misconception.iter().zip(&rules.misconceptions) {
            if !rule.shown_by(&sentence) {
                continue;
            }
            let excuse = unless
                .iter()
                .chain(&compiled.reported)
                .find(|p| p.matches(&words))
                .map(|p| format!("excused by {:?}", p.text))
                .or_else(|| (!rule.stated_by(&sentence)).then(|| "its subject was guessed".to_string()));
            out.push(format!("{}: {} ({})", m.id, unit.text, excuse.unwrap_or_else(|| "stated".into())));
        }
    }
    out
}

/// Whether this grader's copy of the rubric carries the matching rules.
pub fn rules() -> Rules {
    Rubric::get().rules
}

/// The hint of a written question: what a full answer covers.
pub fn hint(question: Question) -> &'static str {
    &Rubric::get().of(question).hint
}

/// The nudges of a written question's required concepts, in order: what
/// `grader hint` gives once what fails has had its own.
pub fn nudges(question: Question) -> Vec<&'static str> {
    Rubric::get().of(question).concept.iter().filter(|c| c.required).map(|c| c.nudge.as_str()).collect()
}

/// A sentence as quoted back: whole, for a cut could hide the very words a
/// concept or a misconception is about (the scorecard caps a message).
fn quote(unit: &str) -> String {
    unit.trim().to_string()
}

/// A sentence or bullet of an answer; `structured` when it was made from a
/// table's cell (a table comparing processes and threads says, in each
/// cell, something of the role that heads its column).
#[derive(Debug, PartialEq)]
struct Unit {
    text: String,
    structured: bool,
}

/// The answer's sentences and bullets, without headings and Markdown
/// markup; a table's rows read as sentences.
fn units(text: &str) -> Vec<Unit> {
    let mut units = Vec::new();
    let mut paragraph = String::new();
    let mut header: Option<Vec<String>> = None;
    let flush = |paragraph: &mut String, units: &mut Vec<Unit>| {
        units.extend(sentences(paragraph).into_iter().map(|text| Unit { text, structured: false }));
        paragraph.clear();
    };
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    // A code block is no prose: its lines say nothing to mark.
    let mut code = false;
    for (i, line) in lines.iter().enumerate() {
        let line = *line;
        if line.starts_with("```") || line.starts_with("~~~") {
            code = !code;
            flush(&mut paragraph, &mut units);
            continue;
        }
        if code {
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            flush(&mut paragraph, &mut units);
            header = None;
            continue;
        }
        if line.starts_with('|') {
            flush(&mut paragraph, &mut units);
            let cells: Vec<String> =
                line.trim_matches('|').split('|').map(|c| c.trim().replace(['*', '_', '`'], "")).collect();
            if cells.iter().all(|c| c.chars().all(|ch| matches!(ch, '-' | ':' | ' '))) {
                continue;
            }
            let separator_next = lines.get(i + 1).is_some_and(|n| n.starts_with('|') && n.contains("--"));
            if separator_next {
                header = Some(cells);
                continue;
            }
            units.extend(table_row(header.as_deref(), &cells));
            continue;
        }
        header = None;
        let bullet = ["- ", "* ", "+ ", "• "].iter().find_map(|b| line.strip_prefix(b)).or_else(|| {
            let digits = line.bytes().take_while(u8::is_ascii_digit).count();
            (digits > 0)
                .then(|| &line[digits..])
                .and_then(|rest| rest.strip_prefix(". ").or(rest.strip_prefix(") ")))
        });
        match bullet {
            Some(item) => {
                flush(&mut paragraph, &mut units);
                paragraph.push_str(item);
            }
            None => {
                paragraph.push(' ');
                paragraph.push_str(line);
            }
        }
    }
    flush(&mut paragraph, &mut units);
    units
        .into_iter()
        .map(|u| Unit { text: without_keyword_lists(&u.text.replace(['*', '_', '`'], "")), ..u })
        .filter(|u| !u.text.trim().is_empty())
        .collect()
}

/// A sentence without its bracketed lists of bare keywords ("…, and they
/// are different things (memory, cores, GIL, parallelism, overhead)"): a
/// list says nothing, in a sentence or out of one.
fn without_keyword_lists(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        let Some(close) = rest[open..].find(')').map(|c| open + c) else { break };
        let inside = &rest[open + 1..close];
        let items: Vec<&str> = inside.split(',').map(str::trim).collect();
        let list = items.len() >= 3 && items.iter().all(|i| i.split_whitespace().count() <= 2);
        out.push_str(&rest[..open]);
        if !list {
            out.push_str(&rest[open..=close]);
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// A table's row as sentences: under a header whose columns name roles
/// ("| | Processes | Threads |"), one per role, "Processes, <cell> <the
/// row's label>"; otherwise the row's cells as one sentence.
fn table_row(header: Option<&[String]>, cells: &[String]) -> Vec<Unit> {
    let claims = &compiled().claims;
    let roles: Vec<(usize, &String)> = header
        .unwrap_or_default()
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, h)| claims.names_a_role(h, &[]))
        .collect();
    if roles.is_empty() || cells.len() < 2 {
        return vec![Unit { text: cells.join(", "), structured: false }];
    }
    let label = &cells[0];
    roles
        .into_iter()
        .filter_map(|(i, role)| cells.get(i).filter(|c| !c.is_empty()).map(|cell| (role, cell)))
        .map(|(role, cell)| Unit { text: format!("{role}, {cell} {label}."), structured: true })
        .collect()
}

/// A paragraph cut at the ends of its sentences.
fn sentences(paragraph: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = paragraph.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        // A semicolon ends a clause, not a sentence: "if there are more
        // processes than cores; the OS time-slices them" is one thought.
        let ends = matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|n| n.is_whitespace());
        if ends && !abbreviation(&current) {
            out.push(std::mem::take(&mut current));
        }
    }
    out.push(current);
    out.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

/// Whether a sentence so far ends in an abbreviation ("e.g.", "i.e.", "etc.").
fn abbreviation(text: &str) -> bool {
    let last = text.split_whitespace().last().unwrap_or("").to_lowercase();
    ["e.g.", "i.e.", "etc.", "vs.", "cf.", "approx."].contains(&last.as_str())
}

/// The words of a sentence, lower case: punctuation and hyphens are spaces.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The rubric's word lists, ready to match.
struct Reader {
    function_words: HashSet<String>,
    topic: Pattern,
    placeholders: Vec<Vec<String>>,
    sentences: &'static Sentences,
}

impl Reader {
    fn new(rubric: &'static Rubric) -> Reader {
        let topic = rubric.topic.words.join(" | ");
        let mut placeholders: Vec<Vec<String>> =
            rubric.sentences.placeholders.iter().map(|p| words(p)).collect();
        placeholders.push(words(crate::rubric::ANSWER_PROMPT));
        placeholders.sort_by_key(|p| std::cmp::Reverse(p.len()));
        Reader {
            function_words: rubric.sentences.function_words.iter().cloned().collect(),
            topic: Pattern::parse(&topic).unwrap_or_default(),
            placeholders,
            sentences: &rubric.sentences,
        }
    }

    fn says_something(&self, words: &[String]) -> bool {
        let function = words.iter().filter(|w| self.function_words.contains(*w)).count();
        words.len() >= self.sentences.min_words
            && function >= self.sentences.min_function_words
            && function as f64 >= self.sentences.min_function_share * words.len() as f64
    }

    fn on_topic(&self, words: &[String]) -> bool {
        self.topic.matches(words)
    }

    /// Whether the answer is nothing but placeholders (or nothing).
    fn is_placeholder(&self, units: &[Unit]) -> bool {
        let mut rest: Vec<String> = units.iter().flat_map(|u| words(&u.text)).collect();
        for placeholder in &self.placeholders {
            while let Some(at) = find(&rest, placeholder) {
                rest.drain(at..at + placeholder.len());
            }
        }
        rest.len() < 3
    }
}

/// Where `needle` occurs in `words`, as whole words.
fn find(words: &[String], needle: &[String]) -> Option<usize> {
    if needle.is_empty() || needle.len() > words.len() {
        return None;
    }
    (0..=words.len() - needle.len()).find(|&i| words[i..i + needle.len()] == *needle)
}

/// A pattern of the rubric: groups, all of which must occur in a sentence;
/// each group's alternatives, any of which will do; each alternative words
/// in a row, each of which may end in `*`.
#[derive(Debug, Clone, Default)]
struct Pattern {
    groups: Vec<Vec<Vec<Word>>>,
    /// As the rubric wrote it.
    text: String,
}

#[derive(Debug, Clone)]
struct Word {
    text: String,
    prefix: bool,
}

impl Pattern {
    fn parse(text: &str) -> Result<Pattern, String> {
        let mut groups = Vec::new();
        for group in text.split('&') {
            let mut alternatives = Vec::new();
            for alternative in group.split('|') {
                let words: Vec<Word> = alternative
                    .split_whitespace()
                    .map(|w| {
                        let (stem, prefix) = match w.strip_suffix('*') {
                            Some(stem) => (stem, true),
                            None => (w, false),
                        };
                        if stem.is_empty() || !stem.chars().all(|c| c.is_alphanumeric() && !c.is_uppercase()) {
                            return Err(format!(
                                "{w:?} in {text:?}: a word is lower-case letters and digits, and may end with *"
                            ));
                        }
                        Ok(Word { text: stem.to_string(), prefix })
                    })
                    .collect::<Result<_, _>>()?;
                if words.is_empty() {
                    return Err(format!("an empty alternative in {text:?}"));
                }
                alternatives.push(words);
            }
            groups.push(alternatives);
        }
        Ok(Pattern { groups, text: text.to_string() })
    }

    fn matches(&self, words: &[String]) -> bool {
        !self.groups.is_empty()
            && self.groups.iter().all(|alternatives| alternatives.iter().any(|alt| occurs(alt, words)))
    }
}

/// Whether the words of `alternative` occur in a row in `words`.
fn occurs(alternative: &[Word], words: &[String]) -> bool {
    words.windows(alternative.len()).any(|window| {
        window
            .iter()
            .zip(alternative)
            .all(|(w, a)| if a.prefix { w.starts_with(&a.text) } else { *w == a.text })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    /// Whether this copy of the rubric carries the matching rules the test
    /// is about: a release made with `--written-rubric private` does not,
    /// and says so rather than fail its students' `cargo test`.
    pub(crate) fn rules_here() -> bool {
        let here = rules() == Rules::Public;
        if !here {
            eprintln!(
                "skipped: this copy of the grader carries no matching rules (a private written rubric)"
            );
        }
        here
    }

    #[test]
    fn explain_says_what_states_a_misconception_and_what_excuses_it() {
        if !rules_here() {
            return;
        }
        let said =
            explain(Question::Q2, "Processes share memory. In Python, threads cannot run in parallel.");
        assert!(
            said.iter().any(|s| s.starts_with("processes-share-memory") && s.ends_with("(stated)")),
            "{said:?}"
        );
        assert!(
            said.iter()
                .any(|s| s.starts_with("threads-never-parallel") && s.contains("excused by \"python\"")),
            "{said:?}"
        );
        assert!(explain(Question::Q2, "Threads share memory.").is_empty());
    }

    #[test]
    fn the_send_sync_extra_needs_the_traits_not_the_verb() {
        if !rules_here() {
            return;
        }
        let said = |text: &str| {
            let marked = mark(Question::Q2, text);
            marked.shown.iter().any(|(c, _)| c.id == "send-sync")
        };
        assert!(!said(
            "Threads can send data to each other and share it with a mutex, which the compiler accepts in Rust."
        ));
        assert!(said(
            "Rust's ownership rules and the Send/Sync traits make a data race between threads a compile error."
        ));
    }

    #[test]
    fn how_many_workers_is_heard_in_plain_words() {
        if !rules_here() {
            return;
        }
        let bound = |text: &str| mark(Question::Q4, text).shown.iter().any(|(c, _)| c.id == "bound");
        for said in [
            "Usually the pool has about as many workers as there are CPU cores.",
            "The number of workers is usually the number of CPU cores.",
            "It has as many workers as the machine has CPU cores.",
        ] {
            assert!(bound(said), "{said}");
        }
        assert!(!bound("The workers of the pool run on the cores of the machine at the same time."));
    }

    #[test]
    fn a_private_copy_has_the_concepts_but_no_rules() {
        let private = without_rules(RUBRIC);
        let rubric = Rubric::parse(&private).unwrap();
        assert_eq!(rubric.rules, Rules::Private);
        for q in &rubric.question {
            assert!(q.different_question.is_empty());
            assert!(
                q.concept.iter().all(|c| c.shown_by.is_empty() && c.claims.is_empty() && !c.nudge.is_empty())
            );
            assert!(q.misconception.iter().all(|m| m.shown_by.is_empty()
                && m.unless.is_empty()
                && m.claims.is_empty()
                && m.examples.is_empty()
                && !m.feedback.is_empty()));
        }
        assert!(rubric.claims.roles.iter().all(|r| r.named_by.is_empty() && r.weakly_named_by.is_empty()));
        assert!(rubric.claims.relation.iter().all(|r| r.says.is_empty() && r.opposite.is_empty()));
        assert!(rubric.claims.negators.is_empty() && rubric.reported.is_empty());
        // Not a word of any pattern is left.
        assert!(!private.contains("number crunching") && private.contains("nudge = "));
        // And a private copy made private again is the same.
        assert_eq!(without_rules(&private), private);
        if rules_here() {
            assert_eq!(Rubric::parse(RUBRIC).unwrap().rules, Rules::Public);
        }
    }

    #[test]
    fn the_rubric_parses_and_adds_up() {
        if !rules_here() {
            return;
        }
        let rubric = Rubric::parse(RUBRIC).unwrap();
        assert_eq!(rubric.question.len(), 3);
        // A broken pattern is an error, not a silent miss.
        let broken = RUBRIC.replacen("\"gil | global interpreter lock\"", "\"gil | | lock\"", 1);
        assert!(Rubric::parse(&broken).unwrap_err().contains("empty alternative"));
        let upper = RUBRIC.replacen("\"gil | global interpreter lock\"", "\"GIL\"", 1);
        assert!(Rubric::parse(&upper).is_err());
    }

    #[test]
    fn patterns_match_within_one_sentence() {
        let p = Pattern::parse("process* & own memory | isolat*").unwrap();
        assert!(p.matches(&words("Each process has its own memory.")));
        assert!(p.matches(&words("Processes are isolated.")));
        assert!(!p.matches(&words("Each thread has its own memory.")));
    }

    #[test]
    fn placeholders_are_recognised_only_as_the_whole_answer() {
        for text in ["", "TODO", "_Write your answer here._", "# Q1. What?\n\ntodo: write your answer here\n"]
        {
            assert!(mark(Question::Q1, text).placeholder, "{text:?}");
        }
        let prompt = format!("# Q1. What is multiprocessing?\n\n{}\n", crate::rubric::ANSWER_PROMPT);
        assert!(mark(Question::Q1, &prompt).placeholder);
        let answer = "In a pool the workers fill in their part of the result, and the results are collected back in order.";
        assert!(!mark(Question::Q4, answer).placeholder);
    }

    #[test]
    fn repeats_and_keyword_lists_show_nothing_and_are_flagged() {
        let fox = "The quick brown fox jumps over the lazy dog. ".repeat(16)
            + "\n\n- threads\n- processes\n- memory\n- GIL\n- IPC\n- mutex\n- crash\n- overhead\n";
        let marked = mark(Question::Q2, &fox);
        assert!(marked.total() <= 3 && !marked.flags.is_empty(), "{marked:?}");
    }

    #[test]
    fn word_salad_and_endless_answers_are_flagged() {
        let words =
            ["process", "thread", "core", "parallel", "memory", "the", "a", "is", "of", "pool", "worker"];
        let salad: Vec<String> = (0..60)
            .map(|i| {
                let sentence: Vec<&str> =
                    (0..9).map(|j| words[(i * 7 + j * 3 + i * j) % words.len()]).collect();
                format!("{}.", sentence.join(" "))
            })
            .collect();
        let marked = mark(Question::Q1, &salad.join(" "));
        assert!(
            marked.total() <= 2 && marked.flags.iter().any(|f| matches!(f, Flag::Generated { .. })),
            "{marked:?}"
        );
        let reference =
            std::fs::read_to_string(crate::engine::workspace::home().join("answers/q1.md")).unwrap();
        assert!(!rules_here() || mark(Question::Q1, &reference).flags.is_empty());
        // Every word new, yet 2100 of them: flagged for its length alone.
        let endless: String = (0..300).map(|i| format!("The process {i}a is {i}b of {i}c. ")).collect();
        let marked = mark(Question::Q1, &endless);
        assert!(marked.gamed.is_empty(), "{:?}", marked.gamed);
        assert!(matches!(marked.flags[0], Flag::TooLong { .. }), "{:?}", marked.flags);
    }

    #[test]
    fn sentences_split_at_their_ends_and_bullets() {
        let units =
            units("# Title\n\nOne is here. Two, e.g. this, is there!\n- a bullet\n1. a numbered one\n");
        let texts: Vec<&str> = units.iter().map(|u| u.text.as_str()).collect();
        assert_eq!(texts, ["One is here.", "Two, e.g. this, is there!", "a bullet", "a numbered one"]);
    }
}
