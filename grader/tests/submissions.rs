//! The grader graded: wrong submissions must lose exactly the right points,
//! with the right message, and right ones written differently from the
//! reference must get full marks. Each fixture in `tests/fixtures/<name>/`
//! holds the files that differ from the reference; it is graded in a
//! scratch workspace of its own.

mod common;

use common::assert_nothing_left_running;

use std::path::{Path, PathBuf};

use grader::checks;
use grader::engine::workspace::home as workspace;
use grader::grading::score::{QuestionScore, score_question};
use grader::rubric::Question;

/// What a fixture should get: the checks that fail, each with a fragment of
/// its message; `unsure` checks may go either way (the submission's own
/// behaviour varies); every other check must pass, but for those the
/// missed point of the question (`capped`) leaves uncounted.
struct Expect<'a> {
    fails: &'a [(&'a str, &'a str)],
    unsure: &'a [&'a str],
    /// The point of the question is missed: the question counts for at most
    /// its share, and checks that passed may say they were not counted.
    capped: bool,
}

const ALL_PASS: Expect<'static> = Expect { fails: &[], unsure: &[], capped: false };

impl<'a> Expect<'a> {
    /// These checks fail, each with a fragment of its message; every other
    /// passes.
    const fn fails(fails: &'a [(&'a str, &'a str)]) -> Expect<'a> {
        Expect { fails, unsure: &[], capped: false }
    }

    /// These checks may go either way.
    const fn unsure(self, unsure: &'a [&'a str]) -> Expect<'a> {
        Expect { unsure, ..self }
    }

    /// The point of the question is missed.
    const fn capped(self) -> Expect<'a> {
        Expect { capped: true, ..self }
    }
}

/// A test for each row: `name: "fixture", Q6 => expectation;` grades the
/// fixture laid over the reference.
macro_rules! graded {
    ($($name:ident: $fixture:literal, $question:ident => $expect:expr;)*) => {
        $(
            #[test]
            fn $name() {
                assert_graded($fixture, Question::$question, false, $expect);
            }
        )*
    };
}

fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Grades `question` of the reference overlaid with the fixture (or of the
/// fixture alone, if `alone`).
fn grade(name: &str, question: Question, alone: bool) -> QuestionScore {
    let reference = workspace();
    let fixture = fixture_dir(name);
    let sources: Vec<&Path> = if alone { vec![&fixture] } else { vec![&reference, &fixture] };
    let (scratch, mut ctx) = common::scratch_context(&sources);
    ctx.settings.limits.timeout_ms = 2_000;
    let scored = score_question(checks::grade(&ctx, question));
    assert_nothing_left_running(Some(scratch.path()));
    // Whatever the program printed, no message or note quotes more than a
    // part of it.
    for text in scored.checks.iter().map(|c| &c.message).chain(&scored.notes) {
        assert!(
            text.len() <= grader::engine::normalize::MESSAGE_CAP,
            "{name}: a message of {} bytes: {}…",
            text.len(),
            &text[..200]
        );
    }
    scored
}

fn assert_graded(name: &str, question: Question, alone: bool, expect: Expect) -> QuestionScore {
    let scored = grade(name, question, alone);
    let card: String = scored
        .checks
        .iter()
        .map(|c| format!("\n  {} {} {}", c.check.id, if c.passed() { "✓" } else { "✗" }, c.message))
        .collect();
    for c in &scored.checks {
        if expect.unsure.contains(&c.check.id.as_str()) {
            continue;
        }
        match expect.fails.iter().find(|(id, _)| *id == c.check.id) {
            Some((id, fragment)) => {
                assert!(!c.passed(), "{name}: {id} should fail:{card}");
                assert!(c.message.contains(fragment), "{name}: {id} should say {fragment:?}:{card}");
                assert!(c.score < c.check.points, "{name}: {id} lost no points:{card}");
            }
            None if expect.capped && c.message.contains("not counted: ") => {}
            None => assert!(c.passed(), "{name}: {} should pass:{card}", c.check.id),
        }
    }
    // The point of the question missed: it counts for at most its share.
    let (share, of) = grader::rubric::MISSED_POINT_SHARE;
    if expect.capped {
        let cap = scored.max() * share / of;
        assert!(scored.score() <= cap, "{name}: capped, but {}/{}:{card}", scored.score(), scored.max());
    }
    scored
}

/// The message of check `id`.
fn message<'a>(scored: &'a QuestionScore, id: &str) -> &'a str {
    &scored.checks.iter().find(|c| c.check.id == id).unwrap_or_else(|| panic!("no check {id}")).message
}

