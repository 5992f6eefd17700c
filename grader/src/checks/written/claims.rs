//! What a sentence claims: who (a role: a process, a thread, a child, a
//! pool's workers, the OS, a core) does what (a relation: shares memory,
//! runs in parallel, is started per task, is heavier), and whether the
//! sentence says it holds or not.
//!
//! ```
//! use grader::checks::written::claims::{Claim, read};
//! let said = read("Unlike threads, processes do not share memory.");
//! assert!(said.contains(&Claim::new("process", "share-memory", false)));
//! assert!(said.contains(&Claim::new("thread", "share-memory", true)));
//! let said = read("A forked child gets a copy of its parent's memory, threads don't.");
//! assert!(said.contains(&Claim::new("child", "share-memory", false)));
//! assert!(said.contains(&Claim::new("thread", "share-memory", true)));
//! ```
//!
//! Why a shallow reading rather than keywords or a full parser: a marker
//! that matches words credits "processes share memory" as the concept
//! "threads share memory", and "it saves starting a process per task" as
//! the misconception "a pool starts a process per task". What tells them
//! apart is the subject, the relation and the polarity, and those three can
//! be read from the words and their order: the subject of a relation is the
//! role named last before it in its clause (else the one the sentence, or
//! the sentence before, was about); a relation is said by one of its
//! phrases or denied by an opposite phrase; a negation ("not", "never",
//! "cannot", "instead of", "avoids") in its stretch of the clause turns it
//! over. A contrast ("unlike threads, …", "… than threads") gives the other
//! role the opposite claim; an elliptic clause ("… but processes don't")
//! repeats the relation before it. The vocabulary of roles and relations is
//! the instructor's, in `answers.toml` (`[claims]`), so a new way students
//! say a thing is a line there, not code.
//!
//! An answer told by analogy is read too, where it says what stands for
//! what: "each cook is a process" makes "cook" a name of the process role
//! for the rest of the answer ([`aliases`]).

use serde::Deserialize;

/// The vocabulary of claims, from `answers.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    /// Words that turn a relation over ("not", "never", "avoid*").
    pub negators: Vec<String>,
    /// Words that start a clause.
    pub clause_words: Vec<String>,
    /// Words before a role that make it a contrast ("unlike", "than").
    pub contrasts: Vec<String>,
    /// Each role and the phrases that name it.
    pub roles: Vec<Role>,
    /// Each relation and its phrases.
    pub relation: Vec<Relation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub id: String,
    /// How a message names it ("processes", "a forked child").
    pub said: String,
    pub named_by: Vec<String>,
    /// Names that may mean it or something else ("program"): the subject
    /// of a sentence that named a role by a strong name first is that role.
    #[serde(default)]
    pub weakly_named_by: Vec<String>,
}

/// A relation said in a clause, at `start..end`: whether its phrase says
/// it holds, whether it compares, and which words are the phrase's own (a
/// "no" in "no cost" is the phrase's, not a negation of it).
#[derive(Debug, Clone)]
struct Said {
    start: usize,
    end: usize,
    relation: String,
    polar: bool,
    comparative: bool,
    own: Vec<usize>,
}

/// A role named in a clause, at `start..end`.
#[derive(Debug, Clone)]
struct Mention {
    start: usize,
    end: usize,
    role: String,
    weak: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    pub id: String,
    /// How a message says it ("share memory").
    pub said: String,
    /// Phrases that say it holds.
    pub says: Vec<String>,
    /// Phrases that say it does not ("own memory" against "shares memory").
    pub opposite: Vec<String>,
    /// Whether a role named after "than" gets the opposite claim.
    #[serde(default)]
    pub comparative: bool,
}

/// A claim a sentence makes: `role` `relation`, holding or not.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Claim {
    pub role: String,
    pub relation: String,
    pub holds: bool,
    /// Its subject is a pronoun taken for what the sentence before was
    /// about ("They share it."): a guess, good enough to credit a concept,
    /// not to charge a misconception.
    pub guessed: bool,
}

impl Claim {
    pub fn new(role: &str, relation: &str, holds: bool) -> Claim {
        Claim { role: role.to_string(), relation: relation.to_string(), holds, guessed: false }
    }

    /// The claim in words: "threads share memory", "processes do not run in
    /// parallel".
    pub fn said(&self, vocabulary: &Vocabulary) -> String {
        let role = vocabulary
            .roles
            .iter()
            .find(|r| r.id == self.role)
            .map_or(self.role.as_str(), |r| r.said.as_str());
        let relation = vocabulary
            .relation
            .iter()
            .find(|r| r.id == self.relation)
            .map_or(self.relation.as_str(), |r| r.said.as_str());
        if self.holds { format!("{role} {relation}") } else { format!("{role}: not “{relation}”") }
    }
}

/// A claim as the rubric gives it: `"thread|child share-memory"` or
/// `"process not share-memory"`: any of the roles, the relation, holding
/// unless `not` says otherwise.
#[derive(Debug, Clone)]
pub struct Spec {
    pub roles: Vec<String>,
    pub relation: String,
    pub holds: bool,
}

