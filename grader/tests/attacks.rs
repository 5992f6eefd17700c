//! The grader attacked: a hostile submission tries, one test per attack, to
//! read or write outside its run, reach the network, signal the grader, run
//! someone else's binary, escape the witness, exhaust the machine, run code
//! at build time, or hand the grader links and devices instead of files.
//! Each test checks that the attack failed, that the grade is what the
//! submission earned, that nothing else was touched, and that the scorecard
//! says what was tried where the sandbox saw it.
//!
//! Each test has an arena of its own (a temporary directory with canaries: a
//! secret in a fake home, an honest classmate's fork, an earlier gradebook;
//! a victim process; a listening socket). The attacker
//! (`fixtures/attacker`) gets the arena's paths compiled in, and reports
//! what each attempt did on one line of stdout, which the grader quotes.
//!
//! Where this kernel lacks a protection, its test checks instead that the
//! scorecard says it was not in force: never a silent pass.
//! (This file and the fixtures stay out of the student release.)

mod common;

use common::{assert_nothing_left_running, copy_submission};

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use grader::checks;
use grader::engine::compile::{Build, build};
use grader::engine::run::{Layers, RunSpec, Runner};
use grader::engine::workspace::home;
use grader::grading::score::{QuestionScore, Scorecard, score_question};
use grader::grading::submission::grade_submission;
use grader::report;
use grader::rubric::Question;
use grader::supervisor::protocol::{Guard, Level};

fn runner() -> Runner {
    Runner::new(PathBuf::from(common::GRADER))
}

/// The reference's Q6, built once: a binary the attacker may not run.
fn reference_binary() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let workspace = home();
        build(&runner(), &Build::new(&workspace, &workspace, "q6_four_procs"))
            .expect("the reference builds")
            .binary
    })
}

/// A test's own world: canaries to steal or spoil, a victim, a port.
struct Arena {
    dir: tempfile::TempDir,
    token: String,
    victim: Child,
    listener: std::net::TcpListener,
    /// Just before the canaries were written.
    created: std::time::SystemTime,
}

impl Arena {
    fn new() -> Arena {
        let dir = tempfile::Builder::new().prefix("grader-attacks-").tempdir().unwrap();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let token = format!("canary-{}-{nanos:x}", std::process::id());
        let root = dir.path();
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("home/.ssh/id_rsa", &format!("PRIVATE KEY {token}\n"));
        let secret = root.join("home/.ssh/id_rsa");
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let created = std::fs::metadata(&secret).unwrap().modified().unwrap() - Duration::from_secs(1);
        write("home/.bashrc", "original\n");
        write("marks/earlier/results.json", "earlier\n");
        copy_submission(&home(), &root.join("forks/bob"));
        let q1 = root.join("forks/bob/answers/q1.md");
        let answer = std::fs::read_to_string(&q1).unwrap();
        std::fs::write(&q1, format!("{answer}\nBob's own words {token}.\n")).unwrap();
        let victim = Command::new("sleep").arg("300").spawn().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Arena { dir, token, victim, listener, created }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A fork whose Q6 is the attacker, making `attack`.
    fn fork(&self, name: &str, attack: &str) -> PathBuf {
        let fork = self.path().join("forks").join(name);
        copy_submission(&home(), &fork);
        let source =
            std::fs::read_to_string(fixture("attacker/exercises/q6_four_procs/src/main.rs")).unwrap();
        let port = self.listener.local_addr().unwrap().port().to_string();
        let source = source
            .replace("@ATTACK@", attack)
            .replace("@ARENA@", &self.path().to_string_lossy())
            .replace("@TEMPLATE@", &home().to_string_lossy())
            .replace("@REFERENCE@", &reference_binary().to_string_lossy())
            .replace("@GRADER@", common::GRADER)
            .replace("@VICTIM@", &self.victim.id().to_string())
            .replace("@PORT@", &port);
        std::fs::write(fork.join("exercises/q6_four_procs/src/main.rs"), source).unwrap();
        fork
    }

    /// Fails if the secret shows anywhere in what the grader reports.
    fn assert_no_secret(&self, card: &Scorecard) {
        let shown = [report::terminal(card, false), report::markdown(card), report::json(card).to_string()];
        for text in shown {
            assert!(!text.contains(&self.token), "the secret reached a report:\n{text}");
        }
    }

    /// Grades `fork` with the command line, the secret in the grader's
    /// environment (`GRADER_TEST_SECRET`); returns its results.json and the
    /// run.
    fn grade_with_secret(&self, fork: &Path) -> (String, std::process::Output) {
        let json = self.path().join("results.json");
        let run = Command::new(common::GRADER)
            .args(["grade", "--submission"])
            .arg(fork)
            .arg("--json")
            .arg(&json)
            .env("GRADER_TEST_SECRET", &self.token)
            .output()
            .unwrap();
        (std::fs::read_to_string(&json).unwrap(), run)
    }

    /// Fails if a connection reached the test's server.
    fn assert_nothing_connected(&self) {
        match self.listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("a connection reached the test's server: {other:?}"),
        }
    }