/// What 6.4 says of a last line printed before children the grader held
/// back: only waiting for them lets them go.
const HELD_LATE: (&str, &str) = (
    "6.4",
    "the last line came before the lines of processes 1, 2, 3, 4 (the grader started the children late",
);

// The fixtures whose test is their expectation alone, one test each: the
// test's name, the fixture, its question, what it should get.
graded! {
    q6_one_child_printing_everything_loses_the_process_check: "q6_one_child", Q6 =>
        Expect::fails(&[("6.3", "4 lines carry pid")]).capped();
    q6_last_line_before_the_children_is_caught: "q6_last_line_first", Q6 =>
        Expect::fails(&[("6.4", "the last line came before the lines of processes 1, 2, 3, 4")]);
    // Without the hold, the children win this race in about one run of four.
    q6_last_line_racing_the_children_is_caught_with_the_children_held_back: "q6_last_line_racy", Q6 =>
        Expect::fails(&[HELD_LATE]);
    // A sleep in disguise (a call with a timeout) does not let the held
    // children go: only waiting does.
    q6_a_parent_that_sleeps_in_poll_instead_of_waiting_is_caught: "q6_poll_sleep", Q6 =>
        Expect::fails(&[HELD_LATE]);
    attack_on_the_hold_by_sigcont_frees_no_child: "q6_sigcont_held", Q6 =>
        Expect::fails(&[HELD_LATE]);
    q6_spawn_in_another_order_with_stderr_gets_full_marks: "q6_spawn_right", Q6 =>
        ALL_PASS;
    q3_spawn_with_stderr_gets_full_marks: "q3_spawn_right", Q3 =>
        ALL_PASS;
    q3_death_by_a_signal_is_reported: "q3_abort", Q3 =>
        Expect::fails(&[("3.1", "was killed by SIGABRT")]);
    q6_threads_printing_thread_ids_are_seen_as_threads: "q6_thread_ids", Q6 =>
        Expect::fails(&[("6.3", "the program created 0 processes and 4 threads")]).capped();
    q6_invented_pids_are_seen_through: "q6_invented_pids", Q6 =>
        Expect::fails(&[("6.3", "the program created 0 processes")]).capped();
    q3_a_thread_printing_a_silent_processs_lines_is_seen_to_write_them: "q3_thread_prints", Q3 =>
        Expect::fails(&[
            ("3.3", "was written by a thread of pid"),
            ("3.7", "a thread of pid"),
            ("3.8", "a thread of pid"),
        ]).capped();
    q5_a_parent_that_squares_and_prints_for_idle_workers_is_seen_to: "q5_parent_computes", Q5 =>
        Expect::fails(&[("5.4", "was written by pid")]).capped();
    q5_text_records_on_a_pipe_per_worker_deadlock_on_the_large_input: "q5_text_deadlock", Q5 =>
        Expect::fails(&[("5.10", "a deadlock?")]);
    q5_a_pool_that_makes_its_pipes_larger_deadlocks_all_the_same: "q5_big_pipes_deadlock", Q5 =>
        Expect::fails(&[("5.10", "a deadlock?")]);
    q5_workers_run_again_over_stdin_and_stdout_get_full_marks: "q5_reexec_right", Q5 =>
        ALL_PASS;
    q5_a_pipe_per_worker_with_a_reader_thread_gets_full_marks: "q5_pipe_per_worker_right", Q5 =>
        ALL_PASS;
    q6_children_whose_lines_the_parent_relays_get_full_marks: "q6_relayed_right", Q6 =>
        ALL_PASS;
    q6_forking_and_waiting_for_each_child_in_turn_gets_full_marks: "q6_fork_wait_in_turn_right", Q6 =>
        ALL_PASS;
    q6_children_relayed_with_io_copy_which_splices_get_full_marks: "q6_io_copy_right", Q6 =>
        ALL_PASS;
    q6_children_printing_without_a_newline_relayed_by_the_parent_get_full_marks: "q6_no_newline_relay_right", Q6 =>
        ALL_PASS;
    q6_children_writing_through_a_copy_of_stdout_get_full_marks: "q6_copy_of_stdout_right", Q6 =>
        ALL_PASS;
    q6_reaping_with_wait_in_any_order_gets_full_marks: "q6_wait_any_order_right", Q6 =>
        ALL_PASS;
    // A system program (`/bin/sh`) is refused, and the student is told why
    // in their own terms, not as a bare errno.
    q6_children_that_run_a_shell_are_refused_with_a_reason: "q6_shell_children", Q6 =>
        Expect::fails(&[
            ("6.1", "a program may run only its own binary, not `/bin/sh`"),
        ]).unsure(&["6.2", "6.3", "6.4", "6.5", "6.6"]);
    // Each child goes back into the loop: 15 processes, some of which wait
    // for pids that are not their children and fail, some of which print
    // the last line; said the same way every time, whatever the scheduler.
    q6_children_that_do_not_exit_are_named_for_it: "q6_no_exit", Q6 =>
        Expect::fails(&[
            ("6.1", "exited with status 1"),
            ("6.2", "got 1, 2, 2, 3, 3, 3, 3, 4"),
            ("6.3", "the program created 15 processes"),
            ("6.4", "times: only the parent prints it"),
            ("6.6", "differs"),
        ])
        .capped();
    q6_duplicated_number_is_named: "q6_duplicate", Q6 =>
        Expect::fails(&[("6.2", "got 1, 2, 2, 4"), ("6.6", "differs")]);
    q3_worker_racing_a_main_process_that_never_waits_costs_the_wait_only: "q3_no_wait_racy", Q3 =>
        Expect::fails(&[("3.5", "never waited for its child process")]);
    q6_hang_is_stopped_and_reported: "q6_hang", Q6 =>
        Expect::fails(&[
            ("6.1", "did not finish within 2 s"),
            ("6.4", "is missing"),
            ("6.5", "did not finish"),
            ("6.6", "not compared: the program was stopped"),
        ]);
    q6_daemonized_grandchild_is_killed_and_reported: "q6_daemon", Q6 =>
        Expect::fails(&[
            ("6.3", "the program created 5 processes"),
            ("6.5", "was still running after the program exited (still running 1 s later, it was killed"),
        ])
        .capped();
    q3_missing_wait_is_caught: "q3_no_wait", Q3 =>
        Expect::fails(&[("3.5", "never waited for its child process")]);
    q3_no_process_at_all_is_caught: "q3_no_process", Q3 =>
        Expect::fails(&[
            ("3.3", "the main process's own pid"),
            ("3.4", "no worker process was created"),
            ("3.7", "created no worker process (see 3.3)"),
            ("3.8", "created no worker process (see 3.3)"),
        ])
        .capped();
    // The worker exits with 0; the main process prints the status it asked
    // for. Only the witness can tell.
    q3_a_status_reported_but_not_the_workers_real_one_is_caught: "q3_status_invented", Q3 =>
        Expect::fails(&[("3.7", "really exited with status 0"), ("3.8", "really exited with status 0")]);
    q3_a_hanging_fork_path_leaves_the_spawn_path_judged_on_its_own: "q3_fork_hangs", Q3 =>
        Expect::fails(&[
            ("3.1", "did not finish within 2 s"),
            ("3.2", ""),
            ("3.3", ""),
            ("3.4", ""),
            ("3.5", ""),
            ("3.6", "not compared"),
            ("3.7", "not run: the default run, which forks the same way, did not finish"),
        ])
        .capped();
    // The default (fork) run waits, so 3.5 passes: the spawn path's missing
    // wait, and the status it could not know, are 3.8's.
    q3_a_spawn_path_that_never_waits_is_its_own_mistake: "q3_spawn_no_wait", Q3 =>
        Expect::fails(&[("3.8", "never waited for its child")]);
    q5_hard_coded_output_fails_random_edge_and_bad_arguments: "q5_hardcoded", Q5 =>
        Expect::fails(&[
            ("5.4", "the program created 0 processes"),
            ("5.5", "`q5_pool --workers"),
            ("5.6", "`q5_pool"),
            ("5.7", "exited with status 0"),
            ("5.10", "(31000 numbers)"),
        ])
        .capped();
    q5_results_out_of_order_are_caught: "q5_unordered", Q5 =>
        Expect::fails(&[
            ("5.3", "Results are not in input order"),
            ("5.5", "not in input order"),
            ("5.6", "not in input order"),
            ("5.9", "differs"),
            ("5.10", "not in input order"),
        ]);
    q3_output_that_is_not_utf8_is_reported: "q3_invalid_utf8", Q3 =>
        Expect::fails(&[
            ("3.2", "not UTF-8"),
            ("3.3", "not UTF-8"),
            ("3.4", "not UTF-8"),
            ("3.5", "not UTF-8"),
            ("3.6", "no output"),
            ("3.7", "created no worker process"),
            ("3.8", "created no worker process"),
        ]);
    q6_fork_bomb_is_stopped_at_the_process_cap: "q6_fork_bomb", Q6 =>
        Expect::fails(&[
            ("6.1", "created more than 64 processes"),
            ("6.2", "printed nothing"),
            ("6.3", "printed nothing"),
            ("6.4", "printed nothing"),
            ("6.5", "did not finish"),
            ("6.6", "not compared: the program was stopped"),
        ]);
    q5_rayon_threads_are_not_worker_processes: "q5_rayon_thread_ids", Q5 =>
        Expect::fails(&[("5.4", "the program created 0 processes and 4 threads")]).capped();
}