impl Spec {
    pub fn parse(text: &str, vocabulary: &Vocabulary) -> Result<Spec, String> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        let (roles, holds, relation) = match parts.as_slice() {
            [roles, relation] => (roles, true, relation),
            [roles, "not", relation] => (roles, false, relation),
            _ => return Err(format!("{text:?}: a claim is `role|role [not] relation`")),
        };
        let roles: Vec<String> = roles.split('|').map(str::to_string).collect();
        for role in &roles {
            if !vocabulary.roles.iter().any(|r| &r.id == role) {
                return Err(format!("{text:?}: no role {role:?} in [claims]"));
            }
        }
        if !vocabulary.relation.iter().any(|r| r.id == *relation) {
            return Err(format!("{text:?}: no relation {relation:?} in [claims]"));
        }
        Ok(Spec { roles, relation: relation.to_string(), holds })
    }

    /// Whether `claim` is this one.
    pub fn matches(&self, claim: &Claim) -> bool {
        claim.relation == self.relation && claim.holds == self.holds && self.roles.contains(&claim.role)
    }

    /// Whether `claim` says the opposite of this one.
    pub fn denied_by(&self, claim: &Claim) -> bool {
        claim.relation == self.relation && claim.holds != self.holds && self.roles.contains(&claim.role)
    }
}

/// The vocabulary, compiled for reading.
#[derive(Debug)]
pub struct Reader {
    negators: Vec<Phrase>,
    clause_words: Vec<Phrase>,
    contrasts: Vec<Phrase>,
    roles: Vec<(String, Phrase, bool)>,
    relations: Vec<(String, bool, Phrase, bool)>,
}

impl Reader {
    pub fn new(vocabulary: &Vocabulary) -> Result<Reader, String> {
        let list = |words: &[String]| -> Result<Vec<Phrase>, String> {
            words.iter().map(|w| Phrase::parse(w)).collect()
        };
        let mut roles = Vec::new();
        for role in &vocabulary.roles {
            for (names, weak) in [(&role.named_by, false), (&role.weakly_named_by, true)] {
                for name in names {
                    roles.push((role.id.clone(), Phrase::parse(name)?, weak));
                }
            }
        }
        let mut relations = Vec::new();
        for relation in &vocabulary.relation {
            for (phrases, holds) in [(&relation.says, true), (&relation.opposite, false)] {
                for phrase in phrases {
                    relations.push((
                        relation.id.clone(),
                        holds,
                        Phrase::parse(phrase)?,
                        relation.comparative,
                    ));
                }
            }
        }
        Ok(Reader {
            negators: list(&vocabulary.negators)?,
            clause_words: list(&vocabulary.clause_words)?,
            contrasts: list(&vocabulary.contrasts)?,
            roles,
            relations,
        })
    }

    /// The claims of one sentence. `about` is the role the answer was last
    /// about (a sentence without a subject of its own, "They share it.",
    /// speaks of it), updated; `aliases` are the answer's analogies.
    pub fn claims(
        &self,
        sentence: &str,
        aliases: &[(String, String)],
        about: &mut Option<String>,
    ) -> Vec<Claim> {
        // The sentence before speaks for this one only through a pronoun.
        let previous = about.take();
        let claims = self.claims_after(sentence, aliases, about, previous.as_deref());
        if about.is_none() {
            *about = previous;
        }
        claims
    }

    /// The claims of a sentence of an analogy that does not say what
    /// stands for what, read as a teaching assistant would: what it says
    /// without a subject of its own, it says of `role` (a question's main
    /// role: Q1's processes, Q4's workers). Inferred, so never a
    /// misconception.
    pub fn claims_as(&self, sentence: &str, aliases: &[(String, String)], role: &str) -> Vec<Claim> {
        self.claims_after(sentence, aliases, &mut Some(role.to_string()), None)
    }

    fn claims_after(
        &self,
        sentence: &str,
        aliases: &[(String, String)],
        about: &mut Option<String>,
        previous: Option<&str>,
    ) -> Vec<Claim> {
        let mut carried = Carried {
            about,
            previous,
            out: Vec::new(),
            contrast: Vec::new(),
            before: None,
            topic: None,
            framed: false,
        };
        for clause in clauses(sentence, &self.clause_words) {
            self.read_clause(&clause, aliases, &mut carried);
        }
        let mut out = carried.out;
        out.sort_by(|a, b| (&a.role, &a.relation, a.holds).cmp(&(&b.role, &b.relation, b.holds)));
        out.dedup();
        out
    }

    /// Reads one clause's claims into `carried`.
    fn read_clause(&self, clause: &[String], aliases: &[(String, String)], carried: &mut Carried) {
        let named = self.roles_in(clause, aliases);
        // An analogy's words read as what they stand for: "hire a new
        // teller" says what "a new worker" says.
        let relations = self.relations_in(&as_told(clause, aliases));
        let roles = self.actors(clause, &named, carried);
        let framed_here = self.frame(clause, &named, &roles, carried);
        if relations.is_empty() {
            match (&carried.before, roles.last()) {
                // "…, but processes don't": the relation before, again.
                (Some((relation, polar)), Some(subject)) if elliptic(clause) => {
                    let negated = self.negations(clause) % 2 == 1;
                    let claim = Claim {
                        guessed: false,
                        role: subject.role.clone(),
                        relation: relation.clone(),
                        holds: polar ^ negated,
                    };
                    carried.out.push(claim);
                }
                // A clause without a relation names what comes next is
                // about: its first role, its subject.
                (_, Some(_)) => {
                    *carried.about = roles.iter().find(|r| !r.weak).or(roles.first()).map(|s| s.role.clone());
                }
                _ => {}
            }
            return;
        }
        let mut scope = 0;
        for said in relations {
            let clause = Clause { words: clause, named: &named, roles: &roles, framed_here };
            scope = self.read_relation(&clause, said, scope, carried);
        }
    }

