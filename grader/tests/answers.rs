//! The written answers' marker against a teaching assistant's marks.
//!
//! Every set is in `tests/answers/`; "blind" means marked by someone who saw
//! only `ta_guide.md` (written from the questions, not from the marker),
//! never the rubric, the marker or another mark.
//!
//! | set | answers | written by | marked by | tuned on | mean error | rank corr. |
//! |---|---|---|---|---|---|---|
//! | `holdout3.toml` | 48 | a helper | two others, blind and apart | **never** | **1.15** (1.19) | **0.839** (0.835) |
//! | `holdout2.toml` | 48 | a helper | another, blind | **never** | **1.23** | **0.776** |
//! | `holdout.toml` | 30 | a helper | the same helper | **never** | **0.90** | **0.928** |
//! | `dev5.toml`, before tuning on it | 48 | a helper, as `holdout2` | another, blind | not yet | 1.04 | 0.890 |
//! | `dev6.toml`, before tuning on it | 48 | a helper, as `holdout2` | another, blind | not yet | 0.98 | 0.901 |
//! | `corpus.toml` | 64 | the team | a TA | yes | 0.61 | 0.948 |
//! | `dev.toml` | 54 | a helper | another, blind | yes | 0.72 | 0.957 |
//! | `dev2.toml` (analogies, hard cases) | 42 | a helper | another, blind | yes | 0.88 | 0.949 |
//! | `dev3.toml` … `dev6.toml` | 4 × 48 | helpers, as `holdout2` | others, blind | yes | 0.73–0.92 | 0.904–0.937 |
//!
//! `holdout3.toml`'s figures are against its first marker (its second's in
//! brackets). The two markers agree with each other far better than the
//! marker with either: a mean difference of 0.21 and a rank correlation of
//! 0.989. The gap to the issue's bar (0.9 and 1.0) is the marker's, not the
//! measure's noise.
//!
//! The marker before it read claims (words in a sentence, as it was up to
//! commit 3fbee2a) measured 2.79 and 0.323 on `holdout2.toml`, with 11 of
//! its 12 misconception answers above 5 and unflagged (now 2), and 0.93 and
//! 0.917 on `holdout.toml`.
//!
//! Besides marks: `statements.toml` (120 wrong and 60 right single
//! statements: 112 misconceptions found, 1 right statement taken for one),
//! `hidden.toml` (72 right answers each hiding one misconception: 68 found),
//! `right.toml` (66 right answers, 30 of them naming misconceptions to
//! reject them: none taken for one, mean 9.85). All of these are tuning
//! sets.
//!
//! The held-out sets are measured once per change of method and never read
//! by whoever tunes the marker: their tests print figures, not answers, and
//! their bounds are what they were last measured at. The figures that say
//! how the marker does on answers it has not seen are theirs (and those of
//! `dev5`/`dev6` measured before tuning on them); the others flatter it.
//! Beyond the figures: a right answer is never marked down to a fail; a
//! gamed answer or one to another question never passes unflagged; a
//! misconception answer scores above 5 unflagged only where the marker
//! missed the misconception; every misconception of the rubric is found in
//! the sentences it gives as examples, which credit no concept.
//!
//! `cargo test -p grader --test answers -- --nocapture` prints the figures,
//! and the tables of the sets used to tune.

use grader::checks::flag::{Flag, worded};
use grader::checks::written::{Rubric, mark};
use grader::rubric::Question;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Corpus {
    answer: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    question: u32,
    style: String,
    mark: u32,
    reason: String,
    /// A second teaching assistant's blind mark, where one marked the set
    /// too (apart from the first).
    #[serde(default)]
    second_mark: Option<u32>,
    #[serde(default)]
    #[allow(dead_code)] // kept beside the mark, for a reader of the set
    second_reason: Option<String>,
    text: String,
}

/// Styles that try to earn marks without answering.
const GAMED: &[&str] = &[
    "bullet keywords",
    "different question",
    "copied fragments",
    "padded or repeated",
    "keyword-stuffed filler",
];

/// The corpus, each answer with its automatic mark and flags.
fn marked() -> Vec<(Entry, u32, Vec<Flag>)> {
    marked_in("corpus.toml")
}

/// Whether a style is an answer stating a misconception.
fn misconception(style: &str) -> bool {
    style.starts_with("misconception")
}