    /// Fails if a canary was spoiled.
    fn assert_canaries_intact(&self) {
        let read = |p: &str| std::fs::read_to_string(self.path().join(p)).unwrap_or_default();
        assert_eq!(read("home/.bashrc"), "original\n", "~/.bashrc was written");
        assert_eq!(read("marks/earlier/results.json"), "earlier\n", "an earlier result was touched");
        assert!(!self.path().join("marks/gradebook.csv").exists(), "the gradebook was written by a program");
        assert!(!self.path().join("escaped").exists(), "an untraced process ran");
        let secret = std::fs::metadata(self.path().join("home/.ssh/id_rsa")).unwrap();
        assert_eq!(secret.permissions().mode() & 0o777, 0o600, "the secret's mode was changed");
        assert!(secret.modified().unwrap() > self.created, "the secret's time was changed");
        assert!(!home().join("target/planted-by-attacker").exists(), "the template's target/ was written");
    }
}

/// Where the attacker plants a cargo configuration: above its own
/// directory, the system's temporary directory.
fn planted_config() -> PathBuf {
    std::env::temp_dir().join(".cargo/config.toml")
}

impl Drop for Arena {
    fn drop(&mut self) {
        let _ = self.victim.kill();
        let _ = self.victim.wait();
        // Should an attack have succeeded (the test then fails), undo what
        // it did outside the arena.
        if std::fs::read_to_string(planted_config()).is_ok_and(|t| t.contains("attacker fixture")) {
            let _ = std::fs::remove_file(planted_config());
            let _ = std::fs::remove_dir(planted_config().parent().unwrap());
        }
        let _ = std::fs::remove_file(home().join("target/planted-by-attacker"));
    }
}

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path)
}

/// Grades Q6 of `fork` as a submission is graded, and returns it, as a
/// scorecard of its own, for the reports.
fn grade_q6(fork: &Path) -> Scorecard {
    let (scratch, ctx) = common::scratch_context(&[fork]);
    let q6 = score_question(checks::grade(&ctx, Question::Q6));
    assert_nothing_left_running(Some(scratch.path()));
    Scorecard {
        questions: vec![q6],
        elapsed: Duration::ZERO,
        seed: ctx.settings.seed,
        changed_protected_paths: Vec::new(),
        skipped_files: scratch.skipped.clone(),
        sandbox: ctx.sandbox(),
    }
}

fn q6(card: &Scorecard) -> &QuestionScore {
    card.questions.iter().find(|q| q.question == Question::Q6).expect("Q6 was graded")
}

fn message<'a>(card: &'a Scorecard, id: &str) -> &'a str {
    &q6(card).checks.iter().find(|c| c.check.id == id).expect("a rubric check").message
}

/// What the attacker said of `attempt`: "blocked(...)" or "SUCCEEDED(...)".
fn attempt<'a>(card: &'a Scorecard, name: &str) -> &'a str {
    let line = message(card, "6.2");
    let start = line.find(&format!("{name}=")).unwrap_or_else(|| panic!("no attempt {name} in: {line}"));
    let rest = &line[start + name.len() + 1..];
    let end = [rest.find("; "), rest.find('"')].into_iter().flatten().min().unwrap_or(rest.len());
    &rest[..end]
}

/// The attempt was blocked where `guard` was fully in force; elsewhere the
/// scorecard must say that it was not.
fn assert_blocked(card: &Scorecard, guard: Guard, name: &str) {
    let got = attempt(card, name);
    let level = card.sandbox.as_ref().and_then(|s| s.get(guard)).map(|p| p.level);
    if level == Some(Level::Full) {
        assert!(got.starts_with("blocked("), "{name}: {got}\n{}", report::terminal(card, false));
    } else {
        let warning = report::sandbox_warning(card).expect("a missing protection is said");
        assert!(warning.contains(guard.title()), "{warning}");
        eprintln!("note: {guard:?} is not fully in force on this kernel; {name}: {got}");
    }
}

/// Where `guard` was fully in force, the run was stopped for trying a
/// forbidden call, named in 6.1; elsewhere the scorecard says so.
fn assert_stopped_for(card: &Scorecard, guard: Guard, call: &str) {
    let level = card.sandbox.as_ref().and_then(|s| s.get(guard)).map(|p| p.level);
    if level == Some(Level::Full) {
        let said = message(card, "6.1");
        assert!(
            said.contains(&format!("tried {call}("))
                && said.contains("which the sandbox forbids, and was stopped"),
            "6.1 should name {call}: {said}"
        );
        assert!(!message(card, "6.2").contains("SURVIVED"), "{}", message(card, "6.2"));
    } else {
        let warning = report::sandbox_warning(card).expect("a missing protection is said");
        assert!(warning.contains(guard.title()), "{warning}");
    }
}

/// The directory the attacker ran in, as it reported it.
fn run_dir(card: &Scorecard) -> PathBuf {
    let line = message(card, "6.2");
    let start = line.find("cwd=").expect("the attacker says where it ran") + 4;
    PathBuf::from(&line[start..start + line[start..].find(';').expect("cwd=...;")])
}