    /// Where a contrast ("unlike", "than", "whereas") stands close before
    /// `at`, if one does: "more than one process" counts, it does not
    /// compare.
    fn contrast_at(&self, clause: &[String], at: usize) -> Option<usize> {
        let counting = |at: usize| {
            clause[at] == "than" && clause.get(at + 1).is_some_and(|w| COUNTS.contains(&w.as_str()))
        };
        (1..=3)
            .find_map(|back| {
                let from = at.checked_sub(back)?;
                self.contrasts.iter().any(|c| c.at(clause, from).is_some()).then_some(from)
            })
            .filter(|&from| !counting(from))
    }

    /// The roles of a clause that may act: not those that say whose
    /// ("threads of a process share…"), nor those a contrast sets apart
    /// (kept in `carried.contrast` for the other side of the relation).
    fn actors(&self, clause: &[String], named: &[Mention], carried: &mut Carried) -> Vec<Mention> {
        let is_contrast = |at: usize| self.contrast_at(clause, at).is_some();
        // Only "unlike threads" sets the other side for any relation;
        // "than threads" does so for comparatives.
        let set_apart = |at: usize| self.contrast_at(clause, at).is_some_and(|from| clause[from] != "than");
        let about = carried.about.is_some();
        named
            .iter()
            .enumerate()
            .filter(|(i, r)| {
                let behind = (1..=3)
                    .any(|back| r.start >= back && MODIFIERS.contains(&clause[r.start - back].as_str()));
                // A weak name behind "of" or "in" ("inside one
                // program") is never who does it.
                !(behind
                    && (r.weak || about || named[..*i].iter().any(|earlier| !is_contrast(earlier.start))))
            })
            .map(|(_, r)| r.clone())
            .filter(|r| {
                if set_apart(r.start) {
                    carried.contrast.push(r.role.clone());
                }
                !is_contrast(r.start)
            })
            .collect()
    }

    /// Sets the topic: afresh from a clause that opens with a frame ("With
    /// multiprocessing, …", "So with threads, …"), or from the first strong
    /// role when there is none yet. Returns whether this clause framed it.
    fn frame(&self, clause: &[String], named: &[Mention], roles: &[Mention], carried: &mut Carried) -> bool {
        let opening = usize::from(clause.first().is_some_and(|w| CONNECTIVES.contains(&w.as_str())));
        let frame = named.first().filter(|r| {
            !r.weak
                && (opening + 1..=opening + 3).contains(&r.start)
                && clause.get(opening).is_some_and(|w| FRAMES.contains(&w.as_str()))
        });
        if let Some(r) = frame {
            carried.topic = Some(r.role.clone());
            carried.framed = true;
        } else if carried.topic.is_none() {
            carried.topic = roles.iter().find(|r| !r.weak).map(|r| r.role.clone());
        }
        frame.is_some()
    }

    /// Reads the claims one relation of a clause makes: of its subject, and
    /// the opposite of what it is contrasted with. Returns where the next
    /// relation's scope starts.
    fn read_relation(&self, c: &Clause, said: Said, scope: usize, carried: &mut Carried) -> usize {
        let Said { start, end, relation, polar, comparative, own } = said;
        let clause = c.words;
        // "creating a process per task costs…", "switching between
        // threads is fast", "the overhead of spawning a new one per
        // task": a relation said as a noun, by no one.
        let gerund = (start.saturating_sub(2)..=start).rev().find(|&i| gerund(&clause[i]));
        let nominal = gerund.is_some_and(|at| {
            !c.roles.iter().any(|r| r.end <= at)
                || at.checked_sub(1).is_some_and(|before| PREPOSITIONS.contains(&clause[before].as_str()))
        });
        if nominal {
            return end;
        }
        let subject = c
            .roles
            .iter()
            .rfind(|r| r.end <= start)
            .or_else(|| c.roles.iter().find(|r| r.start >= start && r.end <= end))
            .map(|r| match (&carried.topic, r.weak || (carried.framed && r.role == "worker")) {
                (Some(topic), true) => topic.clone(),
                _ => r.role.clone(),
            })
            .or_else(|| carried.topic.clone().filter(|_| c.framed_here))
            .or_else(|| carried.about.clone());
        let pronoun = clause[..end].iter().any(|w| PRONOUNS.contains(&w.as_str()));
        let guessed = subject.is_none() && pronoun && carried.previous.is_some();
        let subject = subject.or_else(|| carried.previous.filter(|_| pronoun).map(str::to_string));
        // A negation turns a relation over from close before it
        // ("do not share", "no two processes share") or inside it.
        let from = scope.max(start.saturating_sub(NEGATION_REACH));
        let inside: Vec<String> = clause[from..end]
            .iter()
            .enumerate()
            .filter(|(i, _)| !own.contains(&(from + i)))
            .filter(|(i, _)| !c.named.iter().any(|r| r.start <= from + i && from + i < r.end))
            .map(|(_, w)| w.clone())
            .collect();
        let holds = polar ^ (self.negations(&inside) % 2 == 1);
        if let Some(subject) = subject {
            carried.out.push(Claim { role: subject.clone(), relation: relation.clone(), holds, guessed });
            *carried.about = Some(subject);
        }
        let than: Vec<String> = if comparative {
            let contrasted = |r: &&Mention| r.start >= end && self.contrast_at(clause, r.start).is_some();
            c.named.iter().filter(contrasted).map(|r| r.role.clone()).collect()
        } else {
            Vec::new()
        };
        for other in carried.contrast.drain(..).chain(than) {
            carried.out.push(Claim {
                role: other,
                relation: relation.clone(),
                holds: !holds,
                guessed: false,
            });
        }
        carried.before = Some((relation, polar));
        end
    }

