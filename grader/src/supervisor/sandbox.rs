//! The sandbox a program (or cargo, building a submission) runs in: what it
//! may touch, which system calls it may make, how much it may use.
//!
//! Everything is prepared by the supervisor before it forks (the Landlock
//! ruleset is opened, the seccomp filters compiled), so that the child, between
//! `fork` and `exec`, only makes system calls: drop root's capabilities, lower
//! its rlimits, restrict itself with Landlock, install the filters. Each
//! layer is best effort by kernel: the child reports what it got through a
//! pipe, and the supervisor turns that into a [`SandboxStatus`] that every
//! report carries, so a scorecard can say what was not in force.
//!
//! - **Files and network** (Landlock, the `landlock` crate): read and execute
//!   only what the [`Policy`] lists; TCP bind and connect denied (ABI 4,
//!   Linux 6.7); signals and abstract sockets scoped to the sandbox (ABI 6,
//!   Linux 6.12).
//! - **System calls** (seccomp, the `seccompiler` crate): [`FORBIDDEN`] calls
//!   are refused; the witness, when it traces, sees which and stops the run.
//!   `clone3` answers `ENOSYS`, so the C library falls back to `clone`, whose
//!   flags a filter can read (`clone3` keeps them in memory it cannot).
//!   Changes to files' metadata, which Landlock does not guard, fail quietly.
//! - **Privileges**: a grader running as root runs a program as a [`User`]
//!   of its own, and a build with no capabilities (the `caps` crate).
//! - **Resources** (rlimits): memory, file size, CPU time, open files, and
//!   the processes of the program's own user; the supervisor also watches
//!   the whole tree's memory and what it writes.

use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::protocol::{Guard, Layers, Level, Limits, Policy, Protection, SandboxStatus};

/// What the child reports, one byte each, in a single `write`.
const STATUS_LEN: usize = 6;

/// The data of a filter's `SECCOMP_RET_TRACE`, which the tracer reads to
/// tell why a call stopped: a forbidden call ...
pub const TRACE_FORBIDDEN: u16 = 0;
/// ... or a write to the program's fd 1, to see who wrote what ...
pub const TRACE_WRITE: u16 = 1;
/// ... or a copy of fd 1 made (`dup`), whose writes the filter cannot see:
/// the witness then watches every call of that process.
pub const TRACE_COPY: u16 = 2;

/// A system call the filter refuses.
#[derive(Debug, Clone, Copy)]
pub struct Forbidden {
    pub name: &'static str,
    /// What trying it means, to a student.
    pub why: &'static str,
}

/// Everything prepared before the fork.
#[derive(Debug)]
pub struct Prepared {
    limits: Limits,
    tasks: Option<u64>,
    policy: Option<Policy>,
    #[cfg(target_os = "linux")]
    inner: linux::Inner,
    status_w: OwnedFd,
}

impl Prepared {
    /// Prepares `policy` (none: only the limits) for one start of a
    /// program; `status_w` is where the child reports what it got.
    /// `tasks`: when the run is not traced (no witness to count processes
    /// as they are made), the most processes and threads its user may have
    /// (`RLIMIT_NPROC`), so that a fork bomb meets a wall before the
    /// supervisor's next look.
    /// `traced`: a tracer will watch the program, so the filter may hand
    /// it every write to the program's fd 1 (see [`TRACE_WRITE`]).
    pub fn new(
        policy: Option<&Policy>,
        limits: &Limits,
        tasks: Option<u64>,
        traced: bool,
        status_w: OwnedFd,
    ) -> Result<Prepared> {
        #[cfg(not(target_os = "linux"))]
        let _ = traced;
        Ok(Prepared {
            limits: *limits,
            tasks,
            policy: policy.cloned(),
            #[cfg(target_os = "linux")]
            inner: linux::Inner::new(policy, traced)?,
            status_w,
        })
    }

    /// In the child, between `fork` and `exec`: enters the sandbox and
    /// reports what it got. Mostly bare system calls; the little the
    /// capability crate allocates is safe only because the supervisor forks
    /// while single-threaded (no other thread can hold the allocator's lock
    /// at the fork).
    pub fn enter(&mut self) -> std::io::Result<()> {
        let mut report = [0u8; STATUS_LEN];
        report[0] = 1;
        report[1] = u8::from(set_limits(&self.limits, self.tasks).is_ok());
        #[cfg(target_os = "linux")]
        self.inner.enter(&mut report[2..]);
        // One write of a few bytes to a pipe: all of it or nothing.
        let _ = nix::unistd::write(&self.status_w, &report);
        let required = self.policy.as_ref().is_some_and(|p| p.required);
        if required && !status(self.policy.as_ref(), &report).complete() {
            return Err(std::io::Error::other("the sandbox is not fully in force here (--require-sandbox)"));
        }
        Ok(())
    }
}