#[test]
fn attack_on_files_outside_the_run_fails_and_the_rest_is_graded_right() {
    let arena = Arena::new();
    let fork = arena.fork("mallory", "files");
    let card = grade_submission(&common::settings(), &fork, |_| {}).unwrap();
    for name in [
        "read_home_secret",
        "read_template_solution",
        "read_other_submission",
        "read_passwd",
        "list_root",
        "write_home",
        "delete_results",
        "write_gradebook",
        "replace_grader",
        "chmod_secret",
        "touch_secret",
        "plant_cargo_config",
        "plant_in_template_target",
    ] {
        assert_blocked(&card, Guard::Files, name);
    }
    arena.assert_no_secret(&card);
    arena.assert_canaries_intact();
    let planted = std::fs::read_to_string(planted_config()).unwrap_or_default();
    assert!(!planted.contains("attacker fixture"), "{} was planted", planted_config().display());
    assert!(!run_dir(&card).exists(), "the run's directory outlived the run");
    // Q1 to Q5 are the reference's: full marks; Q6 is the attacker's line.
    for q in &card.questions[..5] {
        assert_eq!(q.score(), q.max(), "{:?}", q.question);
    }
    assert!(message(&card, "6.1").starts_with("ran and exited with status 0"));
    assert!(message(&card, "6.2").contains("unexpected line \"ATTACKS"), "{}", message(&card, "6.2"));
}

#[test]
fn attack_by_running_another_binary_fails() {
    let arena = Arena::new();
    let card = grade_q6(&arena.fork("mallory", "exec"));
    for name in ["exec_reference", "exec_through_loader", "exec_shell"] {
        assert_blocked(&card, Guard::Files, name);
    }
}

/// The token a batch fetches the class's repositories with (`collect.yml`
/// keeps it out of the grading step; here it is left in the grader's
/// environment, as a careless setup would): the program finds it in neither
/// its build's environment nor its own, nor in any process's environment or
/// command line.
#[test]
fn attack_on_the_fetchs_token_finds_it_nowhere() {
    let arena = Arena::new();
    let fork = arena.fork("mallory", "token");
    let (text, run) = arena.grade_with_secret(&fork);
    for attempt in ["build_env=blocked(not set)", "run_env=blocked(", "proc=blocked("] {
        assert!(text.contains(attempt), "{attempt}: {text}\n{}", String::from_utf8_lossy(&run.stderr));
    }
    assert!(!text.contains(&arena.token), "the token reached the program: {text}");
}

#[test]
fn attack_on_the_graders_environment_finds_nothing() {
    let arena = Arena::new();
    let fork = arena.fork("mallory", "env");
    let (text, run) = arena.grade_with_secret(&fork);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("env=SUCCEEDED(") && text.contains("PATH=/usr/bin:/bin"),
        "the channel works: {text}"
    );
    for shown in [&text, &stdout.to_string()] {
        assert!(!shown.contains(&arena.token), "the grader's environment reached the report: {shown}");
        assert!(!shown.contains("GRADER_TEST_SECRET"), "{shown}");
    }
    let results: serde_json::Value = serde_json::from_str(&text).unwrap();
    if results["extra_data"]["sandbox"]["complete"] == true {
        assert!(text.contains("grader_environ=blocked("), "{text}");
    }
}

#[test]
fn attack_by_signals_reaches_neither_the_grader_nor_other_runs() {
    let arena = Arena::new();
    let card = grade_q6(&arena.fork("mallory", "signals"));
    for name in ["probe_victim", "stop_victim", "kill_victim"] {
        assert_blocked(&card, Guard::Signals, name);
    }
    // The victim, standing for the grader and other runs, is untouched.
    let stat =
        std::fs::read_to_string(format!("/proc/{}/stat", arena.victim.id())).expect("the victim lives");
    let state = stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next().unwrap()).unwrap();
    assert_ne!(state, 'T', "the victim was stopped");
    // Its own supervisor is on the filter's list: the run is stopped, named.
    assert_stopped_for(&card, Guard::Syscalls, "kill");
}

#[test]
fn attack_by_escaping_the_witness_or_the_sandbox_is_stopped_and_named() {
    let arena = Arena::new();
    for (attack, call) in [
        ("clone_untraced", "clone"),
        ("ptrace", "ptrace"),
        ("unshare", "unshare"),
        // The C library's setrlimit is the prlimit64 system call.
        ("raise_limit", "prlimit64"),
        ("kill_everyone", "kill"),
        ("tiocsti", "ioctl"),
        ("setown", "fcntl"),
        ("pidfd_signal", "pidfd_send_signal"),
        ("memfd", "memfd_create"),
        ("shm", "shmget"),
        ("inotify", "inotify_init1"),
    ] {
        let card = grade_q6(&arena.fork(attack, attack));
        assert_stopped_for(&card, Guard::Syscalls, call);
        assert!(q6(&card).score() < q6(&card).max());
    }
    std::thread::sleep(Duration::from_millis(300));
    arena.assert_canaries_intact();
}