    /// The roles named in a clause, the longest name at each place.
    fn roles_in(&self, clause: &[String], aliases: &[(String, String)]) -> Vec<Mention> {
        let mut found = Vec::new();
        let mut at = 0;
        while at < clause.len() {
            let named = self
                .roles
                .iter()
                .filter_map(|(role, phrase, weak)| {
                    phrase.at(clause, at).map(|end| (end, role.clone(), *weak))
                })
                .max_by_key(|(end, _, _)| *end)
                .or_else(|| {
                    let word = clause[at].trim_end_matches('s');
                    aliases
                        .iter()
                        .find(|(alias, _)| alias == word)
                        .map(|(_, role)| (at + 1, role.clone(), false))
                });
            match named {
                Some((end, role, weak)) => {
                    found.push(Mention { start: at, end, role, weak });
                    at = end;
                }
                None => at += 1,
            }
        }
        found
    }

    /// The relations said in a clause, left to right, the longest at each
    /// place: (start, end, relation, whether the phrase says it holds,
    /// comparative).
    fn relations_in(&self, clause: &[String]) -> Vec<Said> {
        let mut found = Vec::new();
        let mut at = 0;
        while at < clause.len() {
            let best = self
                .relations
                .iter()
                .filter_map(|(id, polar, phrase, comparative)| {
                    phrase.matched(clause, at).map(|(end, own)| Said {
                        start: at,
                        end,
                        relation: id.clone(),
                        polar: *polar,
                        comparative: *comparative,
                        own,
                    })
                })
                .max_by_key(|r| r.end);
            match best {
                Some(r) => {
                    at = r.end;
                    found.push(r);
                }
                None => at += 1,
            }
        }
        found
    }

    /// How many negations `words` has ("not only" is none).
    fn negations(&self, words: &[String]) -> usize {
        (0..words.len())
            .filter(|&i| {
                self.negators.iter().any(|n| n.at(words, i).is_some())
                    && !(words[i] == "not" && words.get(i + 1).is_some_and(|n| n == "only"))
            })
            .count()
    }

    /// The relations a sentence says, clause by clause, as the rubric's
    /// phrases read them: (relation, whether the phrase says it holds, the
    /// words matched). For whoever edits the vocabulary.
    pub fn relations(&self, sentence: &str) -> Vec<(String, bool, String)> {
        clauses(sentence, &self.clause_words)
            .iter()
            .flat_map(|c| {
                self.relations_in(c).into_iter().map(|r| (r.relation, r.polar, c[r.start..r.end].join(" ")))
            })
            .collect()
    }

    /// Whether a sentence names any role.
    pub fn names_a_role(&self, sentence: &str, aliases: &[(String, String)]) -> bool {
        clauses(sentence, &self.clause_words).iter().any(|c| !self.roles_in(c, aliases).is_empty())
    }

    /// Whether a sentence says any relation.
    pub fn says_a_relation(&self, sentence: &str) -> bool {
        clauses(sentence, &self.clause_words).iter().any(|c| !self.relations_in(c).is_empty())
    }
}

/// How many words before a relation a negation reaches.
const NEGATION_REACH: usize = 4;

/// Words after "than" that count rather than compare.
const COUNTS: &[&str] = &["one", "two", "1", "2", "just", "only", "once", "single"];

/// Whether a clause repeats the relation before it without saying it:
/// "…, but processes don't", "…, threads too".
fn elliptic(clause: &[String]) -> bool {
    const ENDS: &[&str] =
        &["do", "does", "did", "t", "not", "too", "also", "well", "can", "cannot", "either", "neither", "so"];
    const STARTS: &[&str] = &["but", "whereas", "while", "whilst", "unlike", "and"];
    clause.len() <= 5
        && (clause.last().is_some_and(|w| ENDS.contains(&w.as_str()))
            || (clause.len() <= 3 && clause.first().is_some_and(|w| STARTS.contains(&w.as_str()))))
}

/// Whether a word is a verb's -ing form (not "thing", "during").
fn gerund(word: &str) -> bool {
    word.len() > 5
        && word.ends_with("ing")
        && !["during", "nothing", "something", "anything", "everything"].contains(&word)
}

/// Words before an -ing form that make it a noun: "the cost of spawning".
const PREPOSITIONS: &[&str] = &[
    "of", "for", "by", "from", "about", "without", "than", "avoid", "avoids", "avoiding", "after", "before",
    "instead", "to", "at", "in", "and", "or",
];

/// Words that, first in a sentence before a role, make it the sentence's
/// topic: "With multiprocessing, …", "In multithreading, …".
const FRAMES: &[&str] = &["with", "in", "using", "under", "for"];

/// Words a clause may open with before its frame.
const CONNECTIVES: &[&str] = &["so", "and", "but", "also", "then", "now", "whereas", "while"];

