//! A class's repositories: a roster (a CSV of students and their
//! repositories) cloned, or fetched again, into a cache directory, each
//! checked out at the commit to grade (its last, or its last at a
//! [`Deadline`]), with what its history says of the student's work: when
//! the graded commit was made, how many commits came after the deadline,
//! and whether any commit of the student's own changed their work.
//!
//! ```no_run
//! use grader::classroom::roster::{Deadline, Fetch, fetch_all, read_roster};
//! let students = read_roster("roster.csv".as_ref())?;
//! let deadline = Some(Deadline::parse("2026-12-01T23:59:59Z")?);
//! let fetch = Fetch { cache: "repos".into(), deadline, late: None, offline: false };
//! for student in fetch_all(&students, &fetch, |_| {}) {
//!     println!("{}: {:?}", student.name, student.dir);
//! }
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Commit dates are whatever the student's git said; the runs of the
//! grading workflow, with their times on GitHub, are the stronger record.
//! A repository that cannot be fetched is an error of its own row, never
//! the end of the batch. Git runs without a terminal to ask for a password
//! and with a time limit, and the graded tree is only read, never built in
//! place (see [`scratch`](crate::engine::scratch)).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::classroom::late::{Late, LatePolicy};
use crate::grading::Progress;

/// How long one clone or fetch may take.
const GIT_TIMEOUT: Duration = Duration::from_secs(300);

/// The header names a roster's columns may have (any case), each column's
/// first spelling the one the messages use.
const NAME_COLUMN: &[&str] = &["student", "name", "github", "github_username", "username", "identifier"];
const REPOSITORY_COLUMN: &[&str] = &["repository", "repo", "url", "repository_url", "clone_url"];
/// Optional columns, kept for the gradebooks of learning platforms.
const IDENTIFIER_COLUMNS: &[&str] = &["email", "id", "sis_id", "login", "section", "github_id"];
/// An optional column: the student's own deadline (an extension), in the
/// form `--before` takes; empty, the batch's.
const DEADLINE_COLUMN: &str = "deadline";
/// Names a student may not have: those of the batch's own files in OUT.
const RESERVED: &[&str] = &["gradebook.csv", "gradebook.json", "flagged.json", "reviews.json", "batch.json"];

/// Said when a clone fails: what usually causes it.
const CLONE_ADVICE: &str = "what usually causes this: the repository is private and the student has not yet added you as a collaborator (or you have not accepted the invitation), or git here has no credentials for it (a token in a credential helper, or a deploy key); or the URL in the roster is wrong";

/// One line of the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    pub name: String,
    /// A URL git can clone, or a path.
    pub repository: String,
    /// Optional identifiers (`email`, `id`, `sis_id`, `login`, `section`,
    /// `github_id`), by column.
    pub identifiers: BTreeMap<String, String>,
    /// The student's own deadline (an extension), if the roster gives one.
    pub deadline: Option<Deadline>,
}

/// A moment to grade at: the last commit at or before it is graded.
///
/// ```
/// use grader::classroom::roster::Deadline;
/// let deadline = Deadline::parse("2026-12-01T18:59:59-05:00").unwrap();
/// assert_eq!(deadline.utc(), "2026-12-01T23:59:59Z");
/// // As Gradescope writes times: a fraction of a second is dropped.
/// assert_eq!(Deadline::parse("2026-12-01T18:59:59.365935-05:00").unwrap(), deadline);
/// assert!(Deadline::parse("2026-12-01T23:59:59+aé1").is_err());
/// // A day alone is not a moment: which second of it, in which zone?
/// assert!(Deadline::parse("2026-12-01").unwrap_err().to_string().contains("2026-12-01T23:59:59Z"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix: i64,
    /// The zone it was given in: seconds east of UTC. Times of the batch
    /// are shown in it, so that they read as the deadline does.
    pub offset: i64,
}

impl Deadline {
    /// A date, a time and a zone, as RFC 3339 writes them:
    /// `2026-12-01T23:59:59Z`, `2026-12-01T23:59:59+01:00` (seconds may be
    /// left out, and `T` may be a space). Anything less is refused, with a
    /// message that says what to write: a bare date would have to be read
    /// at some time of day, in some zone, and a wrong guess grades the
    /// wrong commit.
    pub fn parse(text: &str) -> Result<Deadline> {
        let text = text.trim();
        parse_moment(text).ok_or_else(|| {
            let day = text.get(..10).filter(|d| parse_date(d).is_some());
            match day {
                Some(day) if text.len() == 10 => anyhow::anyhow!(
                    "{text:?} needs a time and a zone: the end of that day in UTC is {day}T23:59:59Z; in a zone of your own, e.g. {day}T23:59:59-05:00"
                ),
                Some(day) => anyhow::anyhow!(
                    "{text:?} needs a valid time (00:00 to 23:59:59) and a zone: Z for UTC, or an offset such as -05:00 (a zone's name, EST, is not read), e.g. {day}T23:59:59-05:00"
                ),
                None => anyhow::anyhow!(
                    "{text:?} is not a date, time and zone such as 2026-12-01T23:59:59Z (UTC) or 2026-12-01T23:59:59-05:00"
                ),
            }
        })
    }