#[test]
fn attack_by_a_child_left_behind_after_the_program_exits_is_stopped_too() {
    // The second leftovers are let run on after the program exits is
    // watched as the run was: the sandbox, the witness and the limits hold.
    let arena = Arena::new();
    let card = grade_q6(&arena.fork("orphan", "orphan_network"));
    assert_stopped_for(&card, Guard::Network, "socket");
    assert!(!message(&card, "6.2").contains("ORPHAN connected"), "{}", message(&card, "6.2"));
    arena.assert_nothing_connected();
    let card = grade_q6(&arena.fork("orphan_bomb", "orphan_bomb"));
    let said = message(&card, "6.1");
    assert!(said.contains("created more than 64 processes"), "{said}");
    arena.assert_canaries_intact();
}

#[test]
fn attack_on_the_network_is_stopped_and_nothing_arrives() {
    let arena = Arena::new();
    let card = grade_q6(&arena.fork("mallory", "network"));
    assert_stopped_for(&card, Guard::Network, "socket");
    arena.assert_nothing_connected();
    // A datagram from a socket pair, addressed to a socket of the machine's.
    let socket = std::os::unix::net::UnixDatagram::bind(arena.path().join("dgram.sock")).unwrap();
    socket.set_nonblocking(true).unwrap();
    let card = grade_q6(&arena.fork("datagram", "datagram"));
    assert_stopped_for(&card, Guard::Network, "sendto");
    let mut buf = [0u8; 64];
    assert!(socket.recv(&mut buf).is_err(), "a datagram arrived: {:?}", String::from_utf8_lossy(&buf));
}

#[test]
fn a_process_or_thread_named_in_bytes_that_are_not_utf8_is_still_seen() {
    let arena = Arena::new();
    let card = grade_q6(&arena.fork("threads", "renamed_threads"));
    let said = message(&card, "6.3");
    if card.sandbox.is_some() && q6(&card).notes.iter().any(|n| n.contains("seen with ptrace")) {
        assert!(said.contains("the program created 0 processes and 4 threads"), "{said}");
    }
    let card = grade_q6(&arena.fork("memory", "renamed_memory"));
    let said = message(&card, "6.1");
    assert!(said.contains("used more than 512 MiB of memory"), "{said}");
}

#[test]
fn a_thread_bomb_is_stopped() {
    let arena = Arena::new();
    let card = grade_q6(&arena.fork("bomb", "thread_bomb"));
    let said = message(&card, "6.1");
    assert!(said.contains("created more than 64 processes (or 1024 threads)"), "{said}");
}

#[test]
fn attack_by_memory_is_stopped_in_the_students_terms() {
    let arena = Arena::new();
    for attack in ["memory", "memory_tree"] {
        let card = grade_q6(&arena.fork(attack, attack));
        let said = message(&card, "6.1");
        assert!(said.contains("used more than 512 MiB of memory"), "{attack}: {said}");
    }
}

#[test]
fn attack_by_disk_is_stopped_and_nothing_stays() {
    let arena = Arena::new();
    let card = grade_q6(&arena.fork("big", "big_file"));
    let said = message(&card, "6.1");
    assert!(said.contains("SIGXFSZ (it wrote a file larger than the limit)"), "{said}");
    assert!(!run_dir(&card).exists(), "the big file stayed");
    for attack in ["many_files", "unlinked_files", "fallocate", "deep_dirs"] {
        let card = grade_q6(&arena.fork(attack, attack));
        let said = message(&card, "6.1");
        assert!(said.contains("wrote more than 64 MiB of files and was stopped"), "{attack}: {said}");
        assert!(!run_dir(&card).exists(), "{attack}: the files stayed");
    }
}

#[test]
fn a_program_inherits_no_file_of_the_graders() {
    let arena = Arena::new();
    let card = grade_q6(&arena.fork("mallory", "fds"));
    assert_eq!(attempt(&card, "inherited_fds"), "blocked(none)");
}

#[test]
fn terminal_escapes_in_output_are_shown_escaped() {
    let arena = Arena::new();
    let card = grade_q6(&arena.fork("mallory", "escapes"));
    let text = report::terminal(&card, false);
    assert!(!text.contains('\x1b') && !text.contains('\u{202e}') && !text.contains('\x07'), "{text}");
    assert!(text.contains("\\u{1b}]0;pwned\\u{7}"), "{text}");
    let markdown = report::markdown(&card);
    assert!(!markdown.contains('\x1b') && !markdown.contains('\u{202e}'), "{markdown}");
}

