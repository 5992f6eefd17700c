//! `grader merge`: the OUTs of a class's shards joined into one, as if one
//! batch had graded the whole class: one gradebook, each student's
//! `results.json`, the errors kept, and copies looked for across the whole
//! class (from the answers each shard's gradebook keeps), not shard by
//! shard.
//!
//! ```no_run
//! use grader::classroom::merge::merge;
//! let merged = merge(&["shard-1".into(), "shard-2".into()], "class".as_ref(), |_| {})?;
//! println!("{} students, {} flagged", merged.rows, merged.flagged);
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! It refuses shards of other graders or rubrics, a shard twice, or one
//! missing, and writes nothing then. The instructor's decisions kept in
//! the merged OUT (`grader review` there) apply as they do to a batch's.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use crate::classroom::gradebook::{Decisions, Gradebook, RESULTS_FILE, Row, SCORECARD_FILE, flag_copies};
use crate::classroom::shard::Manifest;
use crate::engine::workspace::{MAX_FILE, read_regular, write_atomic};
use crate::grading::Progress;

/// What a merge made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    /// Students (rows) in the merged gradebook.
    pub rows: usize,
    /// Of them, could not be graded.
    pub errors: usize,
    /// Answers flagged for review, copies across shards included.
    pub flagged: usize,
}

/// Merges every shard's OUT in `shards` into `out`; `progress` hears of
/// each student's results copied.
pub fn merge(shards: &[PathBuf], out: &Path, progress: impl Fn(Progress)) -> Result<Merged> {
    let manifests: Vec<(String, Manifest)> = shards
        .iter()
        .map(|dir| Ok((dir.display().to_string(), Manifest::load(dir)?)))
        .collect::<Result<_>>()?;
    Manifest::check_set(&manifests)?;
    let mut rows: Vec<Row> = Vec::new();
    let mut names = std::collections::HashSet::new();
    let mut decisions = Decisions::default();
    for dir in shards {
        let book = Gradebook::load(dir)?;
        for row in book.rows {
            if !names.insert(row.name.clone()) {
                bail!(
                    "{} is in two shards (the second: {}): were they cut from one roster?",
                    row.name,
                    dir.display()
                );
            }
            rows.push(row);
        }
        // A decision made in a shard's OUT still holds.
        for decision in Decisions::load(dir)?.decisions {
            decisions.decide(decision);
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    // The instructor's decisions in the merged OUT come last: they win.
    for decision in Decisions::load(out)?.decisions {
        decisions.decide(decision);
    }
    copy_results(shards, out, &rows, progress)?;
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    flag_copies(&mut rows);
    let mut book = Gradebook { rows };
    decisions.save(out)?;
    book.write(out, &decisions)?;
    let manifest = &manifests[0].1;
    Manifest { shard: None, ..manifest.clone() }.write(out)?;
    Ok(Merged {
        rows: book.rows.len(),
        errors: book.rows.iter().filter(|r| r.error.is_some()).count(),
        flagged: book.rows.iter().map(|r| r.open_flags()).sum(),
    })
}

/// Copies each graded student's `results.json` (and `scorecard.md`) from their shard into
/// `out/<name>/`; one a shard does not have for a graded row is an error.
fn copy_results(shards: &[PathBuf], out: &Path, rows: &[Row], progress: impl Fn(Progress)) -> Result<()> {
    let graded: Vec<&Row> = rows.iter().filter(|r| !r.automatic.is_empty()).collect();
    for (i, row) in graded.iter().enumerate() {
        progress(Progress::Merged { done: i, all: graded.len() });
        let from = shards
            .iter()
            .map(|dir| dir.join(&row.name).join(RESULTS_FILE))
            .find(|path| path.is_file())
            .with_context(|| format!("no shard has {}'s {RESULTS_FILE}", row.name))?;
        let bytes =
            read_regular(&from, MAX_FILE).map_err(|why| anyhow::anyhow!("{} {why}", from.display()))?;
        let dir = out.join(&row.name);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        write_atomic(&dir.join(RESULTS_FILE), &bytes)?;
        let scorecard = from.with_file_name(SCORECARD_FILE);
        if let Ok(bytes) = read_regular(&scorecard, MAX_FILE) {
            write_atomic(&dir.join(SCORECARD_FILE), &bytes)?;
        }
    }
    progress(Progress::Merged { done: graded.len(), all: graded.len() });
    Ok(())
}
