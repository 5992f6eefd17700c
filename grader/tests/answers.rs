//! The written answers' marker against a teaching assistant's marks: a
//! corpus of answers in the styles students really use
//! (`tests/answers/corpus.toml`), each with the mark a careful TA gave and
//! why. The marker must stay close to them (mean absolute error, rank
//! correlation), never mark a right answer down to a fail, and never let a
//! gamed answer or one to another question through unflagged.
//!
//! `cargo test -p grader --test answers -- --nocapture` prints the table.

use grader::rubric::Question;
use grader::written::mark;
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
fn marked() -> Vec<(Entry, u32, Vec<String>)> {
    marked_in("corpus.toml")
}

/// The answers of `tests/answers/<file>`, each with its automatic mark and flags.
fn marked_in(file: &str) -> Vec<(Entry, u32, Vec<String>)> {
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
fn compare(marked: &[(Entry, u32, Vec<String>)]) -> (f64, f64, String) {
    let ta: Vec<f64> = marked.iter().map(|(e, _, _)| f64::from(e.mark)).collect();
    let auto: Vec<f64> = marked.iter().map(|(_, m, _)| f64::from(*m)).collect();
    let mae = ta.iter().zip(&auto).map(|(t, a)| (t - a).abs()).sum::<f64>() / ta.len() as f64;
    let rho = spearman(&ta, &auto);
    let mut worst: Vec<&(Entry, u32, Vec<String>)> = marked.iter().collect();
    worst.sort_by_key(|(e, m, _)| std::cmp::Reverse(e.mark.abs_diff(*m)));
    let table: String = worst
        .iter()
        .map(|(e, m, flags)| {
            let flag =
                if flags.is_empty() { String::new() } else { format!(" [review: {}]", flags.join("; ")) };
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
    assert!(mae <= 1.0, "mean absolute error {mae:.2} > 1.0:{table}");
    assert!(rho >= 0.9, "rank correlation {rho:.3} < 0.9:{table}");
}

/// Answers written and marked apart from the marker, never used to tune
/// it: how it does on answers it has not seen.
#[test]
fn the_marker_agrees_on_answers_it_was_not_tuned_on() {
    let marked = marked_in("holdout.toml");
    assert!(marked.len() >= 30, "the hold-out set has {} answers", marked.len());
    let (mae, rho, table) = compare(&marked);
    eprintln!("hold-out: mean absolute error {mae:.2}, rank correlation {rho:.3}, worst first:{table}");
    assert!(mae <= 1.0, "mean absolute error {mae:.2} > 1.0:{table}");
    assert!(rho >= 0.9, "rank correlation {rho:.3} < 0.9:{table}");
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
