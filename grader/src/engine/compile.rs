//! Builds one exercise package with cargo, in the sandbox, so that a compile
//! error costs that question only and its message reaches the student, and
//! so that building a submission runs none of its code.
//!
//! ```no_run
//! use grader::engine::compile::{Build, build};
//! use grader::engine::run::Runner;
//! let runner = Runner::new("target/debug/grader".into());
//! let workspace = std::path::Path::new(".");
//! let built = build(&runner, &Build::new(workspace, workspace, "q6_four_procs"));
//! match built {
//!     Ok(built) => println!("{}", built.binary.display()),
//!     Err(failure) => println!("{}", failure.message()), // the compiler's errors, or the grader's
//! }
//! ```
//!
//! Two steps, because a build in the sandbox may not execute anything it
//! writes (so no build script can run in it, the submission's or a
//! dependency's):
//!
//! 1. [`dependencies`]: the template's dependencies, built once, outside the
//!    sandbox but from the template's own manifests with empty stub sources
//!    (no code of anyone's but the registry crates the template chose), into
//!    a directory of their own; stamped, so later gradings skip it.
//! 2. [`build`]: `cargo build --offline --locked -p <package>` in the
//!    sandbox, in a target directory seeded with those dependencies (hard
//!    links), so only the exercise's own code is compiled. It may read the
//!    workspace, the toolchain and the registry, and write only its target
//!    directory.
//!
//! Each (workspace, package) is built at most once per process; later calls
//! get the cached result, until [`forget_builds`] (a watch, after a save).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::engine::run::Runner;
use crate::supervisor::protocol::{Layers, Limits, Request, SandboxStatus, Schedule};
use crate::supervisor::sandbox;

/// Lines of compiler output quoted in a message.
const QUOTED_LINES: usize = 25;

/// The limits of a build (cargo, rustc and the linker together).
/// Its target directory holds the dependencies (hard links) and the
/// exercise's own build: a few hundred MiB at most, unless the source means
/// to fill the disk.
pub const BUILD_LIMITS: Limits = Limits {
    timeout_ms: 120_000,
    output_cap: 4 << 20,
    processes: usize::MAX,
    memory_mib: 4096,
    file_size_mib: 512,
    disk: true,
    cpu_seconds: 600,
    open_files: 4096,
};

/// The toolchain: cargo and rustc themselves (not rustup's proxies, which
/// would read `rust-toolchain` files and write under `~/.rustup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolchain {
    pub cargo: PathBuf,
    pub rustc: PathBuf,
    /// Where both live, with their libraries: what a build may execute.
    pub sysroot: PathBuf,
    pub cargo_home: PathBuf,
}

impl Toolchain {
    /// The toolchain this grader was built with when run by cargo (`CARGO`),
    /// or the one `rustc` on the `PATH` names.
    pub fn find() -> Result<Toolchain> {
        static FOUND: OnceLock<Result<Toolchain, String>> = OnceLock::new();
        FOUND
            .get_or_init(|| Toolchain::locate().map_err(|e| format!("{e:#}")))
            .clone()
            .map_err(anyhow::Error::msg)
    }

    fn locate() -> Result<Toolchain> {
        let cargo_home = match std::env::var_os("CARGO_HOME") {
            Some(home) => PathBuf::from(home),
            None => std::env::home_dir().context("no home directory for cargo")?.join(".cargo"),
        };
        let from_cargo = std::env::var_os("CARGO").map(PathBuf::from);
        if let Some(cargo) = from_cargo.as_ref().filter(|c| !c.is_file()) {
            bail!("CARGO is set to {}, which is not cargo", cargo.display());
        }
        let bin = match from_cargo.as_deref().and_then(Path::parent).filter(|b| b.join("rustc").is_file()) {
            Some(bin) => bin.to_path_buf(),
            None => {
                let out = std::process::Command::new("rustc")
                    .args(["--print", "sysroot"])
                    .stdin(std::process::Stdio::null())
                    .output()
                    .context("running `rustc --print sysroot`: is Rust installed?")?;
                if !out.status.success() {
                    bail!("`rustc --print sysroot` failed: {}", String::from_utf8_lossy(&out.stderr).trim());
                }
                PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("bin")
            }
        };
        let bin = bin.canonicalize().with_context(|| format!("the toolchain at {}", bin.display()))?;
        let (cargo, rustc) = (bin.join("cargo"), bin.join("rustc"));
        if !cargo.is_file() || !rustc.is_file() {
            bail!("{} has no cargo and rustc", bin.display());
        }
        let sysroot = bin.parent().unwrap_or(&bin).to_path_buf();
        Ok(Toolchain { cargo, rustc, sysroot, cargo_home })
    }