#[test]
fn build_scripts_proc_macros_and_path_dependencies_never_run() {
    let arena = Arena::new();
    let fork = arena.path().join("forks/mallory");
    copy_submission(&home(), &fork);
    let canary = |name: &str| arena.path().join(name).to_string_lossy().into_owned();
    let write = |path: PathBuf, text: String| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let pwn = |name: &str| format!("fn main() {{ std::fs::write({:?}, \"ran\").unwrap(); }}\n", canary(name));
    let q6 = fork.join("exercises/q6_four_procs");
    // A build script, and another named in the manifest.
    write(q6.join("build.rs"), pwn("pwned-build-rs"));
    write(q6.join("tools/gen.rs"), pwn("pwned-gen"));
    // A proc-macro package of its own, and a path dependency outside the
    // submission with a build script, both made dependencies of Q6.
    let macro_lib = "#[proc_macro]\npub fn pwn(_: proc_macro::TokenStream) -> proc_macro::TokenStream {\n";
    write(
        fork.join("exercises/evil_macro/Cargo.toml"),
        "[package]\nname = \"evil_macro\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[lib]\nproc-macro = true\n".into(),
    );
    write(
        fork.join("exercises/evil_macro/src/lib.rs"),
        format!(
            "{macro_lib}    std::fs::write({:?}, \"ran\").unwrap();\n    Default::default()\n}}\n",
            canary("pwned-macro")
        ),
    );
    let outside = arena.path().join("outside");
    write(
        outside.join("Cargo.toml"),
        "[package]\nname = \"outside\"\nversion = \"0.1.0\"\nedition = \"2024\"\nbuild = \"build.rs\"\n"
            .into(),
    );
    write(outside.join("build.rs"), pwn("pwned-outside"));
    write(outside.join("src/lib.rs"), String::new());
    let manifest = std::fs::read_to_string(home().join("exercises/q6_four_procs/Cargo.toml")).unwrap();
    let manifest = manifest
        .replacen("publish.workspace = true", "publish.workspace = true\nbuild = \"tools/gen.rs\"", 1)
        .replacen(
            "[dependencies]",
            &format!("[dependencies]\nevil_macro = {{ path = \"../evil_macro\" }}\noutside = {{ path = {outside:?} }}"),
            1,
        );
    write(q6.join("Cargo.toml"), manifest);

    let card = grade_submission(&common::settings(), &fork, |_| {}).unwrap();
    for name in ["pwned-build-rs", "pwned-gen", "pwned-macro", "pwned-outside"] {
        assert!(!arena.path().join(name).exists(), "{name}: code of the submission ran at build time");
    }
    // The program itself is the reference's: full marks, built with the
    // template's manifest; what was changed is listed.
    assert_eq!(card.score(), card.max(), "{}", report::terminal(&card, false));
    for changed in
        ["exercises/q6_four_procs/Cargo.toml", "exercises/q6_four_procs/build.rs", "exercises/evil_macro"]
    {
        assert!(
            card.changed_protected_paths.iter().any(|p| p.starts_with(changed)),
            "{changed} not listed: {:?}",
            card.changed_protected_paths
        );
    }
}

#[test]
fn include_str_of_a_file_outside_the_submission_does_not_compile() {
    let arena = Arena::new();
    let fork = arena.path().join("forks/mallory");
    copy_submission(&home(), &fork);
    let secret = arena.path().join("home/.ssh/id_rsa");
    let solution = home().join("exercises/q6_four_procs/src/main.rs");
    std::fs::write(
        fork.join("exercises/q6_four_procs/src/main.rs"),
        format!(
            "const KEY: &str = include_str!({secret:?});\nconst REFERENCE: &str = include_str!({solution:?});\nfn main() {{ println!(\"{{KEY}}{{REFERENCE}}\"); }}\n"
        ),
    )
    .unwrap();
    let card = grade_q6(&fork);
    let said = message(&card, "6.1");
    if card.sandbox.as_ref().and_then(|s| s.get(Guard::Files)).is_some_and(|p| p.level == Level::Full) {
        assert!(said.contains("couldn't read") && said.contains("Permission denied"), "{said}");
    }
    arena.assert_no_secret(&card);
    assert!(!report::terminal(&card, false).contains("BEGIN SOLUTION"), "the reference reached the report");
}