/// What the child reported, as protections, for a start under `policy`.
pub fn status(policy: Option<&Policy>, report: &[u8]) -> SandboxStatus {
    let got = |i: usize| report.get(i).copied().unwrap_or(0);
    let limits_set = got(0) == 1 && got(1) == 1;
    let mut protections = vec![
        Protection {
            guard: Guard::Resources,
            level: if limits_set { Level::Full } else { Level::Off },
            detail: if limits_set {
                "rlimits on memory, file size, CPU time and open files; the tree's memory and disk use watched"
                    .into()
            } else {
                "the rlimits could not be set".into()
            },
        },
        Protection {
            guard: Guard::Environment,
            level: Level::Full,
            detail: "a small fixed environment, nothing of the grader's".into(),
        },
    ];
    #[cfg(target_os = "linux")]
    protections.extend(linux::protections(policy, report.get(2..).unwrap_or_default()));
    #[cfg(not(target_os = "linux"))]
    protections.extend(
        [Guard::Files, Guard::Network, Guard::Signals, Guard::Syscalls, Guard::Privileges].map(|guard| {
            Protection {
                guard,
                level: Level::Off,
                detail: if policy.is_some() {
                    format!("needs Linux (Landlock and seccomp); this is {}", std::env::consts::OS)
                } else {
                    "not sandboxed (the grader's own step)".into()
                },
            }
        }),
    );
    SandboxStatus { protections }
}

/// The user a program of a grader running as root runs as: one of its own,
/// with no name, no files but its run directory, and no processes but its
/// own, so that the kernel's ownership checks, and `RLIMIT_NPROC` (which
/// root is exempt from), hold it too. Its binary is copied where that user
/// may reach it (the grader's `target/` may sit in root's home), read-only.
#[derive(Debug)]
pub struct User {
    pub uid: u32,
    /// The copy of the binary it runs.
    pub program: PathBuf,
    _bin: tempfile::TempDir,
}

impl User {
    /// The user for `program` (run in `dir` under `policy`, which is
    /// changed to name the copy), when this supervisor runs as root;
    /// otherwise `None`. A build keeps root's user (without its
    /// capabilities): the toolchain may sit in root's home.
    pub fn for_program(program: &Path, dir: &Path, policy: &mut Policy) -> Result<Option<User>> {
        use std::os::unix::fs::PermissionsExt;
        if policy.build || !nix::unistd::geteuid().is_root() || !cfg!(target_os = "linux") {
            return Ok(None);
        }
        let uid = run_user(std::process::id());
        let bin = tempfile::Builder::new().prefix("grader-bin-").tempdir()?;
        std::fs::set_permissions(bin.path(), std::fs::Permissions::from_mode(0o711))?;
        let copy = bin.path().join(program.file_name().unwrap_or_default());
        std::fs::copy(program, &copy)?;
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o555))?;
        let owner = Some(nix::unistd::Uid::from_raw(uid));
        nix::unistd::chown(dir, owner, Some(nix::unistd::Gid::from_raw(uid)))?;
        for granted in &mut policy.exec {
            if granted == program {
                *granted = copy.clone();
            }
        }
        Ok(Some(User { uid, program: copy, _bin: bin }))
    }

    /// Stops, then kills, every process of this user, wherever it went.
    pub fn kill_all(&self) {
        kill_user(self.uid);
    }
}

/// The user of the run a root grader's supervisor `supervisor` makes:
/// unique among the runs alive (the supervisor's pid), in a range no
/// account uses.
pub fn run_user(supervisor: u32) -> u32 {
    0x4000_0000 | supervisor
}

/// Stops, then kills, every process of user `uid`: a child that sets its
/// user to that one signals them all at once (`kill(-1)` as a user reaches
/// every process of that user but itself). A few rounds, for any forked
/// between. Only root can; for anyone else it does nothing.
pub fn kill_user(uid: u32) {
    // Only ever a run's own user: `kill(-1)` as anyone else's would reach
    // every process of theirs.
    if !nix::unistd::geteuid().is_root() || uid < run_user(0) {
        return;
    }
    for _ in 0..3 {
        // SAFETY: the child makes only system calls (setgid, setuid,
        // kill, _exit), all async-signal-safe, whatever threads the
        // process that forks it has.
        match unsafe { nix::unistd::fork() } {
            Ok(nix::unistd::ForkResult::Child) => {
                let id = |raw: u32| (nix::unistd::Gid::from_raw(raw), nix::unistd::Uid::from_raw(raw));
                let (gid, uid) = id(uid);
                let code = if nix::unistd::setgid(gid).is_ok() && nix::unistd::setuid(uid).is_ok() {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(-1),
                        nix::sys::signal::Signal::SIGSTOP,
                    );
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(-1),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                    0
                } else {
                    1
                };
                // SAFETY: leaves the child at once, running nothing of the
                // supervisor's (no destructor, no buffered output).
                unsafe { nix::libc::_exit(code) };
            }
            Ok(nix::unistd::ForkResult::Parent { child }) => {
                let _ = nix::sys::wait::waitpid(child, None);
            }
            Err(_) => return,
        }
    }
}

/// Where a program's libraries are, to read (and its ELF interpreter's
/// directory among them). Paths that do not exist here are left out.
const LIBRARIES: &[&str] =
    &["/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/local/lib"];

