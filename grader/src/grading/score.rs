//! Scoring: gives each check's verdict its points from the rubric, and adds
//! them up.

use std::time::{Duration, Instant};

use crate::checks::{self, QuestionReport, Verdict};
use crate::engine::context::Context;
use crate::engine::run::SandboxStatus;
use crate::grading::Progress;
use crate::rubric::{self, Check, Question};

/// How a check came out, as the scorecard marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// ✓: judged, and right.
    Passed,
    /// ✗: judged, and points lost.
    Failed,
    /// ○: not judged, for a mistake another check counts; points kept.
    NotJudged,
    /// –: right, but its points are not counted: the point of the question
    /// was missed (see [`rubric::MISSED_POINT_SHARE`]).
    NotCounted,
}

impl Scored {
    /// Every point of it kept: right, or not judged for another check's
    /// mistake.
    pub fn passed(&self) -> bool {
        matches!(self.mark, Mark::Passed | Mark::NotJudged)
    }
}

impl Mark {
    /// The mark on a terminal.
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Passed => "✓",
            Mark::Failed => "✗",
            Mark::NotJudged => "○",
            Mark::NotCounted => "–",
        }
    }
}

/// One check, scored.
#[derive(Debug, Clone)]
pub struct Scored {
    pub check: &'static Check,
    pub score: u32,
    pub mark: Mark,
    pub message: String,
}

/// One question, scored.
#[derive(Debug, Clone)]
pub struct QuestionScore {
    pub question: Question,
    pub checks: Vec<Scored>,
    pub notes: Vec<String>,
    /// Whether the process witness verified the process checks (`None`:
    /// a written answer, or no program ran).
    pub witnessed: Option<bool>,
    /// Why the instructor should look at this mark (see
    /// [`QuestionReport::review`]).
    pub review: Vec<crate::checks::flag::Flag>,
    /// A written answer's text, as read.
    pub answer: Option<String>,
    /// Whether the student has started on it (see
    /// [`QuestionReport::attempted`]).
    pub attempted: bool,
    /// What `grader hint` says first: about the first check that fails (its
    /// hint in the rubric, or for a written answer's concepts, the nudges of
    /// what it misses), with that check's id. Empty when nothing fails, or
    /// nothing is attempted.
    pub hints: Vec<String>,
    /// The check `hints` are about.
    pub hints_about: Option<crate::rubric::CheckId>,
}

impl QuestionScore {
    pub fn score(&self) -> u32 {
        self.checks.iter().map(|c| c.score).sum()
    }

    pub fn max(&self) -> u32 {
        self.checks.iter().map(|c| c.check.points).sum()
    }
}

/// Every question, scored.
#[derive(Debug, Clone)]
pub struct Scorecard {
    pub questions: Vec<QuestionScore>,
    pub elapsed: Duration,
    pub seed: u64,
    /// Protected files a submission changed (see
    /// [`submission`](crate::grading::submission)); they were not used.
    pub changed_protected_paths: Vec<String>,
    /// Files of a submission that were not taken (links, devices, build
    /// scripts), with why.
    pub skipped_files: Vec<String>,
    /// Which protections of the sandbox held over every build and run
    /// (`None`: nothing was built or run).
    pub sandbox: Option<SandboxStatus>,
}

impl Scorecard {
    pub fn score(&self) -> u32 {
        self.questions.iter().map(QuestionScore::score).sum()
    }

    pub fn max(&self) -> u32 {
        self.questions.iter().map(QuestionScore::max).sum()
    }

    /// Whether every program that ran was watched by the process witness.
    pub fn process_checks_verified(&self) -> bool {
        self.questions.iter().all(|q| q.witnessed != Some(false))
    }

    pub fn full_marks(&self) -> bool {
        self.score() == self.max()
    }
}