    /// The deadline in UTC, `2026-12-01T23:59:59Z`.
    pub fn utc(&self) -> String {
        utc(self.unix)
    }

    /// The deadline in the zone it was given in, `2026-12-01T23:59:59-05:00`.
    pub fn local(&self) -> String {
        self.at(self.unix)
    }

    /// Another moment, in the zone the deadline was given in.
    pub fn at(&self, unix: i64) -> String {
        if self.offset == 0 {
            return utc(unix);
        }
        let shown = utc(unix + self.offset);
        let sign = if self.offset < 0 { '-' } else { '+' };
        let (h, m) = (self.offset.abs() / 3600, self.offset.abs() % 3600 / 60);
        format!("{}{sign}{h:02}:{m:02}", shown.trim_end_matches('Z'))
    }

    /// The form git reads exactly, whatever its own time zone.
    fn for_git(&self) -> String {
        format!("{} +0000", utc(self.unix).trim_end_matches('Z').replace('T', " "))
    }
}

impl std::fmt::Display for Deadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.offset {
            0 => f.write_str(&self.utc()),
            _ => write!(f, "{} ({})", self.local(), self.utc()),
        }
    }
}

/// `YYYY-MM-DD[T ]HH:MM[:SS](Z|±HH:MM|±HHMM)` as seconds since the epoch.
fn parse_moment(text: &str) -> Option<Deadline> {
    let (date, rest) = (text.get(..10)?, text.get(10..)?);
    let days = parse_date(date)?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let zone_at = rest.find(['Z', 'z', '+', '-'])?;
    let (time, zone) = rest.split_at(zone_at);
    // Fractions of a second (Gradescope's times have them) are dropped.
    let time = match time.split_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) => {
            whole
        }
        Some(_) => return None,
        None => time,
    };
    let numbers: Vec<i64> = time.split(':').map(|p| number(p, 2)).collect::<Option<_>>()?;
    let (h, m, s) = match numbers[..] {
        [h, m] => (h, m, 0),
        [h, m, s] => (h, m, s),
        _ => return None,
    };
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits = zone[1..].replace(':', "");
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let (oh, om) = (number(&digits[..2], 2)?, number(&digits[2..], 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(Deadline { unix: days * 86_400 + h * 3600 + m * 60 + s - offset, offset })
}

/// `YYYY-MM-DD` as days since 1970-01-01.
fn parse_date(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts[..] else { return None };
    let (y, m, d) = (number(y, 4)?, number(m, 2)?, number(d, 2)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days_in = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || d < 1 || d > days_in[m as usize - 1] {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Exactly `digits` ASCII digits, as a number.
fn number(text: &str, digits: usize) -> Option<i64> {
    (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

/// Days since 1970-01-01 of a date of the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Where to keep the clones, and which commit to take.
#[derive(Debug, Clone)]
pub struct Fetch {
    pub cache: PathBuf,
    /// Take each repository's last commit at or before this moment.
    pub deadline: Option<Deadline>,
    /// Late work is accepted under this policy: the last commit up to its
    /// limit after the deadline is taken, and what it loses is said.
    pub late: Option<LatePolicy>,
    /// Use the repositories already in the cache, as fetched, without the
    /// network (and so without credentials): a job that grades, apart from
    /// the one that fetched with a token.
    pub offline: bool,
}

/// What a repository's history says of the commit graded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub commit: String,
    /// When it was committed (as the student's git said), in the deadline's
    /// zone (UTC without one).
    pub committed_at: String,
    /// The same, in seconds since the epoch.
    pub committed_unix: Option<i64>,
    /// Commits after the deadline (not graded); none without a deadline.
    pub after_deadline: Option<u32>,
    /// Commits up to the graded one, but the first, that changed
    /// `exercises/` or `answers/`: none means that the graded work is the
    /// assignment's, as the repository was made.
    pub own_commits: u32,
}

/// One student's repository, fetched (or why it could not be).
#[derive(Debug, Clone)]
pub struct Fetched {
    pub name: String,
    pub dir: Result<PathBuf, String>,
    pub history: Option<History>,
    /// The deadline it was checked out at (the student's own, or the
    /// batch's), if any.
    pub deadline: Option<Deadline>,
    /// What its commit loses under the late policy, if it came after the
    /// deadline.
    pub late: Option<Late>,
    pub identifiers: BTreeMap<String, String>,
}

/// Where a roster's columns are.
struct Columns {
    name: usize,
    repository: usize,
    /// The identifiers it has (`email`, `sis_id`, …), each with its column.
    identifiers: Vec<(String, usize)>,
    deadline: Option<usize>,
}

impl Columns {
    /// The columns a header names; `None` when the first line is no header
    /// (it names no student and no repository column): a student's row.
    fn of_header(fields: &[String]) -> Option<Result<Columns>> {
        let known = |cell: &str, names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(cell.trim()));
        if !fields.iter().any(|c| known(c, NAME_COLUMN) || known(c, REPOSITORY_COLUMN)) {
            return None;
        }
        let unknown = fields.iter().find(|cell| {
            let optional = known(cell, IDENTIFIER_COLUMNS) || known(cell, &[DEADLINE_COLUMN]);
            !(known(cell, NAME_COLUMN) || known(cell, REPOSITORY_COLUMN) || optional)
        });
        if let Some(cell) = unknown {
            return Some(Err(anyhow::anyhow!(
                "unknown column {cell:?}; the roster's columns are the student ({}), the repository ({}), and optionally {} and {DEADLINE_COLUMN} (the student's own deadline)",
                NAME_COLUMN.join(", "),
                REPOSITORY_COLUMN.join(", "),
                IDENTIFIER_COLUMNS.join(", ")
            )));
        }
        let position = |name: &str| fields.iter().position(|c| c.trim().eq_ignore_ascii_case(name));
        let find = |names: &[&str]| names.iter().find_map(|n| position(n));
        let (Some(name), Some(repository)) = (find(NAME_COLUMN), find(REPOSITORY_COLUMN)) else {
            return Some(Err(anyhow::anyhow!(
                "the header needs a column for the student ({}) and one for the repository ({})",
                NAME_COLUMN.join(", "),
                REPOSITORY_COLUMN.join(", ")
            )));
        };
        let identifiers =
            IDENTIFIER_COLUMNS.iter().filter_map(|n| position(n).map(|i| (n.to_string(), i))).collect();
        Some(Ok(Columns { name, repository, identifiers, deadline: position(DEADLINE_COLUMN) }))
    }
}

/// Reads a roster: a CSV with a header naming its columns (the student:
/// `student`, `name` or `github`; the repository: `repository`, `repo` or
/// `url`; optionally `email`, `id`, `sis_id`, `login`, `section`), or
/// without a header, `student,repository` on each line. A UTF-8 BOM, empty
/// lines and `#` comments are skipped; fields may be quoted. An unknown
/// column, a missing field or a student named twice is an error that says
/// where.
pub fn read_roster(path: &Path) -> Result<Vec<Student>> {
    // A roster is a small file: never a device, a pipe or gigabytes.
    let bytes = crate::engine::workspace::read_regular(path, 16 << 20)
        .map_err(|why| anyhow::anyhow!("the roster {} {why}", path.display()))?;
    let text = String::from_utf8(bytes)
        .with_context(|| format!("the roster {} is not UTF-8 text", path.display()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let at = |line: usize| format!("{} line {line}", path.display());
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let Some((first_line, first)) = lines.next() else {
        bail!("the roster {} names no student", path.display());
    };
    let first_fields = csv_fields(first).with_context(|| at(first_line))?;
    let header = Columns::of_header(&first_fields)
        .transpose()
        .map_err(|e| anyhow::anyhow!("{}: {e}", at(first_line)))?;
    let data_from_first = header.is_none();
    let Columns { name: name_at, repository: repository_at, identifiers, deadline: deadline_at } =
        header.unwrap_or(Columns { name: 0, repository: 1, identifiers: Vec::new(), deadline: None });
    let mut repositories: HashMap<String, usize> = HashMap::new();
    let mut students = Vec::new();
    let mut seen: HashMap<String, (usize, String)> = HashMap::new();
    let data = data_from_first.then_some((first_line, first)).into_iter().chain(lines);
    for (number, line) in data {
        let fields = csv_fields(line).with_context(|| at(number))?;
        let cell = |i: usize| fields.get(i).map(|f| f.trim().to_string()).unwrap_or_default();
        let (name, repository) = (cell(name_at), cell(repository_at));
        if name.is_empty() || repository.is_empty() {
            bail!("{}: a student and a repository are needed, got {line:?}", at(number));
        }
        // Two students whose names make one directory would share it.
        let key = safe_name(&name).to_lowercase();
        if let Some((earlier, other)) = seen.get(&key) {
            let same = if *other == name { String::new() } else { format!(" (as {other:?})") };
            bail!(
                "{}: the student {name:?} is already on line {earlier}{same}: each student once",
                at(number)
            );
        }
        seen.insert(key, (number, name.clone()));
        // Two students on one repository: one of them is handing in the
        // other's work (or the roster is wrong).
        if let Some(earlier) = repositories.insert(repository_key(&repository), number) {
            bail!(
                "{}: the repository {repository:?} is already on line {earlier}: each student's own",
                at(number)
            );
        }
        let identifiers =
            identifiers.iter().map(|(n, i)| (n.clone(), cell(*i))).filter(|(_, v)| !v.is_empty()).collect();
        let deadline = match deadline_at.map(cell).filter(|d| !d.is_empty()) {
            None => None,
            Some(text) => Some(Deadline::parse(&text).with_context(|| format!("{}: deadline", at(number)))?),
        };
        students.push(Student { name, repository, identifiers, deadline });
    }
    if students.is_empty() {
        bail!("the roster {} names no student", path.display());
    }
    Ok(students)
}

/// What names one repository, however it is written: its host and path in
/// lower case, without a scheme, a user, a trailing `/` or `.git`
/// (`git@github.com:Alice/mp.git` and `https://github.com/alice/mp` are one).
fn repository_key(url: &str) -> String {
    let url = url.trim().to_lowercase();
    let url = ["https://", "http://", "ssh://", "git://", "file://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme))
        .map(str::to_string)
        .unwrap_or_else(|| match url.split_once(':') {
            // scp-like `user@host:path`, not a path with a colon in it
            Some((host, path)) if !host.contains('/') && host.contains('@') => format!("{host}/{path}"),
            _ => url.clone(),
        });
    let url =
        url.rsplit_once('@').filter(|(user, _)| !user.contains('/')).map_or(url.as_str(), |(_, rest)| rest);
    let url = url.trim_end_matches(['/', '\\']);
    url.strip_suffix(".git").unwrap_or(url).trim_end_matches('/').to_string()
}

/// The fields of one CSV line: separated by commas, each maybe quoted
/// (`"a, b"`, with `""` for a quote inside).
fn csv_fields(line: &str) -> Result<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => bail!("a quote is never closed: {line:?}"),
                }
            }
            while chars.peek().is_some_and(|c| *c != ',') {
                let c = chars.next().unwrap_or(' ');
                if !c.is_whitespace() {
                    bail!("text after a closing quote: {line:?}");
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                field.push(c);
            }
        }
        fields.push(field);
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}

/// A name fit to name a directory of its own: letters, digits, `-`, `_`
/// and `.` kept, anything else `_`; never empty, `.`, `..` or hidden.
pub fn safe_name(name: &str) -> String {
    let name: String =
        name.chars().map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    match name {
        name if name.is_empty() => "submission".into(),
        // Not a name the batch's own files in OUT have.
        name if name.starts_with('.') || RESERVED.contains(&name.to_lowercase().as_str()) => {
            format!("_{name}")
        }
        name => name,
    }
}

/// A name per submission (its directory's, its student's), fit to name a
/// directory of its own (see [`safe_name`]) and unique.
pub fn unique_names(names: impl Iterator<Item = Option<String>>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    names
        .map(|base| {
            let base = safe_name(base.as_deref().unwrap_or_default());
            let mut name = base.clone();
            let mut n = 2;
            while !seen.insert(name.to_lowercase()) {
                name = format!("{base}-{n}");
                n += 1;
            }
            name
        })
        .collect()
}

/// Fetches every student's repository (one at a time: the network and the
/// disk are the limit, not the cores); `progress` hears of each.
/// Each is named (its row, its directory in the cache) after its student.
pub fn fetch_all(students: &[Student], fetch: &Fetch, progress: impl Fn(Progress)) -> Vec<Fetched> {
    let names = unique_names(students.iter().map(|s| Some(s.name.clone())));
    students
        .iter()
        .zip(names)
        .enumerate()
        .map(|(i, (student, name))| {
            let dir = fetch.cache.join(&name);
            let deadline = student.deadline.clone().or_else(|| fetch.deadline.clone());
            // Late work is taken up to the policy's limit, and pays for it.
            let cutoff = match (&deadline, fetch.late) {
                (Some(deadline), Some(policy)) => {
                    Some(Deadline { unix: policy.limit(deadline.unix), ..deadline.clone() })
                }
                _ => deadline.clone(),
            };
            let (dir, history) = match checkout(&student.repository, &dir, cutoff.as_ref(), fetch.offline) {
                Ok(history) => (Ok(dir), Some(history)),
                Err(e) => (Err(format!("{e:#}")), None),
            };
            let late = match (&deadline, fetch.late, history.as_ref().and_then(|h| h.committed_unix)) {
                (Some(deadline), Some(policy), Some(at)) => Some(policy.late(deadline.unix, at)),
                _ => None,
            };
            let mut identifiers = student.identifiers.clone();
            // The name as the roster has it, where the gradebook's differs.
            if name != student.name {
                identifiers.insert("student".into(), student.name.clone());
            }
            let fetched = Fetched { name, dir, history, deadline, late, identifiers };
            progress(Progress::Fetched { done: i + 1, all: students.len() });
            fetched
        })
        .collect()
}

/// Clones `repository` into `dir` (or fetches it again), and checks out the
/// commit to grade; returns what its history says.
fn checkout(repository: &str, dir: &Path, deadline: Option<&Deadline>, offline: bool) -> Result<History> {
    if offline {
        if !dir.join(".git").is_dir() {
            bail!(
                "{repository} is not in the cache ({}): fetch it first (batch --fetch-only)",
                dir.display()
            );
        }
    } else if dir.join(".git").is_dir() {
        git(Some(dir), &["remote", "set-url", "--", "origin", repository])?;
        git(
            Some(dir),
            &["-c", "protocol.ext.allow=never", "fetch", "--quiet", "--force", "--prune", "origin"],
        )
        .with_context(|| format!("fetching {repository} ({CLONE_ADVICE})"))?;
        git(Some(dir), &["remote", "set-head", "origin", "--auto"])?;
    } else {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir.parent().unwrap_or(dir))?;
        let dir_arg = dir.to_string_lossy();
        // No `ext::` transport: a URL from a student must not run a command.
        git(
            None,
            &[
                "-c",
                "protocol.ext.allow=never",
                "clone",
                "--quiet",
                "--no-checkout",
                "--",
                repository,
                &dir_arg,
            ],
        )
        .with_context(|| format!("cloning {repository} ({CLONE_ADVICE})"))?;
    }
    let history = history(dir, "origin/HEAD", deadline)?;
    // Only what grading reads is written out, and only if it is of a
    // submission's size: a repository may hold a file of gigabytes.
    graded_files(dir, &history.commit)?;
    let mut sparse = vec!["sparse-checkout", "set", "--no-cone"];
    let patterns: Vec<String> = graded_paths().iter().map(|p| format!("/{p}")).collect();
    sparse.extend(patterns.iter().map(String::as_str));
    git(Some(dir), &sparse)?;
    git(Some(dir), &["-c", "advice.detachedHead=false", "checkout", "--quiet", "--force", &history.commit])?;
    git(Some(dir), &["clean", "--quiet", "-ffdx"])?;
    Ok(history)
}

/// The commit to grade of `head` in the repository `dir` (its last, or its
/// last at the deadline), and what its history says.
pub fn history(dir: &Path, head: &str, deadline: Option<&Deadline>) -> Result<History> {
    trust(dir)?;
    let mut args = vec!["rev-list".to_string(), "-n".into(), "1".into(), "--first-parent".into()];
    if let Some(deadline) = deadline {
        args.push(format!("--before={}", deadline.for_git()));
    }
    args.push(head.into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let commit = git(Some(dir), &args)?;
    if commit.is_empty() {
        let count = git(Some(dir), &["rev-list", "--count", "--first-parent", head])?;
        match deadline {
            Some(deadline) => bail!("no commit at or before the deadline {deadline} ({count} after it)"),
            None => bail!("the repository has no commit"),
        }
    }
    let seconds = git(Some(dir), &["show", "-s", "--format=%ct", &commit])?;
    let committed_unix = seconds.parse::<i64>().ok();
    let committed_at = match (seconds.parse::<i64>(), deadline) {
        (Ok(unix), Some(deadline)) => deadline.at(unix),
        (Ok(unix), None) => utc(unix),
        (Err(_), _) => seconds,
    };
    let count = |args: &[&str]| -> Result<u32> { Ok(git(Some(dir), args)?.parse().unwrap_or(0)) };
    let after_deadline = match deadline {
        Some(_) => Some(count(&["rev-list", "--count", "--first-parent", &format!("{commit}..{head}")])?),
        None => None,
    };
    let own_commits = count(&[
        "rev-list",
        "--count",
        "--first-parent",
        "--min-parents=1",
        &commit,
        "--",
        "exercises",
        "answers",
    ])?;
    Ok(History { commit, committed_at, committed_unix, after_deadline, own_commits })
}

/// The configuration keys a student's repository may set for the grader to
/// run git in it: none of them runs a program (a `filter.*.smudge`, a
/// `core.fsmonitor`, a `diff.*.textconv` or an `include.path` would).
const SAFE_CONFIG: &[&str] = &[
    "core.repositoryformatversion",
    "core.filemode",
    "core.bare",
    "core.logallrefupdates",
    "core.ignorecase",
    "core.precomposeunicode",
    "core.symlinks",
    "core.autocrlf",
    "init.defaultbranch",
    "pull.rebase",
    "extensions.objectformat",
    "extensions.worktreeconfig",
    "core.sparsecheckout",
    "core.sparsecheckoutcone",
];
const SAFE_CONFIG_PREFIXES: &[&str] = &["remote.", "branch.", "user.", "advice.", "gc."];

/// Refuses a repository git could be made to run a program in, or to read
/// another repository's objects through: its `.git` must be a directory of
/// its own (not a link, not a `gitdir:` file), with no alternates, and a
/// configuration of harmless keys only.
fn trust(dir: &Path) -> Result<PathBuf> {
    let git_dir = dir.join(".git");
    let meta = std::fs::symlink_metadata(&git_dir)
        .with_context(|| format!("{} is not a git repository (no .git)", dir.display()))?;
    if !meta.is_dir() {
        bail!(
            "{}/.git is not a directory of its own (a link, or a file naming another repository): refused",
            dir.display()
        );
    }
    for borrowed in ["objects/info/alternates", "commondir", "objects/info/http-alternates"] {
        if std::fs::symlink_metadata(git_dir.join(borrowed)).is_ok() {
            bail!("{}/.git/{borrowed} borrows another repository's objects: refused", dir.display());
        }
    }
    for config in [git_dir.join("config"), git_dir.join("config.worktree")] {
        if std::fs::symlink_metadata(&config).is_err() {
            continue;
        }
        let keys = git(None, &["config", "--file", &config.to_string_lossy(), "--name-only", "--list"])?;
        let unsafe_key = keys.lines().map(str::to_lowercase).find(|k| {
            !SAFE_CONFIG.contains(&k.as_str()) && !SAFE_CONFIG_PREFIXES.iter().any(|p| k.starts_with(p))
                || k.ends_with("command")
                || k.contains("uploadpack")
                || k.contains("receivepack")
        });
        if let Some(key) = unsafe_key {
            bail!(
                "{} sets {key}: the grader runs git only in repositories whose configuration cannot run a program; grade a fresh clone of it instead (git clone {} copy)",
                config.display(),
                dir.display()
            );
        }
    }
    Ok(git_dir)
}

/// Writes the `exercises/` and `answers/` of `commit` of the repository in
/// `repository`, and the files a submission may not change (to list them),
/// into `into` (an empty directory), leaving the repository as it was: for
/// grading a cached clone at a deadline. Files are read as git stores
/// them, never through git's filters or attributes; only regular files are
/// written (links and submodules are left out, as grading leaves them),
/// within the limits of a submission.
pub fn export(repository: &Path, commit: &str, into: &Path) -> Result<()> {
    use std::io::{BufRead, BufReader, Read, Write};
    trust(repository)?;
    let files = graded_files(repository, commit)?;
    let mut cat = hardened(Command::new("git"))
        .args(["cat-file", "--batch"])
        .current_dir(repository)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("running git cat-file")?;
    let mut stdin = cat.stdin.take().context("git's stdin")?;
    let objects: String = files.iter().map(|(_, o)| format!("{o}\n")).collect();
    let feeder = std::thread::spawn(move || stdin.write_all(objects.as_bytes()));
    let mut out = BufReader::new(cat.stdout.take().context("git's stdout")?);
    for (path, object) in &files {
        let mut header = String::new();
        out.read_line(&mut header)?;
        let size: u64 = match header.split_whitespace().collect::<Vec<_>>()[..] {
            [o, "blob", size] if o == object => size.parse()?,
            _ => bail!("git cat-file said {header:?} of {object}"),
        };
        let target = into.join(path);
        std::fs::create_dir_all(target.parent().unwrap_or(into))?;
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&target)?;
        std::io::copy(&mut (&mut out).take(size), &mut file)?;
        let mut newline = [0u8; 1];
        out.read_exact(&mut newline)?;
    }
    drop(out);
    let _ = feeder.join();
    let _ = cat.wait();
    Ok(())
}

/// What grading reads of a submission: its work, and the files it may not
/// change (to list them).
fn graded_paths() -> Vec<&'static str> {
    let mut paths = vec!["exercises", "answers"];
    paths.extend(crate::grading::submission::PROTECTED);
    paths
}

/// The regular files of `commit` that grading reads (build output left
/// out), as (path, object); an error if they hold more than a submission
/// may, or a path git would never write.
fn graded_files(repository: &Path, commit: &str) -> Result<Vec<(String, String)>> {
    let mut args = vec!["ls-tree", "-r", "-z", "-l", commit, "--"];
    let paths = graded_paths();
    args.extend(paths.iter().copied());
    let listing = git(Some(repository), &args)?;
    let mut files = Vec::new();
    let mut total = 0u64;
    for entry in listing.split('\0').filter(|e| !e.is_empty()) {
        let Some((meta, path)) = entry.split_once('\t') else { continue };
        let fields: Vec<&str> = meta.split_whitespace().collect();
        let [mode, "blob", object, size] = fields[..] else { continue };
        if mode != "100644" && mode != "100755" {
            continue; // a link: never followed, as the scratch never follows one
        }
        if path.starts_with('/') || path.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
            bail!("the commit holds a path git would never write: {path:?}");
        }
        if path.split('/').any(|c| c == "target") {
            continue; // build output: never graded
        }
        total += size.parse::<u64>().unwrap_or(u64::MAX);
        files.push((path.to_string(), object.to_string()));
    }
    if total > crate::engine::workspace::MAX_TOTAL || files.len() > crate::engine::workspace::MAX_FILES {
        bail!(
            "the commit's graded files hold {total} bytes in {} files: more than a submission may ({} bytes, {} files)",
            files.len(),
            crate::engine::workspace::MAX_TOTAL,
            crate::engine::workspace::MAX_FILES
        );
    }
    Ok(files)
}

/// Git, told to trust nothing it could be handed: no replacement objects,
/// no grafts, no file-system monitor, no hooks, no terminal to prompt on.
fn hardened(mut command: Command) -> Command {
    command
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "protocol.ext.allow=never",
        ])
        .env("GIT_NO_REPLACE_OBJECTS", "1")
        .env("GIT_GRAFT_FILE", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env("GCM_INTERACTIVE", "never")
        .env("GIT_OPTIONAL_LOCKS", "0");
    command
}