    /// The environment of every build: fixed, nothing of the grader's.
    fn env(&self, tmp: &Path) -> Vec<(String, String)> {
        let path = |p: &Path| p.to_string_lossy().into_owned();
        vec![
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            ("HOME".into(), path(tmp)),
            ("TMPDIR".into(), path(tmp)),
            ("CARGO_HOME".into(), path(&self.cargo_home)),
            ("RUSTC".into(), path(&self.rustc)),
            ("CARGO_TERM_COLOR".into(), "never".into()),
            ("LANG".into(), "C.UTF-8".into()),
        ]
    }
}

/// A package of the template's `exercises/`, as cargo sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    /// Its directory, relative to the workspace: `exercises/q5_pool`.
    pub dir: String,
    /// Its targets' sources, relative to `dir`, with their kind ("bin",
    /// "lib", "bench", "test", "example").
    pub targets: Vec<(String, String)>,
}

impl Package {
    /// The crate name its artifacts carry.
    fn crate_name(&self) -> String {
        self.name.replace('-', "_")
    }
}

/// The packages' directories, as workspace members.
pub fn members(packages: &[Package]) -> Vec<&str> {
    packages.iter().map(|p| p.dir.as_str()).collect()
}

/// The template's dependencies, built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependencies {
    /// What the inputs hashed to: a changed manifest or toolchain rebuilds.
    key: String,
    /// The target directory holding them.
    pub target: PathBuf,
    /// The lock file of a workspace of only the exercise packages.
    pub lock: String,
    pub packages: Vec<Package>,
}

/// The template's dependencies, built if they are not yet (once per
/// process; across processes, a stamp says whether they still are).
pub fn dependencies(template: &Path, runner: &Runner) -> Result<Arc<Dependencies>> {
    static DONE: OnceLock<Mutex<HashMap<PathBuf, Arc<Dependencies>>>> = OnceLock::new();
    let done = DONE.get_or_init(Default::default);
    let template = template.canonicalize().with_context(|| format!("reading {}", template.display()))?;
    let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(deps) = done.get(&template) {
        return Ok(deps.clone());
    }
    let deps = Arc::new(prepare(&template, runner).context("building the template's dependencies")?);
    done.insert(template, deps.clone());
    Ok(deps)
}

/// Takes the stamp off `template`'s dependencies, so that the next
/// [`dependencies`] (of a later process) builds them again, outside the
/// sandbox: cargo then redoes what it finds damaged or stale.
fn forget_dependencies(template: &Path) {
    let _ =
        std::fs::remove_file(crate::engine::workspace::target_dir(template).join("grader-deps/stamp.json"));
}