/// Scores one question's report. A check the report has no verdict for
/// fails: a rubric entry is never passed by being forgotten. When the point
/// of the question is missed, the rest counts for at most its share.
pub fn score_question(report: QuestionReport) -> QuestionScore {
    let mut checks: Vec<Scored> = rubric::checks_of(report.question)
        .map(|check| {
            let verdict = report
                .verdicts
                .iter()
                .find(|(id, _)| *id == check.id)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| Verdict::fail("the grader has no result for this check"));
            let fraction = verdict.fraction.clamp(0.0, 1.0);
            let mark = match (verdict.passed(), verdict.judged) {
                (true, true) => Mark::Passed,
                (true, false) => Mark::NotJudged,
                (false, _) => Mark::Failed,
            };
            Scored {
                check,
                score: (f64::from(check.points) * fraction).floor() as u32,
                mark,
                // Whatever a program printed, a message quotes a part of it.
                message: crate::engine::normalize::cut(
                    &verdict.message,
                    crate::engine::normalize::MESSAGE_CAP,
                ),
            }
        })
        .collect();
    cap_when_the_point_is_missed(report.question, &mut checks);
    let failing = checks.iter().find(|c| c.mark == Mark::Failed).filter(|_| report.attempted);
    let hints = match failing {
        None => Vec::new(),
        Some(c) if c.check.hint.is_empty() => report.nudges.clone(),
        Some(c) => vec![c.check.hint.to_string()],
    };
    let hints_about = failing.filter(|_| !hints.is_empty()).map(|c| c.check.id);
    QuestionScore {
        question: report.question,
        checks,
        notes: report
            .notes
            .iter()
            .map(|n| crate::engine::normalize::cut(n, crate::engine::normalize::MESSAGE_CAP))
            .collect(),
        witnessed: report.witnessed,
        review: report.review,
        answer: report.answer,
        attempted: report.attempted,
        hints,
        hints_about,
    }
}

/// Takes points back, from the last checks first, until the question counts
/// for at most [`rubric::MISSED_POINT_SHARE`] of its points, if its point
/// was missed; each check so reduced says why.
fn cap_when_the_point_is_missed(question: Question, checks: &mut [Scored]) {
    let Some(point) = rubric::point_of(question) else { return };
    if checks.iter().any(|c| c.check.id == point.id && c.passed()) {
        return;
    }
    let max: u32 = checks.iter().map(|c| c.check.points).sum();
    let (share, of) = rubric::MISSED_POINT_SHARE;
    let cap = max * share / of;
    let mut excess = checks.iter().map(|c| c.score).sum::<u32>().saturating_sub(cap);
    for c in checks.iter_mut().rev() {
        if excess == 0 {
            break;
        }
        let taken = c.score.min(excess);
        if taken > 0 {
            let had = c.score;
            c.score -= taken;
            excess -= taken;
            if c.mark != Mark::Failed {
                c.mark = Mark::NotCounted;
            }
            // Say exactly what is not counted: all its points, or some.
            let which = if c.score == 0 {
                "not counted".to_string()
            } else {
                format!("{taken} of its {had} points not counted")
            };
            c.message = format!(
                "{} ({which}: {} \"{}\" failed, and without it Q{} counts for at most {cap} of {max})",
                c.message,
                point.id,
                point.title,
                question.number()
            );
        }
    }
}

/// Grades every question in order; `progress` hears of each as it starts.
/// An error of the grader's own makes it an error, never lost points.
pub fn grade_all(ctx: &Context, progress: impl Fn(Progress)) -> anyhow::Result<Scorecard> {
    grade_questions(ctx, &Question::ALL, progress)
}

/// One question checked and scored: the checks' report, and its score.
/// An error of the grader's own while it built or ran anything makes it an
/// error, never lost points (the one place where that is looked at).
pub fn grade_question(ctx: &Context, question: Question) -> anyhow::Result<(QuestionReport, QuestionScore)> {
    let report = checks::grade(ctx, question);
    if let Some(failure) = ctx.failure() {
        anyhow::bail!("{failure}");
    }
    let score = score_question(report.clone());
    Ok((report, score))
}

/// Grades these questions, in order (see [`grade_all`]).
pub fn grade_questions(
    ctx: &Context,
    questions: &[Question],
    progress: impl Fn(Progress),
) -> anyhow::Result<Scorecard> {
    let started = Instant::now();
    // The programs built in one cargo run, before their questions ask.
    ctx.prebuild(&questions.iter().filter_map(|q| q.package()).collect::<Vec<_>>());
    let questions = questions
        .iter()
        .map(|&question| {
            progress(Progress::Grading(question));
            grade_question(ctx, question).map(|(_, score)| score)
        })
        .collect::<anyhow::Result<_>>()?;
    // With `--require-sandbox`, a grading any part of which ran with less
    // than every protection is no grading.
    if let Some(status) = ctx.sandbox().filter(|s| ctx.settings.require_sandbox && !s.complete()) {
        anyhow::bail!("{}", status.refusal());
    }
    Ok(Scorecard {
        questions,
        elapsed: started.elapsed(),
        seed: ctx.settings.seed,
        changed_protected_paths: Vec::new(),
        skipped_files: Vec::new(),
        sandbox: ctx.sandbox(),
    })
}
