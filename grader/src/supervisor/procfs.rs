//! What `/proc` says about the processes below the supervisor: who they
//! are, which state they are in, how much memory they hold. Linux only;
//! elsewhere nothing can be seen and every function answers "nothing".
//!
//! The supervisor is a child subreaper, so everything the program starts
//! stays below it, even after its parent exits: walking down from the
//! supervisor finds all of it.

use std::collections::HashSet;

/// A process below the supervisor.
#[derive(Debug, Clone)]
pub struct ProcInfo {
    pub pid: i32,
    pub name: String,
    /// 'R', 'S', 'Z' (a zombie: exited, not reaped), 'X' (dying), ...
    pub state: char,
}

/// Every process below this one (children, their children, ...).
pub fn descendants() -> Vec<ProcInfo> {
    let me = std::process::id() as i32;
    let pids = match children_of(me) {
        Some(first) => walk_children(first),
        // Kernels without CONFIG_PROC_CHILDREN: read every process's parent.
        None => scan_all(me),
    };
    pids.into_iter().filter_map(info).collect()
}

/// Follows `/proc/<pid>/task/<tid>/children` down from `first`.
fn walk_children(first: Vec<i32>) -> Vec<i32> {
    let mut seen = HashSet::new();
    let mut queue = first;
    let mut found = Vec::new();
    while let Some(pid) = queue.pop() {
        if seen.insert(pid) {
            found.push(pid);
            queue.extend(children_of(pid).unwrap_or_default());
        }
    }
    found
}

/// The children of every thread of `pid`; `None` if the kernel has no
/// `children` files.
fn children_of(pid: i32) -> Option<Vec<i32>> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut children = Vec::new();
    let mut any = false;
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            any = true;
            children.extend(text.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    // A process that exited between the two reads has no tasks left.
    (any || !std::path::Path::new(&format!("/proc/{pid}")).exists()).then_some(children)
}

/// Every process whose chain of parents leads to `root`.
fn scan_all(root: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut parents: Vec<(i32, i32)> = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if let Some(ppid) = stat(pid).and_then(|(_, _, ppid)| ppid) {
            parents.push((pid, ppid));
        }
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        for &(pid, _) in parents.iter().filter(|(_, ppid)| *ppid == parent) {
            if !found.contains(&pid) {
                found.push(pid);
                queue.push(pid);
            }
        }
    }
    found
}

fn info(pid: i32) -> Option<ProcInfo> {
    let (name, state, _) = stat(pid)?;
    Some(ProcInfo { pid, name, state })
}

/// Name, state and parent from `/proc/<pid>/stat`. Read as bytes: a
/// process may name itself anything (`prctl(PR_SET_NAME)`), bytes that are
/// not UTF-8 included, and must not vanish from view for it.
fn stat(pid: i32) -> Option<(String, char, Option<i32>)> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    // The name is in parentheses and may itself contain spaces or ')'.
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let name = shown(&String::from_utf8_lossy(&stat[open + 1..close]));
    let rest = String::from_utf8_lossy(&stat[close + 1..]);
    let mut rest = rest.split_whitespace();
    let state = rest.next().and_then(|s| s.chars().next()).unwrap_or('?');
    let ppid = rest.next().and_then(|s| s.parse::<i32>().ok());
    Some((name, state, ppid))
}

/// The parent (thread group) of `pid`.
pub fn parent_of(pid: i32) -> Option<i32> {
    stat(pid).and_then(|(_, _, ppid)| ppid)
}

/// Whether the process `pid` is waiting: every thread of it blocked in the
/// kernel (state S or D), and none of them merely sleeping (see
/// [`sleeping`]): a parent blocked in `waitpid`, in a `read` of its
/// children's pipe, in a `vfork`, or joining threads that do so.
/// A thread stopped by the tracer (`t`) or runnable (`R`) is not waiting.
pub fn waiting(pid: i32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    let mut any = false;
    for task in tasks.flatten() {
        any = true;
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse::<i32>().ok()) else {
            return false;
        };
        let state = std::fs::read(task.path().join("stat")).ok().and_then(|stat| {
            let close = stat.iter().rposition(|&b| b == b')')?;
            stat.get(close + 2).copied()
        });
        if !matches!(state, Some(b'S' | b'D')) || sleeping(pid, tid) {
            return false;
        }
    }
    any
}