#[test]
fn q6_threads_instead_of_processes_lose_the_process_check() {
    let expect = Expect::fails(&[("6.3", "the main process's own pid")]).capped();
    let scored = assert_graded("q6_threads", Question::Q6, false, expect);
    // The wait check does not claim the threads were reaped as processes,
    // and a check partly cut by the cap says how much of it.
    let wait = &scored.checks[3].message;
    assert!(!wait.contains("all four") && wait.contains("no child process to wait for"), "{wait}");
    for c in scored.checks.iter().filter(|c| c.message.contains("not counted")) {
        let said = if c.score == 0 {
            "(not counted: ".to_string()
        } else {
            format!("of its {} points not counted", c.check.points)
        };
        assert!(c.message.contains(&said), "{} ({}/{}): {}", c.check.id, c.score, c.check.points, c.message);
    }
}

#[test]
fn q6_missing_wait_is_caught_once() {
    // The children print after the parent exited, as they would in a
    // terminal: one mistake, the wait, and 6.4 alone counts it.
    let expect = Expect::fails(&[("6.4", "never waited for its child processes")]);
    let scored = assert_graded("q6_no_wait", Question::Q6, false, expect);
    // The first hint is about the check that fails: the wait.
    let first = grader::student::hints::sequence(Question::Q6, Some(&scored));
    assert!(
        first[0].contains("`waitpid` each one") && scored.hints_about.map(|c| c.as_str()) == Some("6.4"),
        "{first:?}"
    );
    let c5 = &scored.checks[4];
    assert!(
        c5.message.contains("a mistake 6.4 counts") && c5.mark == grader::grading::score::Mark::NotJudged,
        "{}",
        c5.message
    );
}