/// Words that speak of what the sentence before was about.
const PRONOUNS: &[&str] = &["they", "them", "their", "it", "its", "each", "both", "these", "those", "either"];

/// Words before a role that make it a modifier of the role named before
/// it: "the threads of a process", "workers in the pool".
const MODIFIERS: &[&str] =
    &["of", "in", "within", "inside", "from", "by", "to", "on", "per", "across", "with", "is", "are", "as"];

/// Words with an analogy's read as the roles they stand for ("each
/// teller" as "each worker").
pub fn as_told(words: &[String], aliases: &[(String, String)]) -> Vec<String> {
    words
        .iter()
        .map(|w| {
            let word = w.trim_end_matches('s');
            aliases
                .iter()
                .find(|(alias, _)| alias == word)
                .map_or_else(|| w.clone(), |(_, role)| role.clone())
        })
        .collect()
}

/// Whether `words` begin with `phrase`, compared in place.
fn starts_with(words: &[String], phrase: &[&str]) -> bool {
    words.len() >= phrase.len() && words.iter().zip(phrase).all(|(w, p)| w == p)
}

/// Whether an answer says it tells an analogy.
pub fn told_by_analogy(sentences: &[String]) -> bool {
    const SIGNALS: &[&[&str]] = &[
        &["imagine"],
        &["think", "of"],
        &["analogy"],
        &["picture"],
        &["is", "like"],
        &["are", "like"],
        &["similar", "to"],
        &["metaphor"],
        &["like", "a"],
        &["compare", "it"],
        &["works", "like"],
        &["suppose"],
        &["say", "a"],
        &["say", "you"],
        &["easiest", "to", "see"],
        &["think", "about"],
        &["it", "s", "like"],
    ];
    sentences.iter().any(|s| {
        let words = super::words(s);
        (0..words.len()).any(|i| SIGNALS.iter().any(|signal| starts_with(&words[i..], signal)))
    })
}

/// The analogies of an answer that say what stands for what: "each cook is
/// a process", "the stoves are the CPU cores", "think of processes as
/// kitchens", "the cooks (the processes)": (the word, singular, role).
/// Only an answer that says it tells an analogy ("like", "imagine",
/// "think of") has any; `names` says whether a word may name a thing in
/// one (the rubric's small words and the subject's own words may not).
pub fn aliases(reader: &Reader, sentences: &[String], names: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    // Without a word that tells an analogy, only a mapping said in full
    // ("the tellers are the worker processes") is one.
    let told =
        sentences.iter().any(|s| super::words(s).iter().any(|w| ANALOGY_SIGNALS.contains(&w.as_str())));
    let small = |w: &str| is_small(w) || !names(w);
    let mut finder = Aliases { reader, told, small: &small, found: Vec::new() };
    for sentence in sentences {
        finder.equals(sentence);
        finder.bracketed(sentence);
        let words = super::words(sentence);
        for at in 0..words.len() {
            for link in ALIAS_LINKS {
                if starts_with(&words[at..], link) {
                    finder.linked(&words, at, link);
                }
            }
            finder.imagined(&words, at);
        }
    }
    let mut found = finder.found;
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);
    // An analogy maps a handful of things; thousands of "wordN is a
    // process" would only make every word a lookup.
    found.truncate(MAX_ALIASES);
    found
}

/// Words that tell an analogy.
const ANALOGY_SIGNALS: &[&str] =
    &["like", "imagine", "think", "analogy", "picture", "similar", "metaphor", "compare", "as if"];

/// Words that say one thing stands for another.
const ALIAS_LINKS: &[&[&str]] = &[
    &["is"],
    &["are"],
    &["represents"],
    &["represent"],
    &["stands", "for"],
    &["stand", "for"],
    &["is", "like"],
    &["are", "like"],
    &["acts", "as"],
    &["act", "as"],
    &["plays", "the", "role", "of"],
    &["means"],
    &["equals"],
];

/// What [`aliases`] has found, and how it reads.
struct Aliases<'a> {
    reader: &'a Reader,
    /// Whether a word tells an analogy.
    told: bool,
    /// A word too small (or too common) to stand for a role.
    small: &'a dyn Fn(&str) -> bool,
    found: Vec<(String, String)>,
}