/// Whether the thread `tid` of `pid` is blocked in a sleep: a call that
/// only sleeps, or any call that would return after a timeout (a `poll`, a
/// `select`, an `epoll_wait` or a futex wait with one): a parent that waits
/// a while for its children instead of waiting for them. Read from its
/// `/proc/…/syscall`: the call's number, then its arguments, in hex.
fn sleeping(pid: i32, tid: i32) -> bool {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/syscall")) else {
        return false;
    };
    let mut fields = text.split_whitespace();
    let Some(number) = fields.next().and_then(|n| n.parse::<std::ffi::c_long>().ok()) else {
        return false;
    };
    let args: Vec<u64> =
        fields.take(6).filter_map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok()).collect();
    let arg = |i: usize| args.get(i).copied().unwrap_or(0);
    timed_out(number, arg)
}

/// Whether the call `number`, with these arguments, only sleeps or has a
/// timeout.
#[cfg(target_os = "linux")]
fn timed_out(number: std::ffi::c_long, arg: impl Fn(usize) -> u64) -> bool {
    use nix::libc;
    // An `int` timeout of -1 is "for ever"; a null timeout pointer too.
    let finite = |i: usize| arg(i) as i32 != -1;
    let given = |i: usize| arg(i) != 0;
    #[cfg(target_arch = "x86_64")]
    match number {
        libc::SYS_pause => return true,
        libc::SYS_poll => return finite(2),
        libc::SYS_select => return given(4),
        libc::SYS_epoll_wait => return finite(3),
        _ => {}
    }
    match number {
        libc::SYS_nanosleep | libc::SYS_clock_nanosleep => true,
        libc::SYS_ppoll => given(2),
        libc::SYS_pselect6 => given(4),
        libc::SYS_epoll_pwait => finite(3),
        libc::SYS_epoll_pwait2 => given(3),
        libc::SYS_futex => {
            let op = arg(1) as i32 & libc::FUTEX_CMD_MASK;
            matches!(op, libc::FUTEX_WAIT | libc::FUTEX_WAIT_BITSET) && given(3)
        }
        _ => false,
    }
}

#[cfg(not(target_os = "linux"))]
fn timed_out(_number: std::ffi::c_long, _arg: impl Fn(usize) -> u64) -> bool {
    false
}

/// The processes and threads of user `uid` on the machine, as the kernel
/// counts them against `RLIMIT_NPROC`.
pub fn tasks_of(uid: u32) -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())))
        .filter(|e| e.metadata().is_ok_and(|m| m.uid() == uid))
        .map(|e| {
            // num_threads: the 20th field, the 18th after the name.
            let stat = std::fs::read(e.path().join("stat")).unwrap_or_default();
            let after = stat.iter().rposition(|&b| b == b')').map_or(&stat[..0], |i| &stat[i + 1..]);
            String::from_utf8_lossy(after)
                .split_whitespace()
                .nth(17)
                .and_then(|n| n.parse().ok())
                .unwrap_or(1)
        })
        .sum()
}

/// Resident memory of these processes together, in bytes.
pub fn resident_bytes(processes: &[ProcInfo]) -> u64 {
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().unwrap_or(4096) as u64;
    processes
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{}/statm", p.pid)).ok())
        .filter_map(|statm| statm.split_whitespace().nth(1).and_then(|r| r.parse::<u64>().ok()))
        .sum::<u64>()
        * page
}

/// The regular files these processes hold open that no longer have a name
/// (deleted while open): disk, or memory on a tmpfs, that no directory
/// listing shows.
pub fn unlinked_files(processes: &[ProcInfo]) -> Vec<std::fs::Metadata> {
    use std::os::unix::fs::MetadataExt;
    processes
        .iter()
        .filter_map(|p| std::fs::read_dir(format!("/proc/{}/fd", p.pid)).ok())
        .flat_map(|fds| fds.flatten())
        .filter_map(|fd| std::fs::metadata(fd.path()).ok())
        .filter(|meta| meta.is_file() && meta.nlink() == 0)
        .collect()
}