/// What a student's program may touch: read and execute its own binary (and
/// the ELF interpreter that loads it); read the system's libraries and a few
/// devices; write only its own directory.
pub fn program_policy(binary: &Path, dir: &Path, required: bool) -> Policy {
    let mut exec = vec![binary.to_path_buf()];
    exec.extend(interpreter(binary));
    let mut read: Vec<PathBuf> = LIBRARIES.iter().map(PathBuf::from).collect();
    read.extend(["/etc/ld.so.cache", "/dev/urandom", "/dev/random", "/dev/zero"].map(PathBuf::from));
    Policy {
        read,
        exec,
        write: vec![dir.to_path_buf(), PathBuf::from("/dev/null")],
        required,
        protect_pids: grader_pids(),
        layers: Layers::ALL,
        build: false,
    }
}

/// What a build of a submission may touch: read its workspace, the cargo
/// home's registry, the system's libraries, and the configuration files
/// cargo reads (its home's, and those in the workspace's parents: cargo
/// fails on one it cannot read); read and execute the toolchain and the
/// system's programs (the linker); write only its target directory. The
/// template, its `target/`, `$HOME` (but those files), cargo's credentials,
/// other submissions and the gradebook are out of reach.
pub fn build_policy(
    workspace: &Path,
    toolchain: &[PathBuf],
    cargo_home: &Path,
    writable: &[&Path],
) -> Policy {
    let mut read =
        vec![workspace.to_path_buf(), PathBuf::from("/etc/ld.so.cache"), PathBuf::from("/dev/urandom")];
    read.extend(["registry", "git", "config.toml", "config"].map(|p| cargo_home.join(p)));
    let configs = workspace
        .ancestors()
        .skip(1)
        .flat_map(|a| ["config.toml", "config"].map(|c| a.join(".cargo").join(c)));
    read.extend(configs.filter(|c| c.is_file()));
    let mut exec: Vec<PathBuf> = toolchain.to_vec();
    exec.extend(["/usr", "/bin", "/lib", "/lib64", "/lib32"].map(PathBuf::from));
    let mut write: Vec<PathBuf> = writable.iter().map(|p| p.to_path_buf()).collect();
    write.push(PathBuf::from("/dev/null"));
    Policy {
        read,
        exec,
        write,
        required: false,
        protect_pids: grader_pids(),
        layers: Layers::ALL,
        build: true,
    }
}

/// The grader's pid, process group and threads, which no sandboxed program
/// may signal (the supervisor adds its own pid). Where Landlock scopes
/// signals this is a second wall; where it cannot, the only one: threads
/// the grader starts later, and other runs, are not on it.
fn grader_pids() -> Vec<i32> {
    let mut pids = vec![std::process::id() as i32, nix::unistd::getpgrp().as_raw()];
    let tasks = std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten();
    pids.extend(tasks.filter_map(|t| t.file_name().to_str()?.parse::<i32>().ok()));
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// A program's whole environment: its directory as `HOME` and `TMPDIR`,
/// and nothing of the grader's (tokens, paths, cargo's variables).
pub fn program_env(dir: &Path) -> Vec<(String, String)> {
    let dir = dir.to_string_lossy().into_owned();
    vec![
        ("PATH".into(), "/usr/bin:/bin".into()),
        ("HOME".into(), dir.clone()),
        ("TMPDIR".into(), dir),
        ("LANG".into(), "C.UTF-8".into()),
    ]
}

/// The ELF interpreter a dynamically linked binary asks for (`PT_INTERP`),
/// which `exec` opens as it opens the binary. 64-bit little-endian ELF only
/// (x86_64, aarch64); anything else: none.
pub fn interpreter(binary: &Path) -> Option<PathBuf> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(binary).ok()?;
    let mut header = [0u8; 64];
    file.read_exact(&mut header).ok()?;
    if &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return None;
    }
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    let (phoff, phentsize, phnum) = (u64_at(&header, 0x20), u16_at(&header, 0x36), u16_at(&header, 0x38));
    if phentsize < 56 {
        return None;
    }
    for i in 0..u64::from(phnum.min(256)) {
        let mut entry = [0u8; 56];
        file.seek(SeekFrom::Start(phoff + i * u64::from(phentsize))).ok()?;
        file.read_exact(&mut entry).ok()?;
        const PT_INTERP: u32 = 3;
        if u32::from_le_bytes(entry[..4].try_into().expect("4 bytes")) == PT_INTERP {
            let (offset, size) = (u64_at(&entry, 8), u64_at(&entry, 32).min(4096));
            let mut name = vec![0u8; size as usize];
            file.seek(SeekFrom::Start(offset)).ok()?;
            file.read_exact(&mut name).ok()?;
            let name = name.split(|&b| b == 0).next()?;
            return Some(PathBuf::from(std::ffi::OsStr::from_bytes(name)));
        }
    }
    None
}