#[test]
fn q6_lines_lost_because_the_grader_killed_the_children_are_said_so() {
    let expect = Expect::fails(&[
        ("6.2", "got none (processes"),
        ("6.3", "no \"Process"),
        ("6.4", "never waited for its child processes"),
        ("6.5", "nothing to check"),
        ("6.6", "differs"),
    ]);
    let scored = assert_graded("q6_no_wait_slow", Question::Q6, false, expect);
    let c2 = &scored.checks[1].message;
    assert!(c2.contains("the grader killed them: what they had not printed by then is missing"), "{c2}");
}

#[test]
fn q6_flood_is_cut_and_reported() {
    let expect = Expect::fails(&[
        // Cut at the cap, or still printing when time ran out.
        ("6.1", "printing in an endless loop?"),
        ("6.2", "unexpected line"),
        ("6.4", "is missing"),
        ("6.5", "did not finish"),
        ("6.6", "not compared: the program was stopped"),
    ])
    .unsure(&["6.3"]);
    assert_graded("q6_flood", Question::Q6, false, expect);
}

#[test]
fn q6_compile_error_costs_every_point_with_the_compiler_message() {
    // Said once, in full; the other checks say they were not run, and why.
    let mut fails: Vec<(&str, &str)> = vec![("6.1", "mismatched types")];
    fails.extend(
        ["6.2", "6.3", "6.4", "6.5", "6.6"]
            .map(|id| (id, "not run: `cargo build -p q6_four_procs` failed (see 6.1)")),
    );
    assert_graded("q6_compile_error", Question::Q6, false, Expect::fails(&fails));
}