/// The process (thread group) a task belongs to (read as bytes: its name,
/// on the first line, is the program's to choose).
pub fn tgid_of(task: i32) -> Option<i32> {
    let status = std::fs::read(format!("/proc/{task}/status")).ok()?;
    let status = String::from_utf8_lossy(&status);
    status.lines().find_map(|l| l.strip_prefix("Tgid:")).and_then(|v| v.trim().parse().ok())
}

/// The file name of the executable `pid` runs, as it may be shown.
/// What `/proc/<pid>/fdinfo/<fd>` says of a descriptor: which file (its
/// inode, on which mount: every pipe is on the one `pipefs` mount) and how
/// it is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdInfo {
    pub flags: u32,
    pub mnt_id: u64,
    pub ino: u64,
}

#[cfg(target_os = "linux")]
impl FdInfo {
    /// Open for writing (not read-only, and not a mere `O_PATH` handle,
    /// on which every write fails).
    pub fn writable(&self) -> bool {
        let access = self.flags & nix::libc::O_ACCMODE as u32;
        self.flags & nix::libc::O_PATH as u32 == 0 && access != nix::libc::O_RDONLY as u32
    }

    /// Open for reading.
    pub fn readable(&self) -> bool {
        let access = self.flags & nix::libc::O_ACCMODE as u32;
        self.flags & nix::libc::O_PATH as u32 == 0 && access != nix::libc::O_WRONLY as u32
    }

    /// The same file as `other`'s.
    pub fn same_file(&self, other: &FdInfo) -> bool {
        (self.mnt_id, self.ino) == (other.mnt_id, other.ino)
    }
}

/// Descriptor `fd` of task `task` (a process, or a thread).
pub fn fd_info(task: i32, fd: i32) -> Option<FdInfo> {
    let text = std::fs::read_to_string(format!("/proc/{task}/fdinfo/{fd}")).ok()?;
    let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
    Some(FdInfo {
        flags: u32::from_str_radix(field("flags:")?, 8).ok()?,
        mnt_id: field("mnt_id:")?.parse().ok()?,
        ino: field("ino:")?.parse().ok()?,
    })
}

/// Of `processes`, those that hold `file` open for reading.
#[cfg(target_os = "linux")]
pub fn readers(processes: impl IntoIterator<Item = i32>, file: &FdInfo) -> Vec<i32> {
    processes
        .into_iter()
        .filter(|&pid| {
            let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
            fds.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
                .any(|fd| fd_info(pid, fd).is_some_and(|info| info.same_file(file) && info.readable()))
        })
        .collect()
}

/// The bytes at `ranges` (address, length) of `task`'s memory, at most
/// `room` of them; `None` if they cannot all be read.
#[cfg(target_os = "linux")]
pub fn read_memory(task: i32, ranges: &[(u64, u64)], room: usize) -> Option<Vec<u8>> {
    use nix::sys::uio::{RemoteIoVec, process_vm_readv};
    // Lengths are the program's to choose: added without overflow.
    let total = ranges.iter().try_fold(0u64, |sum, r| sum.checked_add(r.1))?;
    if total > room as u64 {
        return None;
    }
    let mut bytes = vec![0u8; total as usize];
    let remote: Vec<RemoteIoVec> =
        ranges.iter().map(|&(base, len)| RemoteIoVec { base: base as usize, len: len as usize }).collect();
    // One call for all of it (the kernel takes up to 1024 ranges).
    let read = process_vm_readv(
        nix::unistd::Pid::from_raw(task),
        &mut [std::io::IoSliceMut::new(&mut bytes)],
        &remote,
    )
    .ok()?;
    (read as u64 == total).then_some(bytes)
}

/// The bytes a `writev` of `count` buffers described at `iov` would write.
#[cfg(target_os = "linux")]
pub fn read_iovecs(task: i32, iov: u64, count: u64, room: usize) -> Option<Vec<u8>> {
    const IOV_MAX: u64 = 1024;
    if count > IOV_MAX {
        return None;
    }
    let raw = read_memory(task, &[(iov, count * 16)], (IOV_MAX * 16) as usize)?;
    let ranges: Vec<(u64, u64)> = raw
        .chunks_exact(16)
        .map(|c| {
            let word = |b: &[u8]| u64::from_ne_bytes(b.try_into().unwrap_or([0; 8]));
            (word(&c[..8]), word(&c[8..]))
        })
        .collect();
    read_memory(task, &ranges, room)
}

