//! How to grade ([`Settings`], made once by the command line and passed
//! down) and what one grading needs ([`Context`]: where the workspace is,
//! how to build and run its exercises, what went wrong of the grader's own).
//!
//! ```no_run
//! use grader::engine::context::{Context, Settings};
//! use grader::rubric::Question;
//! let settings = Settings::from_env(".".as_ref(), "target/debug/grader".as_ref())?;
//! let ctx = Context::new(".".into(), &settings);
//! let report = grader::checks::grade(&ctx, Question::Q6);
//! # let _ = report;
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::engine::compile::{Build, BuildFailure, build, prebuild};
use crate::engine::run::{Layers, Limits, Observation, RunSpec, Runner, SandboxStatus, Schedule};
use crate::rubric::Question;

/// Set this to a number to replay the random inputs of an earlier grading.
pub const SEED_ENV: &str = "GRADER_SEED";

/// The seed `GRADER_SEED` sets, if it is set; an error if it is set to
/// something that is not a number (ignored, it would replay nothing).
pub fn seed_from_env() -> anyhow::Result<Option<u64>> {
    match std::env::var(SEED_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Ok(text) if text.trim().parse::<u64>().is_ok() => Ok(text.trim().parse().ok()),
        Ok(text) => anyhow::bail!("{SEED_ENV} must be a number (the seed a scorecard printed), not {text:?}"),
        Err(std::env::VarError::NotUnicode(text)) => {
            anyhow::bail!("{SEED_ENV} must be a number (the seed a scorecard printed), not {text:?}")
        }
    }
}

/// How to grade, the same for every submission of a run: made once (by the
/// command line, from its flags and `GRADER_SEED`) and passed down.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The grader's own workspace: the reference a submission is laid over,
    /// with its manifests and dependencies.
    pub template: PathBuf,
    /// The grader's executable, which supervises every run.
    pub supervisor: PathBuf,
    /// The limits of every run of a program.
    pub limits: Limits,
    /// Watch each run with the process witness (where ptrace is allowed).
    pub witness: bool,
    /// Refuse to build or run anything unless every protection of the
    /// sandbox is in force.
    pub require_sandbox: bool,
    /// The questions to grade (all of them, but to look at one).
    pub questions: Vec<Question>,
    /// The seed of the random inputs.
    pub seed: u64,
}

impl Settings {
    /// The rubric's settings, every question, a seed from the clock.
    pub fn new(template: &Path, supervisor: &Path) -> Settings {
        Settings {
            template: template.to_path_buf(),
            supervisor: supervisor.to_path_buf(),
            limits: crate::rubric::LIMITS,
            witness: true,
            require_sandbox: false,
            questions: Question::ALL.to_vec(),
            seed: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 % 1_000_000_000)
                .unwrap_or(1),
        }
    }

    /// What of these settings can change a mark (the limits, the witness,
    /// the sandbox's requirement), as a fingerprint: a result is reused
    /// only under the same.
    pub fn marking_fingerprint(&self) -> String {
        let marking = format!("{:?} {} {}", self.limits, self.witness, self.require_sandbox);
        crate::engine::normalize::fingerprint(marking.as_bytes())
    }

    /// As [`Settings::new`], the seed from `GRADER_SEED` where it is set.
    pub fn from_env(template: &Path, supervisor: &Path) -> anyhow::Result<Settings> {
        let settings = Settings::new(template, supervisor);
        Ok(Settings { seed: seed_from_env()?.unwrap_or(settings.seed), ..settings })
    }
}

/// Everything a check needs to build and run the workspace's exercises.
#[derive(Debug, Clone)]
pub struct Context {
    /// How to grade.
    pub settings: Settings,
    /// The workspace graded (a scratch workspace, for a submission).
    pub workspace: PathBuf,
    /// Where the manifests and dependencies come from (for a workspace
    /// grading itself, the workspace).
    pub template: PathBuf,
    pub runner: Runner,
    /// Where cargo builds the exercises.
    pub target_dir: PathBuf,
    /// The sandbox's kernel layers (all, but in the grader's own tests).
    pub layers: Layers,
    /// The target directory is new, and built once (a scratch): no
    /// incremental state is kept (see [`Build::incremental`]).
    pub fresh_target: bool,
    /// Work the submission does not have, by location, with what to say
    /// (see [`Scratch::missing`](crate::engine::scratch::Scratch::missing)).
    pub missing: std::collections::BTreeMap<String, String>,
    /// What held of the sandbox over every build and run so far.
    sandbox: Arc<Mutex<Option<SandboxStatus>>>,
    /// The first error of the grader's own (no toolchain, a supervisor that
    /// failed): with one, nothing this context graded may be scored.
    failure: Arc<Mutex<Option<String>>>,
}