/// How the flags do: (answers 3 or more points from the TA's mark, of which
/// flagged; misconception answers above 5 and not flagged).
fn flagging(marked: &[(Entry, u32, Vec<Flag>)]) -> (usize, usize, Vec<String>) {
    let far: Vec<_> = marked.iter().filter(|(e, m, _)| e.mark.abs_diff(*m) >= 3).collect();
    let flagged = far.iter().filter(|(_, _, flags)| !flags.is_empty()).count();
    let through = marked
        .iter()
        .filter(|(e, m, flags)| misconception(&e.style) && *m > 5 && flags.is_empty())
        .map(|(e, m, _)| format!("{} ({m}/10)", e.id))
        .collect();
    (far.len(), flagged, through)
}

/// The answers of `tests/answers/<file>`, each with its automatic mark and flags.
fn marked_in(file: &str) -> Vec<(Entry, u32, Vec<Flag>)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/answers").join(file);
    let text = std::fs::read_to_string(path).unwrap();
    let corpus: Corpus = toml::from_str(&text).expect("the corpus parses");
    corpus
        .answer
        .into_iter()
        .map(|entry| {
            let question = Question::parse(&entry.question.to_string()).expect("a question");
            let marked = mark(question, &entry.text);
            let (total, flags) = (marked.total(), marked.flags.clone());
            (entry, total, flags)
        })
        .collect()
}

/// Ranks, ties sharing their mean rank.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        for k in i..=j {
            ranks[order[k]] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    ranks
}

/// Spearman's rank correlation.
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// Mean absolute error, rank correlation, and the table, worst first.
fn compare(marked: &[(Entry, u32, Vec<Flag>)]) -> (f64, f64, String) {
    let ta: Vec<f64> = marked.iter().map(|(e, _, _)| f64::from(e.mark)).collect();
    let auto: Vec<f64> = marked.iter().map(|(_, m, _)| f64::from(*m)).collect();
    let mae = ta.iter().zip(&auto).map(|(t, a)| (t - a).abs()).sum::<f64>() / ta.len() as f64;
    let rho = spearman(&ta, &auto);
    let mut worst: Vec<&(Entry, u32, Vec<Flag>)> = marked.iter().collect();
    worst.sort_by_key(|(e, m, _)| std::cmp::Reverse(e.mark.abs_diff(*m)));
    let table: String = worst
        .iter()
        .map(|(e, m, flags)| {
            let flag = if flags.is_empty() { String::new() } else { format!(" [review: {}]", worded(flags)) };
            format!("\n  {:>2} vs TA {:>2}  {:<28} {} — {}{flag}", m, e.mark, e.id, e.style, e.reason)
        })
        .collect();
    (mae, rho, table)
}

#[test]
fn the_marker_agrees_with_the_teaching_assistant() {
    let marked = marked();
    assert!(marked.len() >= 40, "the corpus has {} answers", marked.len());
    let (mae, rho, table) = compare(&marked);
    eprintln!("corpus: mean absolute error {mae:.2}, rank correlation {rho:.3}, worst first:{table}");
    assert!(mae <= 0.7, "mean absolute error {mae:.2} > 0.7:{table}");
    assert!(rho >= 0.94, "rank correlation {rho:.3} < 0.94:{table}");
}

/// Right answers that name misconceptions to reject or qualify them: none
/// is taken for a misconception, and they are marked as the right answers
/// they are (a tuning set).
#[test]
fn right_answers_that_reject_a_misconception_are_not_taken_for_it() {
    let marked = marked_in("right.toml");
    assert!(marked.len() >= 30);
    let mut taken = Vec::new();
    for (entry, _, _) in &marked {
        let question = Question::parse(&entry.question.to_string()).unwrap();
        let found = mark(question, &entry.text).misconceptions;
        if !found.is_empty() {
            taken.push(format!(
                "{}: {:?}",
                entry.id,
                found.iter().map(|(m, s)| (&m.id, s)).collect::<Vec<_>>()
            ));
        }
    }
    let mean = marked.iter().map(|(_, m, _)| f64::from(*m)).sum::<f64>() / marked.len() as f64;
    let flagged = marked.iter().filter(|(_, _, flags)| !flags.is_empty()).count();
    eprintln!(
        "right answers: mean {mean:.2}/10, {} taken for a misconception, {flagged} flagged",
        taken.len()
    );
    assert!(taken.is_empty(), "right answers taken for misconceptions: {taken:#?}");
    assert!(mean >= 9.5, "right answers marked {mean:.2} on average");
    assert!(flagged * 10 <= marked.len(), "{flagged} of {} right answers flagged", marked.len());
}