/// The programs are built in one cargo run before their questions are
/// graded: Q6's compile error still costs Q6 alone, said in the same words;
/// and so does one that floods the build's output, which cuts the combined
/// build short (each program is then built alone).
#[test]
fn a_compile_error_built_beside_the_other_programs_costs_its_own_question_only() {
    let reference = workspace();
    for (name, said) in [
        ("q6_compile_error", "`cargo build -p q6_four_procs` failed:\nerror[E0308]: mismatched types"),
        ("q6_compile_error_flood", "`cargo build -p q6_four_procs` wrote more than 4 MiB"),
    ] {
        let fixture = fixture_dir(name);
        let (scratch, ctx) = common::scratch_context(&[&reference, &fixture]);
        let card = grader::grading::score::grade_questions(&ctx, &Question::ALL, |_| {}).unwrap();
        assert_nothing_left_running(Some(scratch.path()));
        for q in &card.questions {
            let first = q.checks[0].message.as_str();
            match q.question {
                Question::Q6 => assert!(q.score() == 0 && first.starts_with(said), "{name}: {first}"),
                _ => assert_eq!(q.score(), q.max(), "{name}: Q{}: {first}", q.question.number()),
            }
        }
    }
}

/// A failure of the grader's own (a dependency built again in the
/// sandbox) is told by what cargo says, never by what the compiler quotes
/// of the source: a compile error in those words is the student's.
#[test]
fn a_compile_error_in_the_words_of_the_graders_failure_is_still_the_students() {
    let (reference, fixture) = (workspace(), fixture_dir("q6_compile_error_like_the_graders"));
    let (_scratch, ctx) = common::scratch_context(&[&reference, &fixture]);
    let card = grader::grading::score::grade_questions(&ctx, &Question::ALL, |_| {})
        .expect("graded, not the grader's failure");
    for q in &card.questions {
        let first = &q.checks[0].message;
        match q.question {
            Question::Q6 => {
                assert_eq!(q.score(), 0, "{first}");
                assert!(first.contains("failed to run custom build command for `anyhow"), "{first}");
            }
            _ => assert_eq!(q.score(), q.max(), "Q{}: {first}", q.question.number()),
        }
    }
}

#[test]
fn q6_todo_stub_scores_nothing() {
    let fails: Vec<(&str, &str)> =
        ["6.1", "6.2", "6.3", "6.4", "6.5", "6.6"].iter().map(|id| (*id, "not attempted yet")).collect();
    assert_graded("q6_todo", Question::Q6, false, Expect::fails(&fails));
}

#[test]
fn q3_a_hard_coded_status_is_caught_because_the_status_varies() {
    let reported = "reported status 0, but the worker was told to exit with";
    let fails = [("3.7", reported), ("3.8", reported)];
    assert_graded("q3_status_hardcoded", Question::Q3, false, Expect::fails(&fails));
}

#[test]
fn q3_worker_lines_invented_by_the_main_process_are_seen_through() {
    // The status is the worker's real one, but its lines are not its own.
    let invented = "but the program created no process 424242";
    let fails = [("3.7", invented), ("3.8", invented)];
    assert_graded("q3_status_fake_lines", Question::Q3, false, Expect::fails(&fails));
}

#[test]
fn q3_the_spawn_path_is_graded_too() {
    let todo = Expect::fails(&[("3.8", "not attempted yet")]);
    assert_graded("q3_spawn_todo", Question::Q3, false, todo);
    let forks = Expect::fails(&[("3.8", "forked the worker")]);
    assert_graded("q3_spawn_forks", Question::Q3, false, forks);
}

#[test]
fn q5_process_per_number_is_not_a_pool() {
    let expect = Expect {
        capped: true,
        // One mistake, judged once: 5.5 and 5.6 check the output only.
        fails: &[
            ("5.4", "9 different worker pids for 4 workers, one per number"),
            ("5.10", "created more than 64 processes"),
        ],
        unsure: &[],
    };
    assert_graded("q5_process_per_number", Question::Q5, false, expect);
}