impl Aliases<'_> {
    /// Whether `word` alone names no role.
    fn no_role(&self, word: &str) -> bool {
        self.reader.role_of(&[word.to_string()]).is_none()
    }

    /// "taxis = worker processes, passengers = tasks": a mapping said with
    /// an equals sign is said in full.
    fn equals(&mut self, sentence: &str) {
        for part in sentence.split([',', ';']) {
            if let Some((left, right)) = part.split_once('=') {
                let (left, right) = (super::words(left), super::words(right));
                if let (Some(word), Some(role)) = (left.last(), self.reader.role_of(&right)) {
                    if !(self.small)(word) && self.no_role(word) {
                        self.found.push((singular(word), role));
                    }
                }
            }
        }
    }

    /// "cooks (processes)": a word, then a role in brackets.
    fn bracketed(&mut self, sentence: &str) {
        for (before, inside) in bracketed(sentence) {
            if let (Some(role), Some(word), true) = (self.reader.role_of(&inside), before, self.told) {
                if !(self.small)(&word) && self.no_role(&word) {
                    self.found.push((word, role));
                }
            }
        }
    }

    /// "each cook is a process": the cook stands for the process (a thing
    /// named as one: after a determiner, or first in its sentence); "a
    /// process is like a cook": the same, the other way. `link` is at `at`.
    fn linked(&mut self, words: &[String], at: usize, link: &[&str]) {
        let after = at + link.len();
        let article =
            words.get(after).is_some_and(|w| ["a", "an", "the", "one", "our"].contains(&w.as_str()));
        let target = if article { after + 1 } else { after };
        let (Some(word), Some(rest)) = (at.checked_sub(1).map(|i| &words[i]), words.get(target..)) else {
            return;
        };
        let word_role = self.reader.role_of(std::slice::from_ref(word));
        let target_role = self.reader.role_of(rest);
        let determined = at >= 2 && DETERMINERS.contains(&words[at - 2].as_str());
        let named = determined || (self.told && at == 1);
        if let (None, Some(role), true) = (&word_role, &target_role, named) {
            if !(self.small)(word) && !word.ends_with("ing") && !QUANTIFIERS.contains(&word.as_str()) {
                self.found.push((singular(word), role.clone()));
            }
        }
        let like = link.last() == Some(&"like");
        let other = words[after..].iter().find(|w| !QUANTIFIERS.contains(&w.as_str()) && !w.ends_with("ing"));
        if let (Some(role), Some(other), true) = (word_role, other, like && self.told) {
            if self.no_role(other) && !(self.small)(other) {
                self.found.push((singular(other), role));
            }
        }
    }

    /// "think of processes as kitchens", with "as" at `at`.
    fn imagined(&mut self, words: &[String], at: usize) {
        if words[at] != "as" || at == 0 {
            return;
        }
        if let (Some(role), Some(other)) = (self.reader.role_of(&words[at - 1..at]), words.get(at + 1)) {
            let imagined = words[..at].iter().any(|w| ["think", "imagine", "picture"].contains(&w.as_str()));
            if self.told
                && imagined
                && !(self.small)(other)
                && self.reader.role_of(&words[at + 1..]).is_none()
            {
                self.found.push((singular(other), role));
            }
        }
    }
}

/// The most things an answer's analogies are read to stand for.
const MAX_ALIASES: usize = 12;

impl Reader {
    /// The role named at the start of `words`, if one is.
    fn role_of(&self, words: &[String]) -> Option<String> {
        self.roles
            .iter()
            .filter_map(|(role, phrase, _)| phrase.at(words, 0).map(|end| (end, role)))
            .max_by_key(|(e, _)| *e)
            .map(|(_, r)| r.clone())
    }
}

/// Words before the name of a thing.
const DETERMINERS: &[&str] = &[
    "a", "an", "the", "each", "every", "one", "our", "his", "her", "their", "your", "my", "these", "those",
    "all",
];

/// Words between "like" and the thing an analogy names.
const QUANTIFIERS: &[&str] = &[
    "a",
    "an",
    "the",
    "one",
    "two",
    "few",
    "several",
    "many",
    "some",
    "lots",
    "of",
    "bunch",
    "group",
    "team",
    "couple",
    "second",
    "new",
    "big",
    "small",
    "separate",
    "different",
    "whole",
    "other",
    "another",
    "own",
    "three",
    "four",
    "five",
    "eight",
    "cheap",
    "expensive",
    "fast",
    "slow",
    "setup",
    "people",
    "first",
    "last",
    "main",
];

/// Words too small to be the name of something in an analogy.
fn is_small(word: &str) -> bool {
    word.len() <= 2
        || word.chars().all(|c| c.is_ascii_digit())
        || [
            "it",
            "this",
            "that",
            "which",
            "what",
            "there",
            "here",
            "each",
            "every",
            "one",
            "thing",
            "difference",
            "main",
            "idea",
            "point",
            "reason",
            "result",
            "answer",
            "example",
            "benefit",
            "advantage",
            "problem",
            "so",
            "also",
            "why",
            "how",
            "way",
            "and",
            "the",
            "they",
            "these",
            "those",
            "its",
            "who",
            "where",
        ]
        .contains(&word)
}

fn singular(word: &str) -> String {
    word.trim_end_matches('s').to_string()
}

/// Each bracketed part of a sentence, with the word before it.
fn bracketed(sentence: &str) -> Vec<(Option<String>, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = sentence;
    while let Some(open) = rest.find('(') {
        let Some(close) = rest[open..].find(')') else { break };
        let before = super::words(&rest[..open]).pop().filter(|w| !is_small(w)).map(|w| singular(&w));
        let inside = super::words(&rest[open + 1..open + close]);
        let inside: Vec<String> = inside
            .into_iter()
            .skip_while(|w| ["the", "a", "an", "i", "e", "ie"].contains(&w.as_str()))
            .collect();
        out.push((before, inside));
        rest = &rest[open + close..];
    }
    out
}

/// A sentence cut into clauses, at punctuation and at the words that start
/// a clause; each clause its words, lower case.
fn clauses(sentence: &str, clause_words: &[Phrase]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for part in sentence.split([',', ';', ':', '(', ')', '—', '–', '"', '“', '”']) {
        let words = super::words(part);
        let mut current: Vec<String> = Vec::new();
        for (i, word) in words.iter().enumerate() {
            if !current.is_empty() && clause_words.iter().any(|c| c.at(&words, i).is_some()) {
                out.push(std::mem::take(&mut current));
            }
            current.push(word.clone());
        }
        if !current.is_empty() {
            out.push(current);
        }
    }
    // No clause people write is longer; a longer one (text without
    // punctuation) is read in pieces, so reading stays linear.
    out.into_iter()
        .flat_map(|c| c.chunks(LONGEST_CLAUSE).map(<[String]>::to_vec).collect::<Vec<_>>())
        .collect()
}