/// The development sets, each written by a helper and marked blind by
/// another (`dev3` to `dev6` from the very instructions the second held-out
/// set's writer had): (file, most mean error, least rank correlation, least
/// share of the answers 3 or more points off that are flagged), what each
/// was last measured at, rounded down a little. The marker is tuned on them.
const DEVELOPMENT: &[(&str, f64, f64, f64)] = &[
    ("dev.toml", 0.8, 0.95, 0.9),
    ("dev2.toml", 1.0, 0.94, 0.9),
    ("dev3.toml", 0.8, 0.91, 0.0),
    ("dev4.toml", 0.85, 0.93, 0.9),
    ("dev5.toml", 1.0, 0.9, 0.9),
    ("dev6.toml", 0.95, 0.91, 0.6),
];

#[test]
fn the_marker_agrees_on_the_development_sets() {
    for &(file, most, least, flagged_share) in DEVELOPMENT {
        let marked = marked_in(file);
        assert!(marked.len() >= 40, "{file} has {} answers", marked.len());
        let (mae, rho, table) = compare(&marked);
        let (far, flagged, through) = flagging(&marked);
        eprintln!(
            "{file}: mean absolute error {mae:.2}, rank correlation {rho:.3}, {flagged} of {far} answers 3 or more points off flagged, worst first:{table}"
        );
        assert!(mae <= most, "{file}: mean absolute error {mae:.2} > {most}:{table}");
        assert!(rho >= least, "{file}: rank correlation {rho:.3} < {least}:{table}");
        assert!(through.len() <= 1, "{file}: misconceptions above 5 and not flagged: {through:?}");
        assert!(
            flagged as f64 >= flagged_share * far as f64,
            "{file}: {flagged} of {far} far off flagged:{table}"
        );
    }
}

/// Answers written and marked apart from the marker, never used to tune
/// it: how it does on answers it has not seen. Figures only: the answers
/// stay unread by whoever tunes.
fn held_out(file: &str, at_least: usize) -> (f64, f64, usize, usize, Vec<String>) {
    let marked = marked_in(file);
    assert!(marked.len() >= at_least, "{file} has {} answers", marked.len());
    let (mae, rho, _) = compare(&marked);
    let (far, flagged, through) = flagging(&marked);
    eprintln!(
        "{file}: mean absolute error {mae:.2}, rank correlation {rho:.3}, {flagged} of {far} answers 3 or more points off flagged, {} misconception answers above 5 unflagged",
        through.len()
    );
    (mae, rho, far, flagged, through)
}

/// The flags catch enough: at most `far_unflagged` answers 3 or more points
/// off go unflagged, and at most `misconceptions_through` misconception
/// answers above 5.
fn assert_flags_catch(
    (far, flagged, through): (usize, usize, &[String]),
    far_unflagged: usize,
    misconceptions_through: usize,
) {
    assert!(through.len() <= misconceptions_through, "misconceptions above 5 and not flagged: {through:?}");
    assert!(far - flagged <= far_unflagged, "{flagged} of {far} answers 3 or more points off flagged");
}

#[test]
fn the_marker_agrees_on_answers_it_was_not_tuned_on() {
    let (mae, rho, _, _, _) = held_out("holdout.toml", 30);
    assert!(mae <= HOLDOUT_MAE, "mean absolute error {mae:.2} > {HOLDOUT_MAE}");
    assert!(rho >= HOLDOUT_RHO, "rank correlation {rho:.3} < {HOLDOUT_RHO}");
}

#[test]
fn the_marker_agrees_on_the_second_held_out_set() {
    let (mae, rho, far, flagged, through) = held_out("holdout2.toml", 48);
    assert!(mae <= HOLDOUT2_MAE, "mean absolute error {mae:.2} > {HOLDOUT2_MAE}");
    assert!(rho >= HOLDOUT2_RHO, "rank correlation {rho:.3} < {HOLDOUT2_RHO}");
    assert_flags_catch((far, flagged, &through), HOLDOUT2_FAR_UNFLAGGED, HOLDOUT2_MISCONCEPTIONS_THROUGH);
}