#[test]
fn answers_not_attempted_score_nothing() {
    let fixture = "answers_not_attempted";
    let q1 = Expect::fails(&[("1.1", "not attempted yet"), ("1.2", "not attempted yet")]);
    assert_graded(fixture, Question::Q1, true, q1);
    let q2 = Expect::fails(&[("2.1", "answers/q2.md is missing"), ("2.2", "missing")]);
    assert_graded(fixture, Question::Q2, true, q2);
    // Two honest sentences that say little: the points of an answer of
    // one's own, none for concepts, each missing one said as what to say
    // something about, never as what to say (that is the answer key).
    let q4 = Expect::fails(&[("4.2", "0 of 8 points for concepts")]);
    assert_graded(fixture, Question::Q4, true, q4);
    let q4 = grade(fixture, Question::Q4, true);
    let message = &q4.checks[1].message;
    assert!(message.contains("✗ say why it is used"), "{message}");
    for concept in
        &grader::checks::written::Rubric::get().question.iter().find(|q| q.number == 4).unwrap().concept
    {
        assert!(!message.contains(&concept.name), "{message} names {}", concept.name);
    }
}

#[test]
fn q5_hang_costs_one_time_limit_not_one_per_run() {
    let skipped = "skipped: the default run did not finish";
    let fails = [
        ("5.1", "did not finish within 2 s"),
        ("5.2", "no worker line for the number 1"),
        ("5.3", "line is missing"),
        ("5.4", "no worker line for the number 1"),
        ("5.5", skipped),
        ("5.6", skipped),
        // 5.7 is checked all the same: bad arguments never reach the pool.
        ("5.8", "did not finish"),
        ("5.9", "not compared: the program was stopped"),
        ("5.10", skipped),
    ];
    let scored = assert_graded("q5_hang", Question::Q5, false, Expect::fails(&fails));
    // Where the processes were blocked is said: the clue to the hang.
    let first = &scored.checks[0].message;
    assert!(first.contains("Where each process was when it was stopped: the main process ("), "{first}");
}

#[test]
fn without_the_witness_the_reference_passes_on_output_and_says_so() {
    let reference = workspace();
    let (_scratch, mut ctx) = common::scratch_context(&[&reference]);
    ctx.settings.witness = false;
    for question in [Question::Q3, Question::Q5, Question::Q6] {
        let scored = score_question(checks::grade(&ctx, question));
        assert_eq!(scored.witnessed, Some(false));
        assert!(scored.notes.iter().any(|n| n.contains("NOT verified")), "{:?}", scored.notes);
        assert!(
            scored.notes.iter().any(|n| n.contains("who wrote each line was NOT verified")),
            "{:?}",
            scored.notes
        );
        assert!(scored.checks.iter().all(|c| c.passed()), "{question:?} on output alone");
    }
}

/// Traced, but without the system-call filter that hands the witness each
/// write: the process tree is seen, who wrote each line is not, and the
/// notes say so; the reference still gets full marks.
#[test]
fn without_the_filter_who_wrote_each_line_is_said_unverified() {
    let reference = workspace();
    let (_scratch, mut ctx) = common::scratch_context(&[&reference]);
    ctx.layers = grader::engine::run::Layers { landlock: true, seccomp: false };
    let scored = score_question(checks::grade(&ctx, Question::Q6));
    assert!(
        scored
            .notes
            .iter()
            .any(|n| n.contains("who wrote each line was NOT verified: the sandbox's system-call filter")),
        "{:?}",
        scored.notes
    );
    assert!(scored.checks.iter().all(|c| c.passed()), "{:?}", scored.checks);
}