pub fn exe_name(pid: i32) -> Option<String> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    exe.file_name().map(|n| shown(&n.to_string_lossy()))
}

/// Where each of `processes` is (see [`Blocked`]): for each thread, the
/// system call it is blocked in, and for a `read` or `write` on a pipe,
/// which processes hold that pipe's other end. Read before the processes
/// are killed, for a run stopped at its time limit: the clue to a hang.
pub fn blocked(processes: &[ProcInfo]) -> Vec<super::protocol::Blocked> {
    // Who holds each pipe, and which end: (inode, pid, writes).
    let mut ends: Vec<(String, i32, bool)> = Vec::new();
    for p in processes {
        for fd in std::fs::read_dir(format!("/proc/{}/fd", p.pid)).into_iter().flatten().flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else { continue };
            let target = target.to_string_lossy().into_owned();
            if let Some(inode) = target.strip_prefix("pipe:[").and_then(|t| t.strip_suffix(']')) {
                let fdinfo = format!("/proc/{}/fdinfo/{}", p.pid, fd.file_name().to_string_lossy());
                let writes = std::fs::read_to_string(fdinfo).ok().and_then(|info| {
                    let flags = info.lines().find_map(|l| l.strip_prefix("flags:"))?.trim().to_string();
                    u32::from_str_radix(&flags, 8).ok()
                });
                let writes = writes.is_some_and(|f| f & 0b11 == nix::libc::O_WRONLY as u32);
                if !ends.iter().any(|(i, pid, w)| i == inode && *pid == p.pid && *w == writes) {
                    ends.push((inode.to_string(), p.pid, writes));
                }
            }
        }
    }
    let holders = |inode: &str, writes: bool| -> Vec<i32> {
        ends.iter().filter(|(i, _, w)| i == inode && *w == writes).map(|(_, pid, _)| *pid).collect()
    };
    processes
        .iter()
        .map(|p| {
            let mut calls: Vec<String> = Vec::new();
            let tasks = std::fs::read_dir(format!("/proc/{}/task", p.pid)).into_iter().flatten().flatten();
            for task in tasks {
                let call = thread_call(p.pid, &task.file_name().to_string_lossy(), &holders);
                if !calls.contains(&call) {
                    calls.push(call);
                }
            }
            super::protocol::Blocked { pid: p.pid, calls }
        })
        .collect()
}

/// What one thread is doing, in words.
fn thread_call(pid: i32, tid: &str, holders: &dyn Fn(&str, bool) -> Vec<i32>) -> String {
    let dir = format!("/proc/{pid}/task/{tid}");
    let state = std::fs::read(format!("{dir}/stat")).ok().and_then(|stat| {
        let close = stat.iter().rposition(|&b| b == b')')?;
        stat.get(close + 2).copied()
    });
    match state {
        Some(b'R') => return "running, not blocked (a loop that never ends?)".into(),
        Some(b't' | b'T') => return "stopped, held by the grader".into(),
        Some(b'Z' | b'X') => return "exited, never reaped".into(),
        _ => {}
    }
    let Ok(text) = std::fs::read_to_string(format!("{dir}/syscall")) else {
        return "blocked (where, /proc does not say)".into();
    };
    let mut fields = text.split_whitespace();
    let Some(number) = fields.next().and_then(|n| n.parse::<std::ffi::c_long>().ok()) else {
        return "blocked (where, /proc does not say)".into();
    };
    let fd = fields.next().and_then(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok());
    let Some((name, on_fd)) = call_name(number) else {
        return format!("blocked in system call {number}");
    };
    let pipe = fd.filter(|_| on_fd).and_then(|fd| {
        let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
        let target = target.to_string_lossy().into_owned();
        Some(target.strip_prefix("pipe:[")?.strip_suffix(']')?.to_string())
    });
    let Some(inode) = pipe else { return format!("blocked in {name}") };
    let reading = name.starts_with("read");
    let others = holders(&inode, reading);
    let list = |pids: &[i32]| pids.iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
    let end = if reading { "write" } else { "read" };
    let held = match others.as_slice() {
        [] if reading => "no process holds its write end (end-of-file is next)".to_string(),
        [] => "no process holds its read end".to_string(),
        [one] => format!("its {end} end held by process {one}"),
        many => format!("its {end} end held by processes {}", list(many)),
    };
    let own = if reading && others.contains(&pid) {
        " (this process holds the write end itself: until it closes it, end-of-file never comes)"
    } else if !reading {
        " (full: nobody reads it fast enough?)"
    } else {
        ""
    };
    format!("blocked in {name} on pipe {inode}, {held}{own}")
}