/// Two teaching assistants marked `holdout3.toml` apart, each blind: how far
/// the marker agrees with each, and how far they agree with each other.
/// Agreement between two careful markers is the most any marker can be
/// asked for against one of them.
#[test]
fn the_marker_agrees_on_the_third_held_out_set_as_well_as_two_tas_agree() {
    let marked = marked_in("holdout3.toml");
    assert!(marked.len() >= 48, "holdout3.toml has {} answers", marked.len());
    let first: Vec<f64> = marked.iter().map(|(e, _, _)| f64::from(e.mark)).collect();
    let second: Vec<f64> = marked
        .iter()
        .map(|(e, _, _)| f64::from(e.second_mark.expect("every answer of holdout3 has a second mark")))
        .collect();
    let auto: Vec<f64> = marked.iter().map(|(_, m, _)| f64::from(*m)).collect();
    let both: Vec<f64> = first.iter().zip(&second).map(|(a, b)| (a + b) / 2.0).collect();
    let mae =
        |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64;
    let (far, flagged, through) = flagging(&marked);
    let figures = [
        ("marker vs first TA", mae(&auto, &first), spearman(&auto, &first)),
        ("marker vs second TA", mae(&auto, &second), spearman(&auto, &second)),
        ("marker vs the two TAs' mean", mae(&auto, &both), spearman(&auto, &both)),
        ("first TA vs second TA", mae(&first, &second), spearman(&first, &second)),
    ];
    for (what, mae, rho) in figures {
        eprintln!("holdout3.toml, {what}: mean absolute error {mae:.2}, rank correlation {rho:.3}");
    }
    eprintln!(
        "holdout3.toml: {flagged} of {far} answers 3 or more points off the first TA flagged, {} misconception answers above 5 unflagged",
        through.len()
    );
    let [(_, mae1, rho1), (_, mae2, rho2), _, _] = figures;
    assert!(mae1 <= HOLDOUT3_MAE && mae2 <= HOLDOUT3_MAE, "mean absolute errors {mae1:.2}, {mae2:.2}");
    assert!(rho1 >= HOLDOUT3_RHO && rho2 >= HOLDOUT3_RHO, "rank correlations {rho1:.3}, {rho2:.3}");
    assert_flags_catch((far, flagged, &through), HOLDOUT3_FAR_UNFLAGGED, HOLDOUT3_MISCONCEPTIONS_THROUGH);
}

/// What the held-out sets were last measured at, as bounds: raised as the
/// marker improves, never lowered to let a change through.
const HOLDOUT_MAE: f64 = 0.95;
const HOLDOUT_RHO: f64 = 0.92;
const HOLDOUT2_MAE: f64 = 1.25;
const HOLDOUT2_RHO: f64 = 0.77;
const HOLDOUT2_MISCONCEPTIONS_THROUGH: usize = 2;
const HOLDOUT2_FAR_UNFLAGGED: usize = 2;
const HOLDOUT3_MAE: f64 = 1.20;
const HOLDOUT3_RHO: f64 = 0.83;
const HOLDOUT3_MISCONCEPTIONS_THROUGH: usize = 1;
const HOLDOUT3_FAR_UNFLAGGED: usize = 2;

/// Every misconception of the rubric is found in each sentence it gives as
/// an example, and that sentence credits no concept: a concept is never
/// credited from the sentence that states its misconception.
#[test]
fn every_misconception_is_found_in_its_examples_which_credit_nothing() {
    let rubric = Rubric::get();
    let (mut examples, mut followed) = (0, 0);
    for q in &rubric.question {
        let question = Question::parse(&q.number.to_string()).unwrap();
        for m in &q.misconception {
            assert!(!m.examples.is_empty(), "Q{} {}: no example", q.number, m.id);
            assert!(!m.feedback.is_empty() && m.points > 0, "Q{} {}", q.number, m.id);
            for example in &m.examples {
                examples += 1;
                let marked = mark(question, example);
                let at = format!("Q{} {}: {example:?}", q.number, m.id);
                let found = marked.misconceptions.iter().any(|(found, _)| found.id == m.id);
                assert!(found, "{at}: not found: {:?}", marked.read);
                assert!(marked.shown.is_empty(), "{at} credits {:?}", marked.shown);
                assert!(!marked.flags.is_empty(), "{at} not flagged");
                // Followed by what would show the concepts it contradicts,
                // in the same sentence: still none of them.
                let marked = mark(question, &format!("{} {}", example.trim_end_matches('.'), ALSO));
                if !marked.misconceptions.iter().any(|(found, _)| found.id == m.id) {
                    // What follows excuses it ("…per task" after "processes
                    // are free"): then it is no misconception to test.
                    continue;
                }
                followed += 1;
                assert!(marked.shown.is_empty(), "{at} then {ALSO:?} credits {:?}", marked.shown);
                for concept in q.concept.iter().filter(|c| m.contradicts.contains(&c.id)) {
                    let credited = marked.shown.iter().any(|(c, _)| c.id == concept.id);
                    assert!(!credited, "{at} credits {}", concept.id);
                }
            }
        }
    }
    assert!(
        followed * 3 >= examples * 2,
        "only {followed} of {examples} examples still state their misconception"
    );
}