fn prepare(template: &Path, runner: &Runner) -> Result<Dependencies> {
    let toolchain = Toolchain::find()?;
    let base = crate::engine::workspace::target_dir(template).join("grader-deps");
    std::fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    // One grader at a time prepares them; the others wait, then find the stamp.
    let lock_file = std::fs::File::create(base.join("lock"))?;
    let _lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| anyhow::anyhow!("locking {}: {e}", base.display()))?;
    let key = stamp_key(template, &toolchain)?;
    let stamp = base.join("stamp.json");
    if let Ok(text) = std::fs::read_to_string(&stamp)
        && let Ok(deps) = serde_json::from_str::<Dependencies>(&text)
        && deps.key == key
        && deps.target.is_dir()
    {
        return Ok(deps);
    }
    let packages = template_packages(template, &toolchain)?;
    let (stub, target, tmp) = (base.join("workspace"), base.join("target"), base.join("tmp"));
    write_stub_workspace(template, &stub, &packages)?;
    std::fs::create_dir_all(&tmp)?;
    let cargo = |args: &[&str], what: &str| -> Result<()> {
        let request = Request {
            program: toolchain.cargo.clone(),
            args: args.iter().map(|a| a.to_string()).collect(),
            dir: stub.clone(),
            env: toolchain.env(&tmp),
            limits: Limits { timeout_ms: 900_000, ..BUILD_LIMITS },
            trace: false,
            sandbox: None,
            schedule: Schedule::AsItComes,
        };
        let (report, _, stderr) = runner.request(&request, what)?;
        if report.exit != crate::engine::run::Exit::Code(0) || report.stopped.is_some() {
            bail!("`{what}` failed:\n{}", quote_errors(&String::from_utf8_lossy(&stderr)));
        }
        Ok(())
    };
    // Offline first; downloading only what is missing.
    let offline = |args: &[&str], what: &str| -> Result<()> {
        let mut with = args.to_vec();
        with.push("--offline");
        cargo(&with, what).or_else(|_| cargo(args, what))
    };
    // Prunes the lock file to the exercises' packages, keeping its versions.
    offline(&["metadata", "--format-version", "1"], "cargo metadata")?;
    let target_arg = target.to_string_lossy().into_owned();
    for package in &packages {
        let args = [
            "build",
            "--quiet",
            "--locked",
            "-p",
            &package.name,
            "--bin",
            &package.name,
            "--target-dir",
            &target_arg,
        ];
        offline(&args, &format!("cargo build -p {} (the template's dependencies)", package.name))?;
    }
    let lock = std::fs::read_to_string(stub.join("Cargo.lock")).context("reading the pruned Cargo.lock")?;
    let deps = Dependencies { key, target, lock, packages };
    std::fs::write(&stamp, serde_json::to_string_pretty(&deps)?)?;
    Ok(deps)
}

/// What the dependencies' build depends on: the manifests, the lock file,
/// cargo's configuration and the toolchain.
fn stamp_key(template: &Path, toolchain: &Toolchain) -> Result<String> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    for file in [template.join("Cargo.toml"), template.join("Cargo.lock")]
        .into_iter()
        .chain(crate::engine::workspace::package_manifests(template))
        .chain(["config.toml", "config"].map(|c| toolchain.cargo_home.join(c)))
    {
        file.hash(&mut hasher);
        std::fs::read(&file).ok().hash(&mut hasher);
    }
    for tool in [&toolchain.cargo, &toolchain.rustc] {
        let meta = std::fs::metadata(tool)?;
        (tool, meta.len(), meta.modified().ok()).hash(&mut hasher);
    }
    Ok(format!("{:016x}", hasher.finish()))
}

