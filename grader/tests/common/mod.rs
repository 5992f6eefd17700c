//! Shared by the test files: each rubric check is a `#[test]` that fails
//! with the check's message exactly when it loses points; and the helpers
//! the tests of submissions share (copying a fork, nothing left running).

use std::path::Path;

use grader::rubric::Question;

/// The grader's own executable, which supervises every run.
pub const GRADER: &str = env!("CARGO_BIN_EXE_grader");

pub fn check(id: &str) {
    grader::testing::assert_check(GRADER, id);
}

/// Runs the grading check, which compares the question's normalized output
/// with the compiled-in snapshot whatever insta is told (a forced pass in
/// insta's settings changes nothing); and, in the instructor's workspace
/// only, compares it with its insta snapshot too, so that a change of the
/// reference can be reviewed with `cargo insta review`. In a student's
/// repository insta is not asked: it would leave `.snap.new` files behind.
#[allow(dead_code)] // not every test file has a snapshot
pub fn snapshot(question: Question, name: &str, id: &str) {
    let instructors = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").is_dir();
    if !instructors {
        return check(id);
    }
    let normalized = grader::testing::normalized(GRADER, question);
    let insta = std::panic::catch_unwind(|| {
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(name, normalized);
        });
    });
    check(id);
    if let Err(panic) = insta {
        std::panic::resume_unwind(panic);
    }
}

/// Copies `from`'s graded directories (`exercises/`, `answers/`; no build
/// output) into `to`, as a student's fork holds them.
#[allow(dead_code)] // not every test file copies submissions
pub fn copy_submission(from: &Path, to: &Path) {
    for sub in ["exercises", "answers"] {
        copy_tree(&from.join(sub), &to.join(sub));
    }
}

/// Copies a directory tree, leaving out `target/`.
#[allow(dead_code)]
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "target" {
                copy_tree(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// No program of a grading that has ended is alive: none runs from the
/// scratch workspace, and none from a binary the grader has deleted since
/// (a copy a root grader made for a run's own user, or a removed scratch
/// workspace's build), which only a program that outlived its supervisor
/// could.
#[allow(dead_code)]
pub fn assert_nothing_left_running(scratch: Option<&Path>) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        // A root grader runs each program as a user of its own, numbered
        // after its supervisor: one whose supervisor is gone was left behind.
        use std::os::unix::fs::MetadataExt;
        let first = grader::supervisor::sandbox::run_user(0);
        if let Ok(meta) = entry.metadata()
            && meta.uid() >= first
        {
            let supervisor = meta.uid() - first;
            let alive = std::path::Path::new(&format!("/proc/{supervisor}")).exists();
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            assert!(
                alive,
                "process {:?} of a run's own user outlived its supervisor {supervisor}: {stat}",
                entry.file_name()
            );
        }
        let Ok(exe) = std::fs::read_link(entry.path().join("exe")) else { continue };
        let shown = exe.to_string_lossy();
        let orphaned = shown.ends_with(" (deleted)")
            && (shown.contains("/grader-bin-") || shown.contains("grader-scratch/submission-"));
        assert!(
            !orphaned && !scratch.is_some_and(|s| exe.starts_with(s)),
            "process {:?} ({shown}) outlived its grading",
            entry.file_name()
        );
    }
}