#[derive(Debug, Deserialize)]
struct Statements {
    statement: Vec<Statement>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Statement {
    question: u32,
    misconception: String,
    holds: bool,
    text: String,
}

/// Misconceptions as students state them, one sentence at a time: each of
/// the rubric's is found in most of its wrong statements, and hardly ever
/// in a right statement on its topic.
#[test]
fn misconceptions_are_found_as_students_state_them() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/answers/statements.toml");
    let bank: Statements =
        toml::from_str(&std::fs::read_to_string(path).unwrap()).expect("the statements parse");
    let rubric = Rubric::get();
    let (mut stated, mut found, mut right, mut taken) = (0, 0, 0, Vec::new());
    let mut missed = Vec::new();
    for s in &bank.statement {
        let question = Question::parse(&s.question.to_string()).unwrap();
        let q = rubric.question.iter().find(|q| q.number == s.question).unwrap();
        assert!(
            q.misconception.iter().any(|m| m.id == s.misconception),
            "Q{} has no {}",
            s.question,
            s.misconception
        );
        let marked = mark(question, &s.text);
        let is = marked.misconceptions.iter().any(|(m, _)| m.id == s.misconception);
        if s.holds {
            stated += 1;
            if is {
                found += 1;
            } else {
                missed.push(format!("{}: {}", s.misconception, s.text));
            }
        } else {
            right += 1;
            if !marked.misconceptions.is_empty() {
                taken.push(format!("{}: {}", s.misconception, s.text));
            }
        }
    }
    eprintln!(
        "statements: {found} of {stated} misconceptions found; {} of {right} right statements taken for one",
        taken.len()
    );
    assert!(found * 10 >= stated * 9, "{found} of {stated} found; missed: {missed:#?}");
    assert!(taken.len() * 30 <= right, "right statements taken for misconceptions: {taken:#?}");
}

#[derive(Debug, Deserialize)]
struct Hidden {
    answer: Vec<HiddenAnswer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HiddenAnswer {
    id: String,
    question: u32,
    /// The rubric's misconception it states (or any of several, `|`).
    misconception: String,
    text: String,
}

/// A misconception hidden in an otherwise right answer is found, and the
/// answer flagged.
#[test]
fn misconceptions_hidden_in_right_answers_are_found() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/answers/hidden.toml");
    let hidden: Hidden = toml::from_str(&std::fs::read_to_string(path).unwrap()).expect("the answers parse");
    let mut missed = Vec::new();
    for a in &hidden.answer {
        let marked = mark(Question::parse(&a.question.to_string()).unwrap(), &a.text);
        let ids: Vec<&str> = a.misconception.split('|').collect();
        if !marked.misconceptions.iter().any(|(m, _)| ids.contains(&m.id.as_str())) {
            missed.push(format!("{} ({}): {}/10", a.id, a.misconception, marked.total()));
        } else {
            assert!(!marked.flags.is_empty(), "{}", a.id);
        }
    }
    let found = hidden.answer.len() - missed.len();
    eprintln!("hidden misconceptions: {found} of {} found", hidden.answer.len());
    assert!(
        found * 10 >= hidden.answer.len() * 8,
        "{found} of {} found; missed: {missed:#?}",
        hidden.answer.len()
    );
}

/// Said after a misconception in its sentence: words of many concepts.
/// (Checked above: most examples still state their misconception with it.)
const ALSO: &str = ", so the processes each have their own memory and run in parallel on several cores, \
    which saves the cost of starting a process per task and makes CPU-bound work faster.";

#[test]
fn the_same_text_gets_the_same_mark_and_flags() {
    for (entry, total, flags) in marked_in("dev.toml") {
        let question = Question::parse(&entry.question.to_string()).unwrap();
        let again = mark(question, &entry.text);
        assert_eq!((again.total(), &again.flags), (total, &flags), "{}", entry.id);
    }
}