/// Runs git (in `dir`), without a terminal to prompt on, within the time
/// limit; returns its stdout, trimmed. Both outputs are read as git writes
/// them (a git that fills a pipe must not wait for ever).
fn git(dir: Option<&Path>, args: &[&str]) -> Result<String> {
    let mut command = hardened(Command::new("git"));
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running git: is it installed?")?;
    let drain = |stream: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut stream) = stream {
                let _ = stream.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>));
    let stderr = drain(child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > GIT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            bail!("git {} took over {} s", args.join(" "), GIT_TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (stdout.join().unwrap_or_default(), stderr.join().unwrap_or_default());
    if !status.success() {
        let said = String::from_utf8_lossy(&stderr);
        let verb = args.iter().find(|a| !a.starts_with('-') && !a.contains('=')).unwrap_or(&"");
        bail!("git {verb} failed: {}", said.trim().lines().last().unwrap_or(""));
    }
    Ok(String::from_utf8_lossy(&stdout).trim().to_string())
}

/// Whether `given` (as typed: `--only "Ann Lee"`, `ann_lee`) names the
/// submission `name` (as the batch made it safe).
pub fn same_student(given: &str, name: &str) -> bool {
    safe_name(given).to_lowercase() == name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster(text: &str) -> Result<Vec<Student>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.csv");
        std::fs::write(&path, text).unwrap();
        read_roster(&path)
    }

    #[test]
    fn rosters_skip_headers_comments_and_quotes() {
        let students =
            roster("student,repository\n# a comment\n\"Ann Lee\", \"https://x/ann.git\"\nbob,../bob\n\n")
                .unwrap();
        assert_eq!(students.len(), 2);
        assert_eq!(
            (students[0].name.as_str(), students[0].repository.as_str()),
            ("Ann Lee", "https://x/ann.git")
        );
        assert!(roster("bob\n").is_err());
    }

    #[test]
    fn rosters_as_people_have_them() {
        // A spreadsheet's BOM, other spellings, columns in another order, and
        // the identifiers of a learning platform.
        let students =
            roster("\u{feff}URL,Name,Email,Section\nhttps://x/a.git,alice,a@uni.edu,L01\n\"https://x/b,c.git\",bob,,\n")
                .unwrap();
        assert_eq!(students[0].name, "alice");
        assert_eq!(students[0].repository, "https://x/a.git");
        assert_eq!(students[0].identifiers.get("email").map(String::as_str), Some("a@uni.edu"));
        assert_eq!(students[1].repository, "https://x/b,c.git");
        assert!(students[1].identifiers.is_empty());
        let students = roster("github,repo\ncarol,../carol\n").unwrap();
        assert_eq!(students[0].name, "carol");
        // Without a header: student, repository.
        assert_eq!(roster("dave,../dave\n").unwrap()[0].repository, "../dave");
    }

    #[test]
    fn bad_rosters_say_what_is_wrong_and_where() {
        let unknown = roster("student,repository,grade\nalice,x,5\n").unwrap_err().to_string();
        for (one, other) in [
            ("https://x/a.git", "https://x/A.git/"),
            ("https://github.com/alice/mp.git", "https://github.com/Alice/mp"),
            ("git@github.com:alice/mp.git", "https://github.com/alice/mp"),
            ("../alice", "../alice/"),
        ] {
            let shared = roster(&format!("student,repository\nalice,{one}\nbob,{other}\n")).unwrap_err();
            assert!(shared.to_string().contains("already on line 2"), "{one} {other}: {shared}");
        }
        assert!(
            roster("student,repository\nalice,https://github.com/alice/mp\nbob,https://github.com/bob/mp\n")
                .is_ok()
        );
        let late = roster("student,repository,deadline\nalice,x,2026-12-08T12:00:00Z\nbob,y,\n").unwrap();
        assert_eq!(late[0].deadline.as_ref().map(Deadline::utc).as_deref(), Some("2026-12-08T12:00:00Z"));
        assert_eq!(late[1].deadline, None);
        assert!(roster("student,repository,deadline\nalice,x,2026-12-08\n").is_err());
        assert!(unknown.contains("unknown column \"grade\"") && unknown.contains("repository"), "{unknown}");
        let twice = roster("student,repository\nalice,x\nbob,y\nAlice,z\n").unwrap_err().to_string();
        assert!(twice.contains("line 4") && twice.contains("already on line 2"), "{twice}");
        let empty = roster("student,repository\nalice,\n").unwrap_err().to_string();
        assert!(empty.contains("line 2"), "{empty}");
        assert!(roster("student,repository\n").unwrap_err().to_string().contains("names no student"));
        assert!(roster("name,email\nalice,a@b\n").unwrap_err().to_string().contains("repository"));
    }

    #[test]
    fn deadlines_are_moments_with_a_zone() {
        let utc = Deadline::parse("2026-12-01T23:59:59Z").unwrap();
        assert_eq!(utc.utc(), "2026-12-01T23:59:59Z");
        assert_eq!(utc.for_git(), "2026-12-01 23:59:59 +0000");
        assert_eq!(Deadline::parse("2026-12-02 00:59+01:00").unwrap().utc(), "2026-12-01T23:59:00Z");
        let new_york = Deadline::parse("2026-12-01T18:59:59-0500").unwrap();
        assert_eq!(new_york.unix, utc.unix);
        assert_eq!(new_york.local(), "2026-12-01T18:59:59-05:00");
        assert_eq!(new_york.to_string(), "2026-12-01T18:59:59-05:00 (2026-12-01T23:59:59Z)");
        assert_eq!(new_york.at(utc.unix - 3600), "2026-12-01T17:59:59-05:00");
        assert_eq!(Deadline::parse("2024-02-29T00:00:00Z").unwrap().utc(), "2024-02-29T00:00:00Z");
        for bad in
            ["2026-12-01", "Dec 1 2026", "2026-12-01T23:59:59", "2026-13-01T00:00Z", "2026-02-30T00:00Z", ""]
        {
            assert!(Deadline::parse(bad).is_err(), "{bad}");
        }
        assert!(Deadline::parse("2026-12-01").unwrap_err().to_string().contains("needs a time and a zone"));
        assert_eq!(utc_of(0), "1970-01-01T00:00:00Z");
    }

    fn utc_of(unix: i64) -> String {
        utc(unix)
    }

    #[test]
    fn names_are_unique_and_safe() {
        assert_eq!(unique_names([Some("..".to_string()), None].into_iter()), ["_..", "submission"]);
        let names =
            unique_names(["../evil name", "a b", "a_b", "."].map(|n| Some(n.to_string())).into_iter());
        assert_eq!(names, ["_.._evil_name", "a_b", "a_b-2", "_."]);
        assert_eq!(safe_name("Reviews.json"), "_Reviews.json");
        assert_eq!(safe_name("gradebook.csv"), "_gradebook.csv");
    }
}