/// The reference and the right submissions written differently, graded 50
/// times each in the sandbox: full marks every time. Slow; run it with the
/// CPU loaded (for example two `yes > /dev/null` beside it):
/// `cargo test -p grader --test submissions -- --ignored`.
#[test]
#[ignore = "50 gradings of each right submission: run by hand, with the CPU loaded"]
fn right_submissions_get_full_marks_50_times_in_the_sandbox() {
    let reference = workspace();
    let right = [
        ("reference", None, [Question::Q3, Question::Q5, Question::Q6].as_slice()),
        ("q6_spawn_right", Some("q6_spawn_right"), [Question::Q6].as_slice()),
        ("q3_spawn_right", Some("q3_spawn_right"), [Question::Q3].as_slice()),
        ("q6_relayed_right", Some("q6_relayed_right"), [Question::Q6].as_slice()),
        ("q6_wait_any_order_right", Some("q6_wait_any_order_right"), [Question::Q6].as_slice()),
        ("q6_fork_wait_in_turn_right", Some("q6_fork_wait_in_turn_right"), [Question::Q6].as_slice()),
        ("q6_io_copy_right", Some("q6_io_copy_right"), [Question::Q6].as_slice()),
        ("q6_copy_of_stdout_right", Some("q6_copy_of_stdout_right"), [Question::Q6].as_slice()),
        ("q6_no_newline_relay_right", Some("q6_no_newline_relay_right"), [Question::Q6].as_slice()),
        ("q5_reexec_right", Some("q5_reexec_right"), [Question::Q5].as_slice()),
        ("q5_pipe_per_worker_right", Some("q5_pipe_per_worker_right"), [Question::Q5].as_slice()),
    ];
    for (name, fixture, questions) in right {
        let fixture = fixture.map(fixture_dir);
        let mut sources: Vec<&Path> = vec![&reference];
        sources.extend(fixture.as_deref());
        let (_scratch, ctx) = common::scratch_context(&sources);
        for round in 0..50 {
            for &question in questions {
                let scored = score_question(checks::grade(&ctx, question));
                let lost: Vec<String> = scored
                    .checks
                    .iter()
                    .filter(|c| !c.passed())
                    .map(|c| format!("{} {}", c.check.id, c.message))
                    .collect();
                assert!(lost.is_empty(), "{name} {question:?}, round {round}: {lost:#?}");
            }
        }
        // In the sandbox, as far as this kernel allows one.
        let sandbox = ctx.sandbox().expect("runs were made");
        assert_eq!(
            sandbox.complete(),
            ctx.runner.probe_sandbox().unwrap().complete(),
            "{:?}",
            sandbox.missing()
        );
    }
}

#[test]
fn q5_pool_that_writes_every_task_first_deadlocks_on_a_large_input() {
    let expect = Expect::fails(&[("5.10", "a deadlock?")]);
    let scored = assert_graded("q5_deadlock", Question::Q5, false, expect);
    // The command of 31000 numbers is quoted short.
    let message = message(&scored, "5.10");
    assert!(message.len() < 1536 && message.contains("… and 30998 more arguments"), "{message}");
}

/// Who wrote each line, as the witness saw it, not the pid a line names.
#[test]
fn q6_parent_printing_its_childrens_lines_is_seen_to_write_them() {
    let expect = Expect::fails(&[("6.3", "was written by pid")]).capped();
    let scored = assert_graded("q6_parent_prints", Question::Q6, false, expect);
    let message = message(&scored, "6.3");
    assert!(message.contains("the main process"), "{message}");
}

#[test]
fn q5_one_worker_doing_every_task_does_not_share_them() {
    let expect = Expect::fails(&[("5.4", "squared all 31000 numbers")]).capped();
    let scored = assert_graded("q5_one_worker", Question::Q5, false, expect);
    let message = message(&scored, "5.4");
    assert!(message.contains("worker 2") && message.contains(") none"), "{message}");
}

/// Attacks on who wrote each line: the parent writes its children's lines
/// where the filter that shows the witness each write does not look. Each
/// loses the process check: a line no seen write made has no writer.
#[test]
fn attack_on_authorship_by_writing_around_fd_1_fails() {
    let attacks = [
        ("q6_forged_through_dup", Question::Q6, "6.3"),
        ("q6_forged_through_proc", Question::Q6, "6.3"),
        ("q6_forged_by_splice", Question::Q6, "6.3"),
        // A child's write to an `O_PATH` handle on the very pipe fails:
        // it wrote nothing, whatever it asked.
        ("q6_forged_o_path", Question::Q6, "6.3"),
        ("q3_forged_o_path", Question::Q3, "3.3"),
        ("q5_forged_o_path", Question::Q5, "5.4"),
        // A child's line written to a pipe its parent does not read, then
        // printed by the parent, is the parent's.
        ("q6_forged_dead_pipe", Question::Q6, "6.3"),
        ("q6_forged_unread_pipe", Question::Q6, "6.3"),
    ];
    for (name, question, point) in attacks {
        let scored = grade(name, question, false);
        let card: String =
            scored.checks.iter().map(|c| format!("\n  {} {}", c.check.id, c.message)).collect();
        let process = scored.checks.iter().find(|c| c.check.id == point).unwrap();
        let run = &scored.checks[0];
        // Refused outright (the file rules), or graded and caught.
        assert!(
            !run.passed()
                || process.message.contains("where the witness cannot see which process wrote it")
                || process.message.contains("was written by pid"),
            "{name}:{card}"
        );
        assert!(!process.passed() || !run.passed(), "{name}:{card}");
        let (share, of) = grader::rubric::MISSED_POINT_SHARE;
        assert!(
            scored.score() <= scored.max() * share / of,
            "{name}: {}/{}:{card}",
            scored.score(),
            scored.max()
        );
        eprintln!("{name}:{card}");
    }
}