/// Lowers the rlimits to `limits` (never above what is allowed already).
fn set_limits(limits: &Limits, tasks: Option<u64>) -> nix::Result<()> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    const MIB: u64 = 1 << 20;
    // Processes and threads are counted per user, over every process of
    // the user (root's are not counted at all).
    let tasks = tasks.map(|n| (Resource::RLIMIT_NPROC, n));
    let wanted = [
        (Resource::RLIMIT_DATA, limits.memory_mib.saturating_mul(MIB)),
        (Resource::RLIMIT_FSIZE, limits.file_size_mib.saturating_mul(MIB)),
        (Resource::RLIMIT_CPU, limits.cpu_seconds),
        (Resource::RLIMIT_NOFILE, limits.open_files),
        (Resource::RLIMIT_CORE, 0),
    ];
    for (resource, value) in wanted.into_iter().chain(tasks) {
        let (_, hard) = getrlimit(resource)?;
        let value = value.min(hard);
        // CPU: SIGXCPU at the soft limit, SIGKILL a second later.
        let hard_wanted =
            if resource == Resource::RLIMIT_CPU { value.saturating_add(1).min(hard) } else { value };
        setrlimit(resource, value, hard_wanted)?;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
pub use linux::{FORBIDDEN, forbidden_call};

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::BTreeMap;
    use std::path::Path;

    use anyhow::{Context, Result};
    use caps::CapSet;
    use landlock::{
        ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, LandlockStatus, PathBeneath, PathFd,
        RulesetAttr, RulesetCreated, RulesetCreatedAttr, RulesetStatus, Scope,
    };
    use nix::libc;
    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };

    use super::{Forbidden, Guard, Level, Policy, Protection, TRACE_COPY, TRACE_FORBIDDEN, TRACE_WRITE};

    /// The newest Landlock ABI whose rights this sandbox asks for: files
    /// (with truncate, ABI 3, and device ioctls, ABI 5), TCP (ABI 4),
    /// signal and abstract-socket scoping (ABI 6).
    const ABI_USED: ABI = ABI::V6;

    const fn f(nr: i64, name: &'static str, why: &'static str) -> (i64, Forbidden) {
        (nr, Forbidden { name, why })
    }

    const ESCAPE: &str = "to create a process the witness cannot see, or a namespace";
    const MOUNT: &str = "to mount a file system";
    const URING: &str = "to make system calls the filter cannot see";
    const KEYS: &str = "to use the kernel's keyrings";
    const MODULE: &str = "to load a kernel module";
    const HANDLE: &str = "to open a file by handle, around the file rules";
    const LIMIT: &str = "to change its limits";
    const SIGNAL: &str = "to signal the grader or every process";
    const REACH: &str = "to reach a socket outside the run";
    const IPC: &str = "to use System V shared memory or queues, which outlive the run";
    const WATCH: &str = "to watch files outside the run";

    /// The system calls a run of these exercises never makes and an
    /// attacker would (some only with the arguments `conditions` names):
    /// the witness stops the run and names the call; untraced, it fails.
    pub const FORBIDDEN: &[(i64, Forbidden)] = &[
        f(libc::SYS_clone, "clone", ESCAPE),
        f(libc::SYS_ptrace, "ptrace", "to trace another process"),
        f(libc::SYS_process_vm_readv, "process_vm_readv", "to read another process's memory"),
        f(libc::SYS_process_vm_writev, "process_vm_writev", "to write another process's memory"),
        f(libc::SYS_pidfd_getfd, "pidfd_getfd", "to take another process's files"),
        f(libc::SYS_socket, "socket", "to use the network"),
        f(libc::SYS_connect, "connect", REACH),
        f(libc::SYS_sendto, "sendto", REACH),
        f(libc::SYS_sendmsg, "sendmsg", REACH),
        f(libc::SYS_sendmmsg, "sendmmsg", REACH),
        f(libc::SYS_unshare, "unshare", "to enter a new namespace"),
        f(libc::SYS_setns, "setns", "to enter another namespace"),
        f(libc::SYS_mount, "mount", MOUNT),
        f(libc::SYS_umount2, "umount2", MOUNT),
        f(libc::SYS_pivot_root, "pivot_root", MOUNT),
        f(libc::SYS_chroot, "chroot", "to change the root directory"),
        f(libc::SYS_open_tree, "open_tree", MOUNT),
        f(libc::SYS_move_mount, "move_mount", MOUNT),
        f(libc::SYS_fsopen, "fsopen", MOUNT),
        f(libc::SYS_fsmount, "fsmount", MOUNT),
        f(libc::SYS_bpf, "bpf", "to load a kernel program"),
        f(libc::SYS_perf_event_open, "perf_event_open", "to watch other processes"),
        f(libc::SYS_userfaultfd, "userfaultfd", "to stall the kernel"),
        f(libc::SYS_io_uring_setup, "io_uring_setup", URING),
        f(libc::SYS_io_uring_enter, "io_uring_enter", URING),
        f(libc::SYS_io_uring_register, "io_uring_register", URING),
        f(libc::SYS_keyctl, "keyctl", KEYS),
        f(libc::SYS_add_key, "add_key", KEYS),
        f(libc::SYS_request_key, "request_key", KEYS),
        f(libc::SYS_kexec_load, "kexec_load", "to replace the kernel"),
        f(libc::SYS_init_module, "init_module", MODULE),
        f(libc::SYS_finit_module, "finit_module", MODULE),
        f(libc::SYS_delete_module, "delete_module", MODULE),
        f(libc::SYS_reboot, "reboot", "to reboot the machine"),
        f(libc::SYS_open_by_handle_at, "open_by_handle_at", HANDLE),
        f(libc::SYS_name_to_handle_at, "name_to_handle_at", HANDLE),
        f(libc::SYS_setrlimit, "setrlimit", LIMIT),
        f(libc::SYS_prlimit64, "prlimit64", LIMIT),
        f(libc::SYS_kill, "kill", SIGNAL),
        f(libc::SYS_tkill, "tkill", SIGNAL),
        f(libc::SYS_tgkill, "tgkill", SIGNAL),
        f(libc::SYS_rt_sigqueueinfo, "rt_sigqueueinfo", SIGNAL),
        f(libc::SYS_rt_tgsigqueueinfo, "rt_tgsigqueueinfo", SIGNAL),
        f(libc::SYS_pidfd_open, "pidfd_open", SIGNAL),
        f(libc::SYS_pidfd_send_signal, "pidfd_send_signal", "to signal another process"),
        f(libc::SYS_fcntl, "fcntl", "to have the kernel signal the grader (F_SETOWN)"),
        f(libc::SYS_ioctl, "ioctl", "to type into the grader's terminal (TIOCSTI)"),
        f(libc::SYS_memfd_create, "memfd_create", "to hold memory no limit sees, or run code no rule sees"),
        f(libc::SYS_execveat, "execveat", "to run a program from a descriptor, around the file rules"),
        f(libc::SYS_shmget, "shmget", IPC),
        f(libc::SYS_shmat, "shmat", IPC),
        f(libc::SYS_shmctl, "shmctl", IPC),
        f(libc::SYS_msgget, "msgget", IPC),
        f(libc::SYS_msgsnd, "msgsnd", IPC),
        f(libc::SYS_msgrcv, "msgrcv", IPC),
        f(libc::SYS_msgctl, "msgctl", IPC),
        f(libc::SYS_semget, "semget", IPC),
        f(libc::SYS_semop, "semop", IPC),
        f(libc::SYS_semtimedop, "semtimedop", IPC),
        f(libc::SYS_semctl, "semctl", IPC),
        f(libc::SYS_mq_open, "mq_open", IPC),
        f(libc::SYS_inotify_init1, "inotify_init1", WATCH),
        #[cfg(target_arch = "x86_64")]
        f(libc::SYS_inotify_init, "inotify_init", WATCH),
        f(libc::SYS_fanotify_init, "fanotify_init", WATCH),
    ];

    /// Calls that change a file's metadata, which Landlock does not guard:
    /// a program owns every file its user owns (all of them, for root), so
    /// these fail quietly (`EPERM`) rather than stop the run, since a
    /// student's `fs::copy` in its own directory could make one; and memory
    /// protection keys.
    const REFUSED: &[i64] = &[
        // Memory protection keys: a buffer a program's own write cannot
        // read (EFAULT) but the witness, from outside, can: a write noted
        // that never lands. Nothing here needs them.
        libc::SYS_pkey_alloc,
        libc::SYS_pkey_mprotect,
        libc::SYS_fchmod,
        libc::SYS_fchmodat,
        libc::SYS_fchmodat2,
        libc::SYS_fchown,
        libc::SYS_fchownat,
        libc::SYS_utimensat,
        libc::SYS_setxattr,
        libc::SYS_lsetxattr,
        libc::SYS_fsetxattr,
        libc::SYS_removexattr,
        libc::SYS_lremovexattr,
        libc::SYS_fremovexattr,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_chmod,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_chown,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_lchown,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_utime,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_utimes,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_futimesat,
    ];

    /// The name and meaning of a forbidden call, by number.
    pub fn forbidden_call(nr: i64) -> Option<&'static Forbidden> {
        FORBIDDEN.iter().find(|(n, _)| *n == nr).map(|(_, f)| f)
    }

    /// The conditions (any of which) under which `nr` is refused; empty:
    /// always.
    fn conditions(nr: i64, protect: &[i32]) -> Result<Vec<SeccompRule>> {
        let rule = |index: u8, len: SeccompCmpArgLen, op: SeccompCmpOp, value: u64| -> Result<SeccompRule> {
            Ok(SeccompRule::new(vec![SeccompCondition::new(index, len, op, value)?])?)
        };
        let bit = |flag: u64| rule(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(flag), flag);
        // A pid argument is an `int`: compare its low 32 bits.
        let pid = |value: i32| rule(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, u64::from(value as u32));
        let targets = || -> Result<Vec<SeccompRule>> { protected(protect).into_iter().map(pid).collect() };
        Ok(match nr {
            libc::SYS_clone => [
                libc::CLONE_UNTRACED,
                libc::CLONE_NEWNS,
                libc::CLONE_NEWUTS,
                libc::CLONE_NEWIPC,
                libc::CLONE_NEWUSER,
                libc::CLONE_NEWPID,
                libc::CLONE_NEWNET,
                libc::CLONE_NEWCGROUP,
            ]
            .into_iter()
            .map(|flag| bit(flag as u32 as u64))
            .collect::<Result<_>>()?,
            // Reading a limit is fine; setting one is not.
            libc::SYS_prlimit64 => vec![rule(2, SeccompCmpArgLen::Qword, SeccompCmpOp::Ne, 0)?],
            libc::SYS_kill
            | libc::SYS_tkill
            | libc::SYS_tgkill
            | libc::SYS_rt_sigqueueinfo
            | libc::SYS_rt_tgsigqueueinfo
            | libc::SYS_pidfd_open => targets()?,
            // SIGIO to a process of the grader's when the file is ready;
            // F_SETOWN_EX hides its target in memory: refused whole.
            libc::SYS_fcntl => {
                const F_SETOWN_EX: u64 = 15; // linux/fcntl.h; not in the libc crate
                let mut rules = vec![rule(1, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, F_SETOWN_EX)?];
                for p in protected(protect) {
                    rules.push(SeccompRule::new(vec![
                        SeccompCondition::new(
                            1,
                            SeccompCmpArgLen::Dword,
                            SeccompCmpOp::Eq,
                            libc::F_SETOWN as u64,
                        )?,
                        SeccompCondition::new(
                            2,
                            SeccompCmpArgLen::Dword,
                            SeccompCmpOp::Eq,
                            u64::from(p as u32),
                        )?,
                    ])?);
                }
                rules
            }
            libc::SYS_ioctl => vec![rule(1, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, libc::TIOCSTI)?],
            // A socketpair may send to its other end; not to an address.
            libc::SYS_sendto => vec![rule(4, SeccompCmpArgLen::Qword, SeccompCmpOp::Ne, 0)?],
            _ => Vec::new(),
        })
    }

    /// The calls that write to a program's fd 1, each with the argument
    /// that names the descriptor written to: the witness sees who wrote
    /// each line of the output ([`TRACE_WRITE`]). Only fd 1: the filter
    /// cannot see what a descriptor is, so a copy of it (`dup`) or a
    /// reopening goes unseen, and the lines written through it are said to
    /// have no writer the witness saw.
    fn writes() -> Result<BTreeMap<i64, Vec<SeccompRule>>> {
        let fd1 = |index: u8| -> Result<Vec<SeccompRule>> {
            Ok(vec![SeccompRule::new(vec![SeccompCondition::new(
                index,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Eq,
                1,
            )?])?])
        };
        Ok([
            (libc::SYS_write, fd1(0)?),
            (libc::SYS_writev, fd1(0)?),
            (libc::SYS_pwrite64, fd1(0)?),
            (libc::SYS_pwritev, fd1(0)?),
            (libc::SYS_pwritev2, fd1(0)?),
            (libc::SYS_sendfile, fd1(0)?),
            (libc::SYS_vmsplice, fd1(0)?),
            (libc::SYS_tee, fd1(1)?),
            (libc::SYS_splice, fd1(2)?),
            (libc::SYS_copy_file_range, fd1(2)?),
        ]
        .into())
    }

    /// The calls that copy fd 1 to another descriptor: `dup`, `dup2`,
    /// `dup3` and `fcntl(F_DUPFD)` of fd 1. (A copy of a copy is made by a
    /// process the witness already watches call by call, and so is one a
    /// child inherits.)
    fn copies() -> Result<BTreeMap<i64, Vec<SeccompRule>>> {
        let of_fd1 = |more: Option<u64>| -> Result<SeccompRule> {
            let mut conditions =
                vec![SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, 1)?];
            if let Some(command) = more {
                conditions.push(SeccompCondition::new(
                    1,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::Eq,
                    command,
                )?);
            }
            Ok(SeccompRule::new(conditions)?)
        };
        let mut calls: BTreeMap<i64, Vec<SeccompRule>> = [
            (libc::SYS_dup, vec![of_fd1(None)?]),
            (libc::SYS_dup3, vec![of_fd1(None)?]),
            (
                libc::SYS_fcntl,
                vec![of_fd1(Some(libc::F_DUPFD as u64))?, of_fd1(Some(libc::F_DUPFD_CLOEXEC as u64))?],
            ),
        ]
        .into();
        #[cfg(target_arch = "x86_64")]
        calls.insert(libc::SYS_dup2, vec![of_fd1(None)?]);
        Ok(calls)
    }

    /// Every process and process group a program may not signal: the
    /// grader's (as pids and as groups), and all (-1).
    fn protected(protect: &[i32]) -> Vec<i32> {
        std::iter::once(-1).chain(protect.iter().flat_map(|&p| [p, -p])).collect()
    }

    /// The filters: `clone3` answers ENOSYS (the C library then uses
    /// `clone`); the forbidden calls stop at the tracer when there is one
    /// (which stops the run), and answer ENOSYS when there is none.
    fn filters(protect: &[i32], build: bool, traced: bool) -> Result<Vec<BpfProgram>> {
        let arch = TargetArch::try_from(std::env::consts::ARCH).context("seccomp on this architecture")?;
        let clone3: BTreeMap<i64, Vec<SeccompRule>> = [(libc::SYS_clone3, Vec::new())].into();
        let forbidden: BTreeMap<i64, Vec<SeccompRule>> =
            FORBIDDEN.iter().map(|(nr, _)| Ok((*nr, conditions(*nr, protect)?))).collect::<Result<_>>()?;
        let compile = |rules, action| -> Result<BpfProgram> {
            Ok(SeccompFilter::new(rules, SeccompAction::Allow, action, arch)?.try_into()?)
        };
        let mut filters = vec![
            compile(clone3, SeccompAction::Errno(libc::ENOSYS as u32))?,
            compile(forbidden, SeccompAction::Trace(TRACE_FORBIDDEN.into()))?,
        ];
        // Cargo and rustc set the modes of what they write; a student's
        // program has no need to.
        if !build {
            let mut refused: BTreeMap<i64, Vec<SeccompRule>> =
                REFUSED.iter().map(|&nr| (nr, Vec::new())).collect();
            // Pipes keep their size (64 KiB): a pool that deadlocks once its
            // pipes are full must not pass Q5's large input by making them
            // larger (up to 1 MiB each) instead of reading its results.
            refused.insert(
                libc::SYS_fcntl,
                vec![SeccompRule::new(vec![SeccompCondition::new(
                    1,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::Eq,
                    libc::F_SETPIPE_SZ as u64,
                )?])?],
            );
            filters.push(compile(refused, SeccompAction::Errno(libc::EPERM as u32))?);
        }
        // Only with a tracer: without one, a traced call fails (ENOSYS).
        if traced && !build {
            let compile_data = |rules, data| -> Result<BpfProgram> {
                Ok(SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Trace(data), arch)?
                    .try_into()?)
            };
            filters.push(compile_data(writes()?, TRACE_WRITE.into())?);
            filters.push(compile_data(copies()?, TRACE_COPY.into())?);
        }
        filters.extend(x32_filter());
        Ok(filters)
    }

    /// seccompiler matches system call numbers exactly, and the x32 ABI's
    /// (the same numbers with bit 30 set, under the same architecture)
    /// would pass every rule: where a kernel has x32, all of them answer
    /// ENOSYS. Written out because the crate has no way to say it.
    #[cfg(target_arch = "x86_64")]
    fn x32_filter() -> Option<BpfProgram> {
        use seccompiler::sock_filter;
        const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
        const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
        const JSET_K: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
        const RET_K: u16 = 0x06; // BPF_RET | BPF_K
        const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
        const X32_SYSCALL_BIT: u32 = 0x4000_0000;
        let at = |code, jt, jf, k| sock_filter { code, jt, jf, k };
        Some(vec![
            at(LD_W_ABS, 0, 0, 4),              // seccomp_data.arch
            at(JEQ_K, 0, 3, AUDIT_ARCH_X86_64), // another architecture: allow
            at(LD_W_ABS, 0, 0, 0),              // seccomp_data.nr
            at(JSET_K, 0, 1, X32_SYSCALL_BIT),  // x32: refuse
            at(RET_K, 0, 0, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
            at(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
        ])
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn x32_filter() -> Option<BpfProgram> {
        None
    }

    #[derive(Debug)]
    pub struct Inner {
        ruleset: Option<RulesetCreated>,
        landlock: bool,
        filters: Vec<BpfProgram>,
        drop_caps: bool,
    }

    impl Inner {
        pub fn new(policy: Option<&Policy>, traced: bool) -> Result<Inner> {
            let Some(policy) = policy else {
                return Ok(Inner { ruleset: None, landlock: false, filters: Vec::new(), drop_caps: false });
            };
            let drop_caps = caps::read(None, CapSet::Permitted).is_ok_and(|set| !set.is_empty());
            Ok(Inner {
                ruleset: Some(ruleset(policy)?),
                landlock: policy.layers.landlock,
                filters: if policy.layers.seccomp {
                    filters(&policy.protect_pids, policy.build, traced)?
                } else {
                    Vec::new()
                },
                drop_caps,
            })
        }

        /// Writes [capabilities, landlock status, landlock ABI, seccomp]
        /// into `status`.
        pub fn enter(&mut self, status: &mut [u8]) {
            let Some(ruleset) = self.ruleset.take() else {
                return;
            };
            status[0] = if !self.drop_caps {
                2
            } else if !nix::unistd::geteuid().is_root() {
                // Root switched to a user of the run's own: the kernel
                // cleared the capabilities with the change of user.
                3
            } else {
                u8::from(drop_capabilities().is_ok())
            };
            if self.landlock
                && let Ok(got) = ruleset.restrict_self()
            {
                status[1] = match got.ruleset {
                    RulesetStatus::FullyEnforced => 2,
                    RulesetStatus::PartiallyEnforced => 1,
                    _ => 0,
                };
                status[2] = match got.landlock {
                    LandlockStatus::Available { effective_abi, .. } => effective_abi as u8,
                    _ => 0,
                };
            }
            status[3] = u8::from(
                !self.filters.is_empty() && self.filters.iter().all(|f| seccompiler::apply_filter(f).is_ok()),
            );
        }
    }

    /// Drops every capability: bounding set, ambient, then the rest.
    fn drop_capabilities() -> Result<(), caps::errors::CapsError> {
        caps::clear(None, CapSet::Ambient)?;
        caps::clear(None, CapSet::Bounding)?;
        caps::clear(None, CapSet::Inheritable)?;
        caps::clear(None, CapSet::Effective)?;
        caps::clear(None, CapSet::Permitted)
    }

    /// The Landlock ruleset of `policy`, opened (paths that do not exist
    /// are left out: nothing is granted there).
    fn ruleset(policy: &Policy) -> Result<RulesetCreated> {
        let abi = ABI_USED;
        let mut ruleset = landlock::Ruleset::default()
            .set_compatibility(CompatLevel::BestEffort)
            .handle_access(AccessFs::from_all(abi))?
            .handle_access(AccessNet::from_all(abi))?
            .scope(Scope::from_all(abi))?
            .create()?;
        let read = AccessFs::from_read(abi) & !AccessFs::Execute;
        let exec = AccessFs::from_read(abi);
        let write = AccessFs::from_all(abi) & !AccessFs::Execute;
        for (paths, access) in [(&policy.read, read), (&policy.exec, exec), (&policy.write, write)] {
            for path in paths {
                let Ok(fd) = PathFd::new(path) else { continue };
                let access = if is_dir(path) { access } else { access & AccessFs::from_file(abi) };
                ruleset = ruleset.add_rule(PathBeneath::new(fd, access))?;
            }
        }
        Ok(ruleset)
    }

    fn is_dir(path: &Path) -> bool {
        std::fs::metadata(path).is_ok_and(|m| m.is_dir())
    }

    /// The protections the child's report shows, for a start under `policy`.
    pub fn protections(policy: Option<&Policy>, report: &[u8]) -> Vec<Protection> {
        let got = |i: usize| report.get(i).copied().unwrap_or(0);
        let (caps, ruleset, abi, seccomp) = (got(0), got(1), got(2), got(3) == 1);
        let p = |guard, level, detail: String| Protection { guard, level, detail };
        let Some(policy) = policy else {
            return [Guard::Files, Guard::Network, Guard::Signals, Guard::Syscalls, Guard::Privileges]
                .map(|g| p(g, Level::Off, "not sandboxed (the grader's own step)".into()))
                .into();
        };
        let landlock = if !policy.layers.landlock {
            "Landlock was turned off".to_string()
        } else if ruleset == 0 || abi == 0 {
            "Landlock is not available on this kernel (needs Linux 5.13 with Landlock enabled)".to_string()
        } else {
            format!("Landlock ABI {abi}")
        };
        let files = match abi {
            0 => p(Guard::Files, Level::Off, landlock.clone()),
            1 | 2 => p(
                Guard::Files,
                Level::Partial,
                format!(
                    "{landlock}: truncating files outside the run is not stopped (needs ABI 3, Linux 6.2)"
                ),
            ),
            _ => p(
                Guard::Files,
                Level::Full,
                format!("{landlock}: it may write only its own directory (a build: its target directory)"),
            ),
        };
        let network = match (seccomp, abi >= 4) {
            (true, _) => p(Guard::Network, Level::Full, "seccomp: no sockets".into()),
            (false, true) => p(Guard::Network, Level::Full, format!("{landlock}: no TCP")),
            (false, false) => {
                p(Guard::Network, Level::Off, "needs seccomp, or Landlock ABI 4 (Linux 6.7)".into())
            }
        };
        let signals = match (abi >= 6, seccomp) {
            (true, _) => p(Guard::Signals, Level::Full, format!("{landlock}: signals scoped to the run")),
            (false, true) => p(
                Guard::Signals,
                Level::Partial,
                "seccomp keeps signals from the grader and this run's supervisor, not from other runs of a batch (needs Landlock ABI 6, Linux 6.12)".into(),
            ),
            (false, false) => p(Guard::Signals, Level::Off, "needs Landlock ABI 6 (Linux 6.12)".into()),
        };
        let syscalls = match (seccomp, policy.layers.seccomp) {
            (true, _) => p(Guard::Syscalls, Level::Full, "seccomp filter".into()),
            (false, true) => {
                p(Guard::Syscalls, Level::Off, "the seccomp filters could not be installed".into())
            }
            (false, false) => p(Guard::Syscalls, Level::Off, "seccomp was turned off".into()),
        };
        let privileges = match caps {
            1 => p(Guard::Privileges, Level::Full, "root's capabilities dropped".into()),
            3 => p(Guard::Privileges, Level::Full, "run as a user of its own, not root's".into()),
            2 => p(Guard::Privileges, Level::Full, "not run as root".into()),
            _ => p(Guard::Privileges, Level::Off, "root's capabilities could not be dropped".into()),
        };
        vec![files, network, signals, syscalls, privileges]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_interpreter_of_a_dynamic_binary() {
        let me = std::env::current_exe().unwrap();
        let found = interpreter(&me);
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            let found = found.expect("a glibc binary has an interpreter");
            assert!(found.to_string_lossy().contains("ld-linux"), "{}", found.display());
            assert!(found.exists());
        }
        assert_eq!(interpreter(Path::new("/dev/null")), None);
    }
}