/// The most words a clause is read in at once.
const LONGEST_CLAUSE: usize = 60;

/// A phrase of the vocabulary: slots in order, with ` .. ` between two
/// slots allowing up to four words between them; a slot's alternatives
/// joined by `|`; an alternative words in a row, each of which may end in
/// `*` (any ending).
#[derive(Debug, Clone)]
pub struct Phrase {
    slots: Vec<Vec<Vec<(String, bool)>>>,
}

/// How many words a ` .. ` lets between two slots.
const GAP: usize = 4;

impl Phrase {
    pub fn parse(text: &str) -> Result<Phrase, String> {
        let mut slots = Vec::new();
        for slot in text.split("..") {
            let mut alternatives = Vec::new();
            for alternative in slot.split('|') {
                let words: Vec<(String, bool)> = alternative
                    .split_whitespace()
                    .map(|w| {
                        let (stem, prefix) = w.strip_suffix('*').map_or((w, false), |s| (s, true));
                        if stem.is_empty() || !stem.chars().all(|c| c.is_alphanumeric() && !c.is_uppercase()) {
                            return Err(format!("{w:?} in {text:?}: a word is lower-case letters and digits, and may end with *"));
                        }
                        Ok((stem.to_string(), prefix))
                    })
                    .collect::<Result<_, _>>()?;
                if words.is_empty() {
                    return Err(format!("an empty alternative in {text:?}"));
                }
                alternatives.push(words);
            }
            slots.push(alternatives);
        }
        Ok(Phrase { slots })
    }

    /// Where the phrase ends if it starts at `at` in `words` (the shortest
    /// match).
    pub fn at(&self, words: &[String], at: usize) -> Option<usize> {
        self.matched(words, at).map(|(end, _)| end)
    }

    /// Where the phrase ends if it starts at `at`, and which words are its
    /// own (not those its `..` let between).
    fn matched(&self, words: &[String], at: usize) -> Option<(usize, Vec<usize>)> {
        let mut own = Vec::new();
        self.from(words, at, 0, &mut own).map(|end| (end, own))
    }

    fn from(&self, words: &[String], at: usize, slot: usize, own: &mut Vec<usize>) -> Option<usize> {
        let Some(alternatives) = self.slots.get(slot) else { return Some(at) };
        for alternative in alternatives {
            let Some(window) = words.get(at..at + alternative.len()) else { continue };
            // "once" is never the once of "at once" ("started once" is no
            // "start them all at once").
            let at_once = alternative.first().is_some_and(|(a, _)| a == "once")
                && at.checked_sub(1).is_some_and(|before| words[before] == "at");
            let fits = !at_once
                && window
                    .iter()
                    .zip(alternative)
                    .all(|(w, (a, prefix))| if *prefix { w.starts_with(a.as_str()) } else { w == a });
            if !fits {
                continue;
            }
            let end = at + alternative.len();
            let mark = own.len();
            own.extend(at..end);
            if slot + 1 == self.slots.len() {
                return Some(end);
            }
            for gap in 0..=GAP {
                if let Some(done) = self.from(words, end + gap, slot + 1, own) {
                    return Some(done);
                }
            }
            own.truncate(mark);
        }
        None
    }
}

/// The claims of one sentence, read with the rubric's vocabulary (for the
/// examples and tests: the marker keeps its own reader).
pub fn read(sentence: &str) -> Vec<Claim> {
    super::claims_reader().claims(sentence, &[], &mut None)
}

/// What reading a sentence carries from one clause to the next.
struct Carried<'a> {
    /// What the sentences so far are about (their last subject).
    about: &'a mut Option<String>,
    /// The previous sentence's subject, for a pronoun.
    previous: Option<&'a str>,
    out: Vec<Claim>,
    /// Roles a contrast set apart, for the other side of the next relation.
    contrast: Vec<String>,
    /// The last relation and its polarity, for an ellipsis.
    before: Option<(String, bool)>,
    /// The strong role the sentence named first, for a weak name
    /// ("program") that follows it; "With multiprocessing, each worker …"
    /// makes it the topic of every clause.
    topic: Option<String>,
    framed: bool,
}