/// Every wrong submission among the fixtures (the racy ones above all:
/// `q6_no_wait_racy`, `q6_last_line_racy`, `q6_waits_for_three`,
/// `q6_sleep_not_wait`, `q6_spawn_no_wait`, `q3_no_wait_racy`), graded 50
/// times each: one score, and the same messages (pids aside), every time.
/// Slow (the hanging and deadlocking ones wait out their time limits); run
/// it with the CPU loaded (for example two `yes > /dev/null` beside it):
/// `cargo test -p grader --test submissions -- --ignored one_scorecard`.
/// `ROUNDS=10` runs fewer rounds; `ONLY=q6_` only the fixtures so named.
#[test]
#[ignore = "50 gradings of each wrong submission: run by hand, with the CPU loaded"]
fn wrong_submissions_get_one_scorecard_50_times() {
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(50);
    let only = std::env::var("ONLY").unwrap_or_default();
    let reference = workspace();
    let mut failures = Vec::new();
    for (name, questions) in wrong_fixtures().into_iter().filter(|(name, _)| name.starts_with(&only)) {
        let fixture = fixture_dir(&name);
        let (scratch, mut ctx) = common::scratch_context(&[&reference, &fixture]);
        ctx.settings.limits.timeout_ms = 2_000;
        for question in questions {
            let mut cards: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
            for _ in 0..rounds {
                let scored = score_question(checks::grade(&ctx, question));
                let card: String = scored
                    .checks
                    .iter()
                    .map(|c| format!("\n  {} {}/{} {}", c.check.id, c.score, c.check.points, c.message))
                    .collect();
                let card = format!("{}/{}{}", scored.score(), scored.max(), without_numbers(&card));
                *cards.entry(card).or_default() += 1;
            }
            match cards.len() {
                1 => eprintln!(
                    "{name} {question:?}: {}",
                    cards.keys().next().expect("one").lines().next().unwrap_or("")
                ),
                n => {
                    let seen: Vec<String> = cards.iter().map(|(card, k)| format!("{k} ×: {card}")).collect();
                    failures
                        .push(format!("{name} {question:?}: {n} different scorecards:\n{}", seen.join("\n")));
                }
            }
        }
        assert_nothing_left_running(Some(scratch.path()));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The wrong submissions among the fixtures, and the questions each is
/// about (its name's prefix says).
fn wrong_fixtures() -> Vec<(String, Vec<Question>)> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir(""))
        .expect("the fixtures")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n != "attacker" && !n.ends_with("_right"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let questions = match name.split('_').next() {
                Some("answers") => vec![Question::Q1, Question::Q2, Question::Q4],
                Some(q) => vec![Question::parse(q).unwrap_or_else(|| panic!("fixture {name}: no question"))],
                None => unreachable!(),
            };
            (name, questions)
        })
        .collect()
}

/// `text` with every number of three digits or more (a pid) as `N`; the
/// small numbers (points, the number a process prints) must not vary.
fn without_numbers(text: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        out.push_str(if digits.len() >= 3 { "N" } else { &digits });
        digits.clear();
        out.push(c);
    }
    out.pop();
    out
}

#[test]
fn a_written_answers_first_hint_is_about_a_concept_it_misses() {
    let top = tempfile::Builder::new().prefix("grader-hint-").tempdir().unwrap();
    let answers = top.path().join("answers");
    std::fs::create_dir_all(&answers).unwrap();
    // Q4 with what a pool is, and nothing of how the work flows or why.
    std::fs::write(
        answers.join("q4.md"),
        "A pool is a fixed set of worker processes that the program starts once and then reuses for all of its work.\n",
    )
    .unwrap();
    let (_scratch, ctx) = common::scratch_context(&[top.path()]);
    let scored = score_question(checks::grade(&ctx, Question::Q4));
    assert!(scored.score() < scored.max());
    let hints = grader::student::hints::sequence(Question::Q4, Some(&scored));
    assert!(hints[0].contains("Follow one number through your Q5"), "{hints:?}");
    // Not the scorecard's own sentence again.
    let said: String = scored.checks.iter().map(|c| c.message.clone()).collect();
    assert!(!said.contains(&hints[0]));
}