/// The template's exercise packages and their targets, from `cargo metadata`.
fn template_packages(template: &Path, toolchain: &Toolchain) -> Result<Vec<Package>> {
    let out = std::process::Command::new(&toolchain.cargo)
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(template)
        .env("RUSTC", &toolchain.rustc)
        .stdin(std::process::Stdio::null())
        .output()
        .context("running cargo metadata on the template")?;
    if !out.status.success() {
        bail!("cargo metadata on the template failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let exercises = template.join("exercises");
    let mut packages = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
        let dir = manifest.parent().unwrap_or(&manifest);
        if dir.parent() != Some(exercises.as_path()) {
            continue;
        }
        let targets = package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| {
                let kind = t["kind"][0].as_str()?.to_string();
                let path = Path::new(t["src_path"].as_str()?).strip_prefix(dir).ok()?;
                Some((kind, path.to_string_lossy().into_owned()))
            })
            .collect();
        let relative = dir.strip_prefix(template).unwrap_or(dir).to_string_lossy().replace('\\', "/");
        packages.push(Package {
            name: package["name"].as_str().unwrap_or_default().to_string(),
            dir: relative,
            targets,
        });
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    if packages.is_empty() {
        bail!("the template has no packages in exercises/");
    }
    Ok(packages)
}

/// A workspace with the template's manifests and empty sources: building
/// it builds the dependencies and nothing of the exercises.
fn write_stub_workspace(template: &Path, stub: &Path, packages: &[Package]) -> Result<()> {
    if stub.exists() {
        std::fs::remove_dir_all(stub)?;
    }
    std::fs::create_dir_all(stub)?;
    let manifest =
        std::fs::read_to_string(template.join("Cargo.toml")).context("reading the template's Cargo.toml")?;
    std::fs::write(
        stub.join("Cargo.toml"),
        crate::engine::workspace::exercises_manifest(&manifest, &members(packages))?,
    )?;
    std::fs::copy(template.join("Cargo.lock"), stub.join("Cargo.lock")).context("copying Cargo.lock")?;
    for package in packages {
        let dir = stub.join(&package.dir);
        std::fs::create_dir_all(&dir)?;
        std::fs::copy(template.join(&package.dir).join("Cargo.toml"), dir.join("Cargo.toml"))?;
        for (kind, path) in &package.targets {
            let file = dir.join(path);
            std::fs::create_dir_all(file.parent().unwrap_or(&dir))?;
            std::fs::write(file, if kind == "lib" { "" } else { "fn main() {}\n" })?;
        }
    }
    Ok(())
}

/// Gives `target` (hard links, or copies across file systems) every
/// dependency artifact of `deps` it does not have yet; the exercise
/// packages' own artifacts (stubs) are left out.
pub fn seed_target(deps: &Dependencies, target: &Path) -> Result<()> {
    let crates: Vec<String> = deps.packages.iter().map(Package::crate_name).collect();
    let own = |name: &str| {
        let name = name.strip_prefix("lib").unwrap_or(name);
        crates.iter().any(|c| name.strip_prefix(c.as_str()).is_some_and(|rest| rest.starts_with(['-', '.'])))
    };
    for sub in ["debug/deps", "debug/build", "debug/.fingerprint"] {
        let Ok(entries) = std::fs::read_dir(deps.target.join(sub)) else { continue };
        for entry in entries.flatten() {
            if !own(&entry.file_name().to_string_lossy()) {
                link_tree(&entry.path(), &target.join(sub).join(entry.file_name()))?;
            }
        }
    }
    Ok(())
}

fn link_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)?.flatten() {
            link_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else if !to.exists() {
        std::fs::create_dir_all(to.parent().expect("a file has a parent"))?;
        if std::fs::hard_link(from, to).is_err() {
            std::fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
        }
    }
    Ok(())
}

/// One package to build in one workspace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Build {
    /// Where the dependencies come from (the template; for a workspace
    /// grading itself, the workspace).
    pub template: PathBuf,
    pub workspace: PathBuf,
    pub package: String,
    /// Where cargo puts its output.
    pub target_dir: PathBuf,
    /// Refuse to build unless every protection of the sandbox is in force.
    pub require_sandbox: bool,
    /// The sandbox's kernel layers (all, but in the grader's own tests).
    pub layers: Layers,
    /// Keep rustc's incremental state: worth it where the same code is
    /// built again after a small change (a workspace grading itself, a
    /// watch); a fresh target directory (a submission's scratch) builds in
    /// half the time without it, as it never builds the same code twice.
    pub incremental: bool,
}

impl Build {
    /// A build of `package` in `workspace` with `template`'s dependencies,
    /// into `<workspace's target>/grader-build`.
    pub fn new(template: &Path, workspace: &Path, package: &str) -> Build {
        Build {
            template: template.to_path_buf(),
            workspace: workspace.to_path_buf(),
            package: package.to_string(),
            target_dir: crate::engine::workspace::target_dir(workspace).join("grader-build"),
            require_sandbox: false,
            layers: Layers::ALL,
            incremental: true,
        }
    }

    pub fn target_dir(mut self, dir: PathBuf) -> Build {
        self.target_dir = dir;
        self
    }

    pub fn require_sandbox(mut self, required: bool) -> Build {
        self.require_sandbox = required;
        self
    }

    pub fn layers(mut self, layers: Layers) -> Build {
        self.layers = layers;
        self
    }

    pub fn incremental(mut self, incremental: bool) -> Build {
        self.incremental = incremental;
        self
    }
}

/// Why a package was not built: the submission's doing (a compile error,
/// a build past its limits: it costs the question), or the grader's (no
/// toolchain, no dependencies, a supervisor that failed: nothing can be
/// graded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildFailure {
    Compile(String),
    Grader(String),
}

impl BuildFailure {
    /// What to say, whoever's it is.
    pub fn message(&self) -> &str {
        match self {
            BuildFailure::Compile(m) | BuildFailure::Grader(m) => m,
        }
    }
}