#[test]
fn links_and_devices_in_place_of_a_submissions_files_are_refused() {
    let arena = Arena::new();
    let bob = arena.path().join("forks/bob");
    let options = common::settings();
    let refused = |fork: &Path, fragment: &str| {
        let started = Instant::now();
        let error = grade_submission(&options, fork, |_| {}).expect_err("refused");
        assert!(format!("{error:#}").contains(fragment), "{error:#}");
        assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    };
    // exercises/ and answers/ that are the template's or a classmate's.
    let linked = arena.path().join("forks/linked");
    std::fs::create_dir_all(&linked).unwrap();
    std::os::unix::fs::symlink(home().join("exercises"), linked.join("exercises")).unwrap();
    std::os::unix::fs::symlink(bob.join("answers"), linked.join("answers")).unwrap();
    refused(&linked, "exercises is a symbolic link");
    // A manifest that never ends, a workflow that waits on stdin.
    for (name, path, target) in [("zero", "Cargo.toml", "/dev/zero"), ("stdin", ".github", "/dev/stdin")] {
        let fork = arena.path().join("forks").join(name);
        copy_submission(&home(), &fork);
        std::os::unix::fs::symlink(target, fork.join(path)).unwrap();
        refused(&fork, &format!("{path} is a symbolic link, not a regular file: refused"));
    }
    // A fifo among the protected files.
    let fifo = arena.path().join("forks/fifo");
    copy_submission(&home(), &fifo);
    nix::unistd::mkfifo(&fifo.join("Cargo.lock"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    refused(&fifo, "Cargo.lock is a named pipe, not a regular file: refused");
}

#[test]
fn links_and_pipes_inside_a_submission_are_never_followed() {
    let arena = Arena::new();
    let fork = arena.path().join("forks/mallory");
    copy_submission(&home(), &fork);
    let main = fork.join("exercises/q6_four_procs/src/main.rs");
    std::fs::remove_file(&main).unwrap();
    std::os::unix::fs::symlink(home().join("exercises/q6_four_procs/src/main.rs"), &main).unwrap();
    let q1 = fork.join("answers/q1.md");
    std::fs::remove_file(&q1).unwrap();
    nix::unistd::mkfifo(&q1, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let started = Instant::now();
    let card = grade_submission(&common::settings(), &fork, |_| {}).unwrap();
    assert!(started.elapsed() < Duration::from_secs(120));
    for skipped in [
        "exercises/q6_four_procs/src/main.rs (is a symbolic link, not a regular file)",
        "answers/q1.md (is a named pipe, not a regular file)",
    ] {
        assert!(card.skipped_files.iter().any(|s| s == skipped), "{skipped}: {:?}", card.skipped_files);
    }
    // Not the template's solution through the link: no program, no points.
    assert_eq!(q6(&card).score(), 0, "{}", report::terminal(&card, false));
    assert_eq!(card.questions[0].score(), 0, "Q1 is missing");
    assert!(
        report::terminal(&card, false).contains("were not used (links and special files are never followed)")
    );
}

#[test]
fn a_batch_grades_the_honest_student_right_whatever_a_classmate_does() {
    let arena = Arena::new();
    let alice = arena.fork("alice", "files");
    let bob = arena.path().join("forks/bob");
    let carol = arena.path().join("forks/carol");
    std::fs::create_dir_all(&carol).unwrap();
    std::os::unix::fs::symlink(bob.join("exercises"), carol.join("exercises")).unwrap();
    let marks = arena.path().join("marks");
    let mut child = Command::new(common::GRADER)
        .arg("batch")
        .args([&alice, &bob, &carol])
        .arg("--out")
        .arg(&marks)
        .args(["--jobs", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(300), "the batch hangs");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut errors = String::new();
    child.stderr.take().unwrap().read_to_string(&mut errors).unwrap();
    // Carol could not be graded: the batch says so with exit status 1.
    assert_eq!(child.wait().unwrap().code(), Some(1), "{errors}");
    let gradebook = std::fs::read_to_string(marks.join("gradebook.csv")).unwrap();
    let row =
        |name: &str| gradebook.lines().find(|l| l.starts_with(&format!("{name},"))).unwrap().to_string();
    assert!(row("bob").starts_with("bob,10,10,20,10,30,20,100,"), "{gradebook}");
    assert!(row("carol").contains("symbolic link"), "{gradebook}");
    assert!(!marks.join("carol/results.json").exists());
    let bob_results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(marks.join("bob/results.json")).unwrap()).unwrap();
    assert_eq!(bob_results["score"], 100);
    let alice_results = std::fs::read_to_string(marks.join("alice/results.json")).unwrap();
    assert!(
        alice_results.contains("delete_results=blocked(") || alice_results.contains("\"complete\": false")
    );
    assert!(!alice_results.contains(&arena.token), "a classmate's words reached alice's results");
    assert_eq!(std::fs::read_to_string(marks.join("earlier/results.json")).unwrap(), "earlier\n");
    // The gradebook is the grader's, written after every run.
    assert!(gradebook.starts_with("name,q1,"), "{gradebook}");
}

#[test]
fn without_landlock_or_seccomp_the_grader_still_grades_and_says_so() {
    let workspace = home();
    let (_scratch, mut ctx) = common::scratch_context(&[&workspace]);
    ctx.layers = Layers { landlock: false, seccomp: false };
    let q6 = score_question(checks::grade(&ctx, Question::Q6));
    assert_eq!(q6.score(), q6.max(), "the reference, without the kernel's layers");
    let status = ctx.sandbox().unwrap();
    for (guard, detail) in
        [(Guard::Files, "Landlock was turned off"), (Guard::Syscalls, "seccomp was turned off")]
    {
        let got = status.get(guard).unwrap();
        assert_eq!((got.level, got.detail.contains(detail)), (Level::Off, true), "{got:?}");
    }
    let card = Scorecard {
        questions: vec![q6],
        elapsed: Duration::ZERO,
        seed: 0,
        changed_protected_paths: Vec::new(),
        skipped_files: Vec::new(),
        sandbox: Some(status.clone()),
    };
    let warning = report::sandbox_warning(&card).unwrap();
    assert!(
        warning.contains(Guard::Files.title()) && warning.contains("Landlock was turned off"),
        "{warning}"
    );
    assert!(report::markdown(&card).contains("The sandbox was not fully in force"));
    assert_eq!(report::json(&card)["extra_data"]["sandbox"]["complete"], false);
    // And a run that requires the sandbox is refused, not made.
    let refused =
        runner().run(&RunSpec::new(reference_binary()).sandbox(Some(ctx.layers)).require_sandbox(true));
    assert!(format!("{:#}", refused.unwrap_err()).contains("--require-sandbox"));
}

#[test]
fn require_sandbox_grades_where_every_protection_is_in_force() {
    let status = runner().probe_sandbox().unwrap();
    let run = Command::new(common::GRADER).args(["grade", "--require-sandbox"]).output().unwrap();
    if status.complete() {
        assert!(run.status.code() != Some(2), "{}", String::from_utf8_lossy(&run.stderr));
    } else {
        assert_eq!(run.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&run.stderr).contains("--require-sandbox was given"));
    }
}

#[test]
fn a_submission_nested_thousands_deep_is_refused_not_a_crash() {
    let arena = Arena::new();
    let fork = arena.path().join("forks/deep");
    copy_submission(&home(), &fork);
    let mut dir = std::fs::File::open(fork.join("exercises/q6_four_procs/src")).unwrap();
    for _ in 0..2000 {
        nix::sys::stat::mkdirat(&dir, "d", nix::sys::stat::Mode::S_IRWXU).unwrap();
        dir = std::fs::File::from(
            nix::fcntl::openat(&dir, "d", nix::fcntl::OFlag::O_DIRECTORY, nix::sys::stat::Mode::empty())
                .unwrap(),
        );
    }
    let error = grade_submission(&common::settings(), &fork, |_| {}).unwrap_err();
    assert!(format!("{error:#}").contains("nests directories more than 16 deep"), "{error:#}");
    // The arena's own removal must not recurse 2000 deep either.
    grader::engine::workspace::remove_tree(&fork).unwrap();
}

#[test]
fn a_fork_bomb_meets_a_wall_even_untraced() {
    let workspace = home();
    let fixture = fixture("q6_fork_bomb");
    let (scratch, mut ctx) = common::scratch_context(&[&workspace, &fixture]);
    // As where ptrace is not allowed: no witness to count processes.
    ctx.settings.witness = false;
    // Every process on the machine (the bomb may run as a user of its own).
    let mine = || {
        let entries = std::fs::read_dir("/proc").unwrap().flatten();
        entries.filter(|e| e.file_name().to_str().is_some_and(|n| n.parse::<u32>().is_ok())).count()
    };
    let before = mine();
    // The most processes of ours seen while it runs.
    let done = std::sync::atomic::AtomicBool::new(false);
    let (q6, peak) = std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                peak = peak.max(mine());
            }
            peak
        });
        let q6 = score_question(checks::grade(&ctx, Question::Q6));
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (q6, sampler.join().unwrap())
    });
    let said = &q6.checks[0].message;
    assert!(said.contains("created more than 64 processes"), "{said}");
    assert_nothing_left_running(Some(scratch.path()));
    // Without a wall it reaches thousands in the time it takes to stop it.
    assert!(peak < before + 2048, "the bomb reached {peak} processes (from {before})");
    assert!(mine() < before + 64, "{} processes before, {} after", before, mine());
}