impl Context {
    /// A context for `workspace` grading itself.
    pub fn new(workspace: PathBuf, settings: &Settings) -> Context {
        Context {
            target_dir: crate::engine::workspace::target_dir(&workspace).join("grader-build"),
            template: workspace.clone(),
            workspace,
            runner: Runner::new(settings.supervisor.clone()),
            settings: settings.clone(),
            layers: Layers::ALL,
            fresh_target: false,
            missing: Default::default(),
            sandbox: Arc::default(),
            failure: Arc::default(),
        }
    }

    /// A context for grading a scratch workspace (a submission) with its
    /// template's dependencies, building into the scratch's own target.
    pub fn for_scratch(scratch: &crate::engine::scratch::Scratch, settings: &Settings) -> Context {
        Context {
            template: scratch.template.clone(),
            target_dir: scratch.target(),
            fresh_target: true,
            missing: scratch.missing.clone(),
            ..Context::new(scratch.path().to_path_buf(), settings)
        }
    }

    /// Builds the exercise package and returns its binary, or why it could
    /// not: the student's (a compile error, a missing package) or the
    /// grader's own, which is also kept, and voids the grading.
    pub fn binary(&self, package: &str) -> Result<PathBuf, BuildFailure> {
        if let Some(missing) = self.missing.get(&format!("exercises/{package}")) {
            return Err(BuildFailure::Compile(missing.clone()));
        }
        let built = build(&self.runner, &self.build_of(package)).inspect_err(|failure| {
            if let BuildFailure::Grader(message) = failure {
                self.fail(message.clone());
            }
        })?;
        self.record(&built.sandbox);
        Ok(built.binary)
    }

    /// Builds these packages at once, where they are there, for
    /// [`Context::binary`] to find built (see [`prebuild`]).
    pub fn prebuild(&self, packages: &[&str]) {
        let specs: Vec<Build> = packages
            .iter()
            .filter(|p| !self.missing.contains_key(&format!("exercises/{p}")))
            .map(|p| self.build_of(p))
            .collect();
        prebuild(&self.runner, &specs);
    }

    fn build_of(&self, package: &str) -> Build {
        Build::new(&self.template, &self.workspace, package)
            .target_dir(self.target_dir.clone())
            .require_sandbox(self.settings.require_sandbox)
            .layers(self.layers)
            .incremental(!self.fresh_target)
    }

    /// Runs `binary` with `args` under the supervisor.
    pub fn run(&self, binary: &Path, args: &[String]) -> Result<Observation, String> {
        self.run_with(binary, args, self.settings.limits)
    }

    /// Runs `binary` with `args` under the supervisor, with other limits.
    pub fn run_with(&self, binary: &Path, args: &[String], limits: Limits) -> Result<Observation, String> {
        self.run_scheduled(binary, args, limits, Schedule::AsItComes)
    }

    /// Runs `binary` with `args` under the supervisor, with other limits,
    /// its children scheduled by `schedule`.
    pub fn run_scheduled(
        &self,
        binary: &Path,
        args: &[String],
        limits: Limits,
        schedule: Schedule,
    ) -> Result<Observation, String> {
        let spec = RunSpec::new(binary)
            .schedule(schedule)
            .args(args.iter().cloned())
            .limits(limits)
            .witness(self.settings.witness)
            .sandbox(Some(self.layers))
            .require_sandbox(self.settings.require_sandbox);
        let seen = self
            .runner
            .run(&spec)
            .map_err(|e| self.fail(format!("the grader could not run `{}`: {e:#}", spec.display())))?;
        self.record(&seen.sandbox);
        Ok(seen)
    }

    /// The first error of the grader's own, if there was one: then the
    /// grading is void, whatever the checks said.
    pub(crate) fn failure(&self) -> Option<String> {
        self.failure.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records an error of the grader's own, and returns its message.
    fn fail(&self, message: String) -> String {
        self.failure.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(|| message.clone());
        message
    }

    /// What held of the sandbox over every build and run so far (`None`:
    /// nothing was built or run).
    pub fn sandbox(&self) -> Option<SandboxStatus> {
        self.sandbox.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn record(&self, status: &SandboxStatus) {
        let mut held = self.sandbox.lock().unwrap_or_else(|e| e.into_inner());
        *held = Some(match held.as_ref() {
            Some(before) => before.meet(status),
            None => status.clone(),
        });
    }
}

/// A small, fast, reproducible random number generator (SplitMix64), so
/// random inputs can be replayed from a printed seed without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        let span = (high as i128 - low as i128 + 1) as u128;
        (low as i128 + (self.next_u64() as u128 % span) as i128) as i64
    }
}