/// A package built.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub binary: PathBuf,
    /// Which protections the build ran under.
    pub sandbox: SandboxStatus,
}

/// Builds the package (once per process) and returns its binary, or the
/// compiler's message.
pub fn build(runner: &Runner, spec: &Build) -> Result<Built, BuildFailure> {
    let cache = built();
    if let Some(done) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(spec) {
        return done.clone();
    }
    let _one_at_a_time = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let result = build_uncached(runner, spec);
    cache.lock().unwrap_or_else(|e| e.into_inner()).insert(spec.clone(), result.clone());
    result
}

/// One build at a time: cargo would serialize them on its lock anyway.
static BUILDING: Mutex<()> = Mutex::new(());

/// Builds every package of `specs` (of one workspace, target directory and
/// sandbox) in one sandboxed cargo run, and keeps each that built for
/// [`build`] to return: one cargo instead of one per package, and the
/// crates compiled side by side. A package that did not build is left to
/// [`build`], which builds it alone and says why in the same words as
/// ever: a compile error costs only its own question (`--keep-going`). Any
/// doubt (a limit hit, output cut short) leaves every package to [`build`].
pub fn prebuild(runner: &Runner, specs: &[Build]) {
    let Some(first) = specs.first() else { return };
    // Alike in everything but the package: one cargo run can build them.
    let alike = |s: &Build| Build { package: first.package.clone(), ..s.clone() } == *first;
    let cache = built();
    let todo: Vec<&Build> = {
        let done = cache.lock().unwrap_or_else(|e| e.into_inner());
        specs.iter().filter(|s| !done.contains_key(*s) && manifest_of(s).is_file()).collect()
    };
    if todo.len() < 2 || !specs.iter().all(alike) {
        return;
    }
    let _one_at_a_time = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let packages: Vec<&str> = todo.iter().map(|s| s.package.as_str()).collect();
    let Ok((report, stdout, _)) = cargo_build(runner, first, &packages) else { return };
    if report.stopped.is_some() || report.stdout_truncated {
        return;
    }
    let mut done = cache.lock().unwrap_or_else(|e| e.into_inner());
    for (spec, binary) in built_binaries(&String::from_utf8_lossy(&stdout), &todo) {
        done.insert(spec.clone(), Ok(Built { binary, sandbox: report.sandbox.clone() }));
    }
}

/// The binaries of `specs` that cargo's JSON messages say it built.
fn built_binaries<'a>(messages: &str, specs: &[&'a Build]) -> Vec<(&'a Build, PathBuf)> {
    let mut found = Vec::new();
    for line in messages.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let bin = message["target"]["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "bin"));
        let (Some(name), Some(executable)) =
            (message["target"]["name"].as_str(), message["executable"].as_str())
        else {
            continue;
        };
        if message["reason"] != "compiler-artifact" || !bin {
            continue;
        }
        let expected = |spec: &Build| spec.target_dir.join("debug").join(&spec.package);
        if let Some(spec) = specs.iter().find(|s| s.package == name && Path::new(executable) == expected(s)) {
            if Path::new(executable).is_file() {
                found.push((*spec, PathBuf::from(executable)));
            }
        }
    }
    found
}

/// A package's manifest in its workspace.
fn manifest_of(spec: &Build) -> PathBuf {
    spec.workspace.join("exercises").join(&spec.package).join("Cargo.toml")
}

/// The builds of this process.
fn built() -> &'static Mutex<HashMap<Build, Result<Built, BuildFailure>>> {
    static CACHE: OnceLock<Mutex<HashMap<Build, Result<Built, BuildFailure>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Forgets every build of this process: the next [`build`] of a package
/// asks cargo again (which rebuilds only what changed).
pub fn forget_builds() {
    built().lock().unwrap_or_else(|e| e.into_inner()).clear();
}