/// Commits everything in `dir` (a new repository), dated before the
/// deadline the test grades at.
fn commit_dated(dir: &Path) {
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=S", "-c", "user.email=s@localhost"])
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_DATE", "2026-11-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-11-01T00:00:00Z")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "work"]);
}

#[test]
fn attack_by_a_students_git_repository_runs_nothing_and_borrows_nothing() {
    let arena = Arena::new();
    let grade_at_deadline = |dir: &Path| {
        Command::new(common::GRADER)
            .args(["grade", "--submission"])
            .arg(dir)
            .args(["--before", "2026-12-01T00:00:00Z", "q4"])
            .output()
            .unwrap()
    };
    let answer = "A pool is a fixed set of worker processes, started once and reused for every task.\n";
    // A filter the repository's own configuration defines, for every file:
    // git would run it when it writes the files out.
    let filtered = arena.path().join("forks/filtered");
    std::fs::create_dir_all(filtered.join("answers")).unwrap();
    std::fs::write(filtered.join("answers/q4.md"), answer).unwrap();
    std::fs::write(filtered.join(".gitattributes"), "* filter=pwn\n").unwrap();
    commit_dated(&filtered);
    let pwned = arena.path().join("PWNED");
    let smudge = format!("sh -c 'touch {}; cat'", pwned.display());
    let set =
        Command::new("git").args(["config", "filter.pwn.smudge", &smudge]).current_dir(&filtered).status();
    assert!(set.unwrap().success());
    let run = grade_at_deadline(&filtered);
    let said = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(said.contains("sets filter.pwn.smudge") && said.contains("fresh clone"), "{said}");
    assert!(!pwned.exists(), "the repository's filter ran");

    // A `.git` that names another repository (the instructor's), and one
    // that borrows its objects: refused, never graded as the student's.
    let named = arena.path().join("forks/named");
    std::fs::create_dir_all(named.join("answers")).unwrap();
    std::fs::write(named.join(".git"), format!("gitdir: {}\n", home().join(".git").display())).unwrap();
    let run = grade_at_deadline(&named);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("not a directory of its own"));
    let borrowing = arena.path().join("forks/borrowing");
    std::fs::create_dir_all(borrowing.join("answers")).unwrap();
    std::fs::write(borrowing.join("answers/q4.md"), answer).unwrap();
    commit_dated(&borrowing);
    let alternates = borrowing.join(".git/objects/info/alternates");
    std::fs::write(&alternates, format!("{}\n", home().join(".git/objects").display())).unwrap();
    let run = grade_at_deadline(&borrowing);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("borrows another repository's objects"));

    // An honest repository is graded at the deadline, a link in it left out.
    std::fs::remove_file(&alternates).unwrap();
    std::os::unix::fs::symlink(arena.path().join("home/.ssh/id_rsa"), borrowing.join("answers/q1.md"))
        .unwrap();
    let added = Command::new("git").args(["add", "answers/q1.md"]).current_dir(&borrowing).status().unwrap();
    assert!(added.success());
    let committed = Command::new("git")
        .args(["-c", "user.name=S", "-c", "user.email=s@localhost", "commit", "-q", "-m", "a link"])
        .current_dir(&borrowing)
        .env("GIT_AUTHOR_DATE", "2026-11-02T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-11-02T00:00:00Z")
        .status()
        .unwrap();
    assert!(committed.success());
    let run = grade_at_deadline(&borrowing);
    let scorecard = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{scorecard}{}", String::from_utf8_lossy(&run.stderr));
    assert!(scorecard.contains("Q4 ") && !scorecard.contains(&arena.token), "{scorecard}");
}