/// The cases of the issue that asked for claims rather than words.
#[test]
fn claims_not_words() {
    let q1 = |text: &str| mark(Question::Q1, text);
    let q2 = |text: &str| mark(Question::Q2, text);
    let q4 = |text: &str| mark(Question::Q4, text);
    for (marked, id) in [
        (
            q1(
                "Multiprocessing is the OS switching between programs very quickly on one CPU, so each gets a turn.",
            ),
            "one-cpu-switching",
        ),
        (
            q2("A forked child shares its parent's memory, so it can change the parent's variables."),
            "child-shares-memory",
        ),
        (
            q2("Threads can never run in parallel in any language, only processes can."),
            "threads-never-parallel",
        ),
        (q2("Processes share memory, while threads each get a copy of it."), "processes-share-memory"),
        (
            q4("A pool starts a new process per task, which saves the cost of starting a process per task."),
            "process-per-task",
        ),
    ] {
        assert!(marked.misconceptions.iter().any(|(m, _)| m.id == id), "{id}: {:?}", marked.read);
        assert!(!marked.flags.is_empty(), "{id}");
    }
    // The pool's misconception credits no "why" from its own sentence.
    let pool =
        q4("A pool starts a new process per task, which saves the cost of starting a process per task.");
    assert!(!pool.shown.iter().any(|(c, _)| c.id == "why"), "{:?}", pool.shown);
    // "Processes share memory" is not "threads share memory".
    let swapped = q2("Processes share memory, while threads each get a copy of it.");
    assert!(!swapped.shown.iter().any(|(c, _)| c.id == "memory"));
    let right = q2("Threads share memory, while processes each get a copy of it.");
    assert!(right.shown.iter().any(|(c, _)| c.id == "memory") && right.misconceptions.is_empty());
    // In plain words, without "address space", "parallelism" or "overhead".
    let plain = q1(
        "Multiprocessing means running separate programs, each with its own private memory, at the same time on different cores. \
         Heavy calculations then finish much sooner than on one core. If one of them crashes the others carry on. \
         Starting a program takes time and passing data between them has to be copied, so it is not free.",
    );
    assert!(plain.total() >= 9, "{}: {:?}", plain.total(), plain.missing);
    // Opposite statements are not credited.
    let opposite = q2("Processes are cheaper than threads and quicker to create.");
    assert!(!opposite.shown.iter().any(|(c, _)| c.id == "cost") && !opposite.misconceptions.is_empty());
}

#[test]
fn no_right_answer_is_marked_below_5() {
    for (e, m, _) in marked() {
        if e.mark >= 6 && !GAMED.contains(&e.style.as_str()) {
            assert!(m >= 5, "{}: {m}/10, the TA gave {} ({})", e.id, e.mark, e.reason);
        }
    }
}

#[test]
fn no_gamed_or_other_question_answer_gets_above_3_unflagged() {
    for (e, m, flags) in marked() {
        if GAMED.contains(&e.style.as_str()) {
            assert!(m <= 3 || !flags.is_empty(), "{}: {m}/10 and not flagged ({})", e.id, e.reason);
        }
    }
}

#[test]
fn the_named_cases_of_the_issue() {
    let marked = marked();
    let get =
        |id: &str| marked.iter().find(|(e, _, _)| e.id == id).unwrap_or_else(|| panic!("{id} in the corpus"));
    // Keyword-stuffed filler: flagged, at most 3.
    for id in ["q2-quick-brown-fox", "q4-quick-brown-fox"] {
        let (_, m, flags) = get(id);
        assert!(*m <= 3 && !flags.is_empty(), "{id}: {m}/10, flags {flags:?}");
    }
    // An honest 89-word answer gets its points.
    assert!(get("q1-honest-89-words").1 >= 6);
    // "fill in" inside an answer is no placeholder.
    let fill_in = &get("q4-fill-in").0;
    assert!(!mark(Question::Q4, &fill_in.text).placeholder);
    assert!(get("q4-fill-in").1 >= 6);
    // The costs said in the student's own words.
    let own = mark(Question::Q1, &get("q1-own-words-213").0.text);
    assert!(own.shown.iter().any(|(c, _)| c.id == "costs"), "{:?}", own.missing);
    // Another question answered: flagged or low.
    let (_, m, flags) = get("q2-multiprogramming");
    assert!(*m <= 3 || !flags.is_empty());
    // The fork hazard is an extra: full marks without it.
    assert_eq!(get("q2-no-fork-hazard").1, 10);
    for id in ["q1-placeholder", "q2-todo", "q4-empty"] {
        assert_eq!(get(id).1, 0, "{id}");
    }
}
