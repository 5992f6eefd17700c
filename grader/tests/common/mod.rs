//! Shared by the test files: each rubric check is a `#[test]` that fails
//! with the check's message exactly when it loses points; and the helpers
//! the tests of submissions share (copying a fork, nothing left running).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use grader::rubric::Question;

/// The grader's own executable, which supervises every run.
pub const GRADER: &str = env!("CARGO_BIN_EXE_grader");

pub fn check(id: &str) {
    grader::student::testing::assert_check(GRADER, id);
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
    let normalized = grader::student::testing::normalized(GRADER, question);
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

/// tmux on a socket of the test's own, killed when dropped: a terminal of
/// 80 columns that a test types into (`send-keys`) and reads
/// (`capture-pane`), as a student sees it.
#[allow(dead_code)] // only the tests of `watch` drive a terminal
pub struct Tmux {
    socket: String,
}

#[allow(dead_code)]
impl Tmux {
    /// tmux, or `None` (and a line saying the test is skipped) where it is
    /// not installed: a test that needs a tool the machine lacks is
    /// skipped, never failed.
    pub fn new(test: &str) -> Option<Tmux> {
        let version = Command::new("tmux").arg("-V").output();
        if !version.is_ok_and(|o| o.status.success()) {
            // Written past the test harness's capture, so that it shows.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped {test}: it needs tmux (apt install tmux) to drive `grader watch` in a terminal"
            );
            return None;
        }
        Some(Tmux { socket: format!("grader-test-{}-{test}", std::process::id()) })
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().unwrap();
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-t", "watch", "-p"])
    }

    /// Waits until the screen shows `text`; returns how long it took.
    pub fn wait_for(&self, text: &str, limit: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return start.elapsed();
            }
            assert!(start.elapsed() < limit, "{text:?} not on the screen after {limit:?}:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts `grader watch` in `workspace`, building into `target`, in a
    /// window named `watch`; when it ends, the window says how.
    pub fn watch(&self, workspace: &Path, target: &Path) {
        let command = format!(
            "cd '{}' && CARGO_TARGET_DIR='{}' '{}' watch; echo \"watch exited with $?\"; sleep 600",
            workspace.display(),
            target.display(),
            GRADER
        );
        self.run(&["new-session", "-d", "-s", "watch", "-x", "80", "-y", "30", &command]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).output();
    }
}

/// A copy of this workspace (its manifests, exercises, answers and the
/// grader's sources) in `top`, and a target directory seeded with the
/// dependencies the checkout's own gradings built, if there are any.
#[allow(dead_code)]
pub fn workspace_copy(top: &Path) -> (PathBuf, PathBuf) {
    let home = grader::engine::workspace::home();
    let ws = top.join("workspace");
    for dir in ["exercises", "answers", "grader/src", "grader/benches"] {
        copy_tree(&home.join(dir), &ws.join(dir));
    }
    for file in ["Cargo.toml", "Cargo.lock", "grader/Cargo.toml"] {
        std::fs::copy(home.join(file), ws.join(file)).unwrap();
    }
    let target = top.join("target");
    let deps = grader::engine::workspace::target_dir(&home).join("grader-deps");
    std::fs::create_dir_all(&target).unwrap();
    if deps.is_dir() {
        // Hard links, as every grading seeds its builds.
        let linked = Command::new("cp").arg("-al").arg(&deps).arg(target.join("grader-deps")).status();
        assert!(linked.is_ok_and(|s| s.success()));
    }
    (ws, target)
}

/// The grader as a command, stopped after `seconds`.
#[allow(dead_code)] // not every test file runs the command line
pub fn grader(seconds: u64) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(GRADER);
    cmd.timeout(Duration::from_secs(seconds));
    cmd
}

/// The settings a test grades with: the rubric's, every question, the seed
/// of `GRADER_SEED` where it is set (to replay a run).
#[allow(dead_code)]
pub fn settings() -> grader::engine::context::Settings {
    grader::engine::context::Settings::from_env(&grader::engine::workspace::home(), GRADER.as_ref())
        .expect("GRADER_SEED, where it is set, is a number")
}

/// A scratch workspace of `sources` (the reference, then a fixture or a
/// fork laid over it), and a context that grades it as a submission is
/// graded. The scratch goes when it is dropped.
#[allow(dead_code)]
pub fn scratch_context(
    sources: &[&Path],
) -> (grader::engine::scratch::Scratch, grader::engine::context::Context) {
    let runner = grader::engine::run::Runner::new(PathBuf::from(GRADER));
    let home = grader::engine::workspace::home();
    let scratch =
        grader::engine::scratch::Scratch::create(&home, sources, &runner).expect("a scratch workspace");
    let ctx = grader::engine::context::Context::for_scratch(&scratch, &settings());
    (scratch, ctx)
}

/// Commits `dir`'s whole tree, dated `date`; returns the commit.
#[allow(dead_code)]
pub fn commit_all(dir: &Path, date: &str, message: &str) -> String {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=Student", "-c", "user.email=student@localhost"])
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    if !dir.join(".git").exists() {
        run(&["init", "-q", "-b", "main"]);
    }
    run(&["add", "-A"]);
    run(&["commit", "-q", "--allow-empty", "-m", message]);
    let head =
        std::process::Command::new("git").args(["rev-parse", "HEAD"]).current_dir(dir).output().unwrap();
    String::from_utf8_lossy(&head.stdout).trim().to_string()
}

/// The gradebook's rows as maps from column to cell.
#[allow(dead_code)]
pub fn gradebook_rows(out: &Path) -> Vec<std::collections::HashMap<String, String>> {
    csv_rows(&std::fs::read_to_string(out.join("gradebook.csv")).unwrap())
}

/// A CSV's rows (one per line; fields may be quoted, with `""` for a quote)
/// as maps from its header's columns to cells.
#[allow(dead_code)]
pub fn csv_rows(csv: &str) -> Vec<std::collections::HashMap<String, String>> {
    let fields = |line: &str| {
        let (mut fields, mut field, mut quoted, mut chars) =
            (Vec::new(), String::new(), false, line.chars().peekable());
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(std::mem::take(&mut field)),
                (c, _) => field.push(c),
            }
        }
        fields.push(field);
        fields
    };
    let mut lines = csv.lines();
    let header = fields(lines.next().unwrap());
    lines.map(|line| header.iter().cloned().zip(fields(line)).collect()).collect()
}