fn build_uncached(runner: &Runner, spec: &Build) -> Result<Built, BuildFailure> {
    if !manifest_of(spec).is_file() {
        let message = format!("exercises/{}/Cargo.toml is missing: the package is not there", spec.package);
        return Err(BuildFailure::Compile(message));
    }
    let what = format!("cargo build -p {}", spec.package);
    let (report, stdout, stderr) = cargo_build(runner, spec, &[&spec.package])
        .map_err(|e| BuildFailure::Grader(format!("the grader could not build {}: {e:#}", spec.package)))?;
    let cargo_said = String::from_utf8_lossy(&stderr);
    if let Some(dependency) = dependency_rebuilt(&cargo_said, &spec.package) {
        forget_dependencies(&spec.template);
        return Err(BuildFailure::Grader(format!(
            "{dependency}, one of the template's dependencies, had to be built again inside the sandbox, \
             where it cannot be: the dependencies in {} are damaged or out of date. They are built \
             again on the next run; grade again.",
            crate::engine::workspace::target_dir(&spec.template).join("grader-deps").display()
        )));
    }
    let messages = compiler_messages(&String::from_utf8_lossy(&stdout)) + &cargo_said;
    if let Some(stopped) = report.stopped {
        return Err(BuildFailure::Compile(format!(
            "`{what}` {} and was stopped",
            stopped.phrase(&BUILD_LIMITS)
        )));
    }
    if report.exit != crate::engine::run::Exit::Code(0) {
        return Err(BuildFailure::Compile(format!("`{what}` failed:\n{}", quote_errors(&messages))));
    }
    let binary = spec.target_dir.join("debug").join(&spec.package);
    if !binary.is_file() {
        return Err(BuildFailure::Compile(format!("cargo built no binary {}", binary.display())));
    }
    Ok(Built { binary, sandbox: report.sandbox })
}

/// One sandboxed `cargo build` of `packages` (their binaries) in `spec`'s
/// workspace and target directory: its report, cargo's JSON messages
/// (stdout) and what cargo itself said (stderr). Of several packages, every
/// one is built that can be (`--keep-going`).
fn cargo_build(
    runner: &Runner,
    spec: &Build,
    packages: &[&str],
) -> Result<(crate::supervisor::protocol::Report, Vec<u8>, Vec<u8>)> {
    let toolchain = Toolchain::find()?;
    let deps = dependencies(&spec.template, runner)?;
    let tmp = spec.target_dir.join("tmp");
    std::fs::create_dir_all(&tmp)?;
    seed_target(&deps, &spec.target_dir)?;
    // JSON, so that the compiler's messages (which quote the submission's
    // code) come on stdout and cargo's own (which quote nothing of it) on
    // stderr: a failure of the grader's is told from the student's by
    // stderr alone, and no source can pretend to be one.
    let mut args: Vec<String> =
        ["build", "--offline", "--locked", "--quiet", "--color", "never", "--message-format", "json"]
            .map(String::from)
            .to_vec();
    for package in packages {
        args.extend(["-p", package, "--bin", package].map(String::from));
    }
    if packages.len() > 1 {
        args.push("--keep-going".into());
    }
    args.extend(["--target-dir".to_string(), spec.target_dir.to_string_lossy().into_owned()]);
    let mut policy = sandbox::build_policy(
        &spec.workspace,
        std::slice::from_ref(&toolchain.sysroot),
        &toolchain.cargo_home,
        &[&spec.target_dir],
    );
    policy.required = spec.require_sandbox;
    policy.layers = spec.layers;
    let mut env = toolchain.env(&tmp);
    if !spec.incremental {
        env.push(("CARGO_INCREMENTAL".into(), "0".into()));
    }
    let request = Request {
        program: toolchain.cargo.clone(),
        args,
        dir: spec.workspace.clone(),
        env,
        limits: BUILD_LIMITS,
        trace: false,
        sandbox: Some(policy),
        schedule: Schedule::AsItComes,
    };
    let what = format!("cargo build -p {}", packages.join(" -p "));
    runner.request(&request, &what)
}

/// The compiler's messages among cargo's JSON ones, as the compiler prints
/// them.
fn compiler_messages(json: &str) -> String {
    json.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-message")
        .filter_map(|m| m["message"]["rendered"].as_str().map(String::from))
        .collect()
}

/// The dependency cargo tried to build (compile, or run the build script
/// of) that is not `package`, from what cargo itself said (stderr, when
/// the compiler's messages are JSON on stdout). The dependencies are built
/// before, outside the sandbox: one built again means their build is
/// damaged or stale, the grader's failure, never the student's.
fn dependency_rebuilt(cargo_said: &str, package: &str) -> Option<String> {
    cargo_said.lines().find_map(|line| {
        let rest = line
            .strip_prefix("error: failed to run custom build command for `")
            .or_else(|| line.strip_prefix("error: could not compile `"))?;
        let name = rest.split(['`', ' ']).next()?;
        (name != package).then(|| name.to_string())
    })
}