#[test]
fn attack_by_a_repository_bomb_is_refused_before_anything_is_written_out() {
    let arena = Arena::new();
    // 20 MB of one byte: a few kilobytes in git, far more than a submission.
    let bomb = arena.path().join("forks/bomb");
    std::fs::create_dir_all(bomb.join("answers")).unwrap();
    std::fs::write(bomb.join("answers/q1.md"), vec![b'A'; 20 << 20]).unwrap();
    std::fs::write(bomb.join("huge.bin"), vec![0u8; 20 << 20]).unwrap();
    commit_dated(&bomb);
    let roster = arena.path().join("roster.csv");
    std::fs::write(&roster, format!("student,repository\nmallory,{}\n", bomb.display())).unwrap();
    let out = arena.path().join("out");
    let run = Command::new(common::GRADER)
        .args(["batch", "--roster"])
        .arg(&roster)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let gradebook = std::fs::read_to_string(out.join("gradebook.csv")).unwrap();
    assert!(gradebook.contains("more than a submission may"), "{gradebook}");
    // Nothing of it was written out: not the answer, not the file beside it.
    let cache = out.join(".repositories/mallory");
    assert!(!cache.join("answers/q1.md").exists() && !cache.join("huge.bin").exists());
}

#[test]
fn attack_by_a_renamed_answer_that_is_a_link_reads_nothing_for_review() {
    let arena = Arena::new();
    // Q4 "renamed" to a link to the instructor's secret: review would show
    // a renamed answer's text, but a link is never followed.
    let fork = arena.path().join("forks/mallory");
    std::fs::create_dir_all(fork.join("answers")).unwrap();
    std::os::unix::fs::symlink(arena.path().join("home/.ssh/id_rsa"), fork.join("answers/Q4.md")).unwrap();
    let out = arena.path().join("out");
    let run = Command::new(common::GRADER).arg("batch").arg(&fork).arg("--out").arg(&out).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    for file in ["flagged.json", "gradebook.json", "gradebook.csv", "mallory/results.json"] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(!text.contains(&arena.token), "the secret reached {file}");
    }
}

#[test]
fn attack_by_a_roster_url_that_is_an_option_runs_nothing_on_a_fetch_again() {
    let arena = Arena::new();
    let repo = arena.path().join("forks/mallory");
    std::fs::create_dir_all(repo.join("answers")).unwrap();
    std::fs::write(repo.join("answers/q1.md"), "x\n").unwrap();
    commit_dated(&repo);
    let roster = arena.path().join("roster.csv");
    let out = arena.path().join("out");
    let batch = || {
        Command::new(common::GRADER)
            .args(["batch", "--roster"])
            .arg(&roster)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
    };
    std::fs::write(&roster, format!("student,repository\nmallory,{}\n", repo.display())).unwrap();
    assert!(batch().status.success());
    // The clone is cached: the next batch sets its URL again, and fetches.
    let pwned = arena.path().join("PWNED");
    std::fs::write(&roster, format!("student,repository\nmallory,--upload-pack=touch {}\n", pwned.display()))
        .unwrap();
    let run = batch();
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stdout));
    assert!(!pwned.exists(), "a roster's URL ran a command");
}