/// The name of the system call `number`, and whether its first argument
/// is a file descriptor (`read`, `write`…).
#[cfg(target_os = "linux")]
fn call_name(number: std::ffi::c_long) -> Option<(&'static str, bool)> {
    use nix::libc;
    #[cfg(target_arch = "x86_64")]
    match number {
        libc::SYS_pause => return Some(("pause", false)),
        libc::SYS_poll => return Some(("poll", false)),
        libc::SYS_select => return Some(("select", false)),
        libc::SYS_epoll_wait => return Some(("epoll_wait", false)),
        _ => {}
    }
    Some(match number {
        libc::SYS_read => ("read", true),
        libc::SYS_readv => ("readv", true),
        libc::SYS_pread64 => ("pread", true),
        libc::SYS_write => ("write", true),
        libc::SYS_writev => ("writev", true),
        libc::SYS_pwrite64 => ("pwrite", true),
        libc::SYS_wait4 => ("wait4 (waitpid: waiting for a child to exit)", false),
        libc::SYS_waitid => ("waitid (waiting for a child to exit)", false),
        libc::SYS_futex => ("futex (a lock, a condition, or joining a thread)", false),
        libc::SYS_nanosleep | libc::SYS_clock_nanosleep => ("a sleep", false),
        libc::SYS_ppoll => ("ppoll", false),
        libc::SYS_pselect6 => ("pselect", false),
        libc::SYS_epoll_pwait => ("epoll_pwait", false),
        libc::SYS_accept4 => ("accept", false),
        libc::SYS_flock => ("flock", false),
        _ => return None,
    })
}

#[cfg(not(target_os = "linux"))]
fn call_name(_number: std::ffi::c_long) -> Option<(&'static str, bool)> {
    None
}

/// A name a program chose, on one line: control characters (a newline
/// that would forge a line of the process tree, an escape) as escapes.
fn shown(name: &str) -> String {
    name.chars().flat_map(|c| if c.is_control() { c.escape_default().collect() } else { vec![c] }).collect()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn lengths_that_overflow_are_refused_not_a_panic() {
        let me = std::process::id() as i32;
        let data = [1u8, 2, 3];
        let at = data.as_ptr() as u64;
        assert_eq!(super::read_memory(me, &[(at, u64::MAX), (at, 2)], usize::MAX), None);
        assert_eq!(super::read_memory(me, &[(at, 3)], 16), Some(vec![1, 2, 3]));
    }

    use super::*;

    #[test]
    fn finds_a_child_and_its_memory() {
        let mut child = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        let found = descendants();
        let mine: Vec<ProcInfo> = found.into_iter().filter(|p| p.pid == child.id() as i32).collect();
        let memory = resident_bytes(&mine);
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(mine.len(), 1, "the child is found");
        assert_eq!(mine[0].name, "sleep");
        assert!(memory > 0);
    }

    #[test]
    fn says_where_a_process_is_blocked_and_who_holds_the_other_end() {
        // `cat` reads a pipe whose write end this process keeps open.
        let mut child = std::process::Command::new("cat")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let me = std::process::id() as i32;
        let cat = child.id() as i32;
        let mut said = Vec::new();
        for _ in 0..200 {
            let processes = [info(me).unwrap(), info(cat).unwrap()];
            said = blocked(&processes).into_iter().find(|b| b.pid == cat).unwrap().calls;
            if said.iter().any(|c| c.contains("blocked in read")) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        drop(child.stdin.take());
        let _ = child.wait();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].starts_with("blocked in read on pipe "), "{said:?}");
        assert!(said[0].contains(&format!("its write end held by process {me}")), "{said:?}");
    }
}