/// The compiler's errors, without the warnings before them, cut to a length
/// a scorecard can show.
fn quote_errors(messages: &str) -> String {
    let lines: Vec<&str> = messages.lines().collect();
    let first_error = lines.iter().position(|l| l.starts_with("error")).unwrap_or(0);
    let shown = &lines[first_error..];
    let mut text = shown.iter().take(QUOTED_LINES).copied().collect::<Vec<_>>().join("\n");
    if shown.len() > QUOTED_LINES {
        text.push_str(&format!(
            "\n… ({} more lines: run `cargo build` to see them all)",
            shown.len() - QUOTED_LINES
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What cargo 1.95 said (on stderr) when the dependencies' build was
    /// stale: it wanted to run anyhow's build script in the sandbox.
    const STALE: &str = "error: failed to run custom build command for `anyhow v1.0.104`

Caused by:
  could not execute process `/w/target/grader-scratch/submission-fbop0D/target/debug/build/anyhow-3caa8d92135e4244/build-script-build` (never executed)

Caused by:
  Permission denied (os error 13)
";

    #[test]
    fn a_dependency_cargo_builds_again_is_named_and_the_package_itself_is_not() {
        assert_eq!(dependency_rebuilt(STALE, "q6_four_procs"), Some("anyhow".to_string()));
        let nix = "error: could not compile `nix` (lib) due to 2 previous errors\n";
        assert_eq!(dependency_rebuilt(nix, "q5_pool"), Some("nix".to_string()));
        let own = "error: could not compile `q5_pool` (bin \"q5_pool\") due to 1 previous error\n";
        assert_eq!(dependency_rebuilt(own, "q5_pool"), None);
        // Said by the compiler, quoting the source: not cargo's line.
        assert_eq!(
            dependency_rebuilt("  | compile_error!(\"error: could not compile `nix`\");\n", "q6"),
            None
        );
    }

    #[test]
    fn the_compilers_messages_are_taken_from_cargos_json_as_printed() {
        let json = [
            r#"{"reason":"compiler-message","message":{"rendered":"warning: unused\n\n"}}"#,
            r#"{"reason":"compiler-artifact","target":{"name":"q3_process"}}"#,
            r#"{"reason":"compiler-message","message":{"rendered":"error[E0308]: mismatched types\n\n"}}"#,
            "not json",
        ]
        .join("\n");
        assert_eq!(compiler_messages(&json), "warning: unused\n\nerror[E0308]: mismatched types\n\n");
    }

    #[test]
    fn only_the_binaries_cargo_says_it_built_where_they_belong_are_taken() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::create_dir_all(target.join("debug")).unwrap();
        let spec = |package: &str| Build::new(dir.path(), dir.path(), package).target_dir(target.clone());
        let (q3, q5, q6) = (spec("q3_process"), spec("q5_pool"), spec("q6_four_procs"));
        for built in ["q3_process", "q6_four_procs"] {
            std::fs::write(target.join("debug").join(built), "").unwrap();
        }
        let artifact = |name: &str, kind: &str, executable: &Path| {
            serde_json::json!({"reason": "compiler-artifact", "target": {"name": name, "kind": [kind]}, "executable": executable})
                .to_string()
        };
        let messages = [
            artifact("q3_process", "bin", &target.join("debug/q3_process")),
            // A library of the same name, and a binary built elsewhere: not the package's.
            artifact("q6_four_procs", "lib", &target.join("debug/q6_four_procs")),
            artifact("q6_four_procs", "bin", &dir.path().join("elsewhere/q6_four_procs")),
            // Said built, but not there.
            artifact("q5_pool", "bin", &target.join("debug/q5_pool")),
            r#"{"reason":"compiler-message","target":{"name":"q5_pool","kind":["bin"]},"message":{"level":"error"}}"#
                .to_string(),
            "not json".to_string(),
        ]
        .join("\n");
        let found = built_binaries(&messages, &[&q3, &q5, &q6]);
        assert_eq!(found, vec![(&q3, target.join("debug/q3_process"))]);
    }
}