/// A clause being read: its words, the roles it names, those that may act,
/// and whether it set the topic.
struct Clause<'a> {
    words: &'a [String],
    named: &'a [Mention],
    roles: &'a [Mention],
    framed_here: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(sentence: &str) -> Vec<String> {
        read(sentence)
            .iter()
            .map(|c| format!("{}{}{}", c.role, if c.holds { " " } else { " not " }, c.relation))
            .collect()
    }

    #[test]
    fn the_subject_is_who_does_it_not_who_is_named() {
        if !crate::checks::written::tests::rules_here() {
            return;
        }
        assert_eq!(said("Processes share memory."), ["process share-memory"]);
        assert_eq!(said("Threads share memory."), ["thread share-memory"]);
        // Whose memory is no subject.
        assert_eq!(said("The threads of a process share its memory."), ["thread share-memory"]);
        assert_eq!(said("Threads in the same process share one memory."), ["thread share-memory"]);
        assert_eq!(said("A forked child shares its parent's memory."), ["child share-memory"]);
        // The same words, the roles swapped: the opposite claims.
        assert_eq!(
            said("Processes share memory, while threads each get their own copy."),
            ["process share-memory", "thread not share-memory"]
        );
    }

    #[test]
    fn polarity_is_read_from_negations_and_opposites() {
        if !crate::checks::written::tests::rules_here() {
            return;
        }
        for sentence in [
            "Processes do not share memory.",
            "Processes don't share memory.",
            "Each process has its own memory.",
            "No two processes share memory.",
            "A process never shares its memory with another.",
        ] {
            assert_eq!(said(sentence), ["process not share-memory"], "{sentence}");
        }
        assert_eq!(said("Threads cannot run in parallel."), ["thread not parallel"]);
        assert_eq!(said("Only one thread runs at a time."), ["thread not parallel"]);
        assert_eq!(said("The processes are not just taking turns."), ["process parallel"]);
        // "not only" denies nothing.
        assert_eq!(said("Processes not only run in parallel, they also crash alone."), ["process parallel"]);
        // A negation far before the relation belongs to another verb.
        assert_eq!(
            said("They don't need to copy memory and they communicate through shared variables."),
            Vec::<String>::new()
        );
    }

    #[test]
    fn contrasts_and_ellipses_give_the_other_side_its_claim() {
        if !crate::checks::written::tests::rules_here() {
            return;
        }
        assert_eq!(
            said("Unlike threads, processes do not share memory."),
            ["process not share-memory", "thread share-memory"]
        );
        assert_eq!(
            said("Processes, unlike threads, have their own memory."),
            ["process not share-memory", "thread share-memory"]
        );
        assert_eq!(
            said("Threads share memory but processes don't."),
            ["process not share-memory", "thread share-memory"]
        );
        assert_eq!(said("Processes are heavier than threads."), ["process heavier", "thread not heavier"]);
        assert_eq!(
            said("A thread is cheaper to start than a process."),
            ["process heavier", "thread not heavier"]
        );
        // Counting is no comparing.
        assert_eq!(said("It runs more than one process at the same time."), ["process parallel"]);
    }

    #[test]
    fn a_relation_said_as_a_noun_claims_nothing() {
        if !crate::checks::written::tests::rules_here() {
            return;
        }
        assert!(said("Creating a process for every task costs a lot of time.").is_empty());
        assert!(said("Switching between threads is fast.").is_empty());
        assert_eq!(
            said("A pool reuses its workers instead of creating a new process for each task."),
            ["pool not per-task"]
        );
        assert_eq!(
            said("Reusing processes avoids the overhead of spawning a new one per task."),
            Vec::<String>::new()
        );
        assert_eq!(said("The pool starts a new process for each task."), ["pool per-task"]);
        assert_eq!(said("The pool keeps starting a new process for each task."), ["pool per-task"]);
    }

    #[test]
    fn a_pronoun_speaks_of_the_sentence_before_and_nothing_else_does() {
        if !crate::checks::written::tests::rules_here() {
            return;
        }
        let reader = crate::checks::written::claims_reader();
        let mut about = None;
        assert_eq!(reader.claims("Threads live inside a process.", &[], &mut about).len(), 0);
        let they = reader.claims("They share its memory.", &[], &mut about);
        assert_eq!(they, [Claim { guessed: true, ..Claim::new("thread", "share-memory", true) }]);
        let mut about = Some("thread".to_string());
        assert!(reader.claims("Fault isolation matters.", &[], &mut about).is_empty());
    }

    #[test]
    fn an_analogy_that_says_what_stands_for_what_is_read() {
        if !crate::checks::written::tests::rules_here() {
            return;
        }
        let reader = crate::checks::written::claims_reader();
        let sentences: Vec<String> = [
            "Think of a restaurant kitchen.",
            "One process is like one cook with his own station.",
            "The stoves are the CPU cores.",
        ]
        .map(String::from)
        .to_vec();
        let aliases = aliases(reader, &sentences, |w| w != "the");
        assert_eq!(
            aliases,
            [("cook".to_string(), "process".to_string()), ("stove".to_string(), "core".to_string())]
        );
        let claims = reader.claims("Each cook works at his own station.", &aliases, &mut None);
        assert_eq!(claims, [Claim::new("process", "share-memory", false)]);
        // Without a word that tells an analogy, "X is a process" is a definition.
        let plain =
            ["A process is a running program.".to_string(), "A thread is a path of execution.".to_string()];
        assert!(super::aliases(reader, &plain, |_| true).is_empty());
    }

    #[test]
    fn the_vocabulary_is_checked() {
        let vocabulary = &crate::checks::written::Rubric::get().claims;
        assert!(Spec::parse("thread share-memory", vocabulary).is_ok());
        assert!(Spec::parse("process|child not share-memory", vocabulary).is_ok());
        assert!(Spec::parse("threads share-memory", vocabulary).unwrap_err().contains("no role"));
        assert!(Spec::parse("thread shares", vocabulary).unwrap_err().contains("no relation"));
        assert!(Spec::parse("thread", vocabulary).is_err());
        assert!(Phrase::parse("share* .. Memory").is_err());
        assert!(Phrase::parse("share* .. | memory").is_err());
    }
}
