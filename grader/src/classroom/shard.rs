//! A class cut into shards, each graded on a machine (or a job) of its own,
//! then merged: which students a shard holds, and the manifest each batch
//! writes so that a merge can check its shards belong together.
//!
//! ```
//! use grader::classroom::shard::Shard;
//! let names = ["alice", "bob", "carol", "dave", "erin", "frank"];
//! let shards: Vec<Shard> = (1..=3).map(|k| format!("{k}/3").parse().unwrap()).collect();
//! // Each student is in exactly one shard, and each shard holds two.
//! for name in names {
//!     assert_eq!(shards.iter().filter(|s| s.holds(name, &names)).count(), 1);
//! }
//! assert!(shards.iter().all(|s| names.iter().filter(|n| s.holds(n, &names)).count() == 2));
//! ```
//!
//! A shard holds the students at its places when the class is ordered by a
//! hash of each name (`K/N` holds places K, K+N, K+2N…): the order of the
//! roster changes nothing, shards differ in size by one at most, and every
//! job that reads the same roster puts each student in the same shard.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

use crate::engine::context::Settings;
use crate::engine::normalize::fingerprint;
use crate::engine::workspace::{MAX_FILE, read_regular, write_atomic};

/// The manifest a batch writes in OUT.
pub const MANIFEST_FILE: &str = "batch.json";

/// The K-th of N parts of a class (K from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub of: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let usage = || format!("{text:?} is not a shard: K/N, the K-th of N parts, such as 2/5");
        let (k, n) = text.split_once('/').ok_or_else(usage)?;
        let (index, of) = (k.trim().parse().map_err(|_| usage())?, n.trim().parse().map_err(|_| usage())?);
        Shard::new(index, of)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.of)
    }
}

impl Shard {
    /// The `index`-th (from 1) of `of` shards.
    pub fn new(index: usize, of: usize) -> Result<Shard, String> {
        if of == 0 || index == 0 || index > of {
            return Err(format!("shard {index}/{of}: K must be from 1 to N, and N at least 1"));
        }
        Ok(Shard { index, of })
    }

    /// The shard a job array's engine says this job is, where one does:
    /// Kubernetes' Indexed Jobs (`JOB_COMPLETION_INDEX`, from 0, with the
    /// count given as `shards`), or a Slurm array (`SLURM_ARRAY_TASK_ID`
    /// from `SLURM_ARRAY_TASK_MIN`, `SLURM_ARRAY_TASK_COUNT` of them).
    pub fn from_env(shards: Option<usize>) -> Result<Option<Shard>, String> {
        Shard::from_vars(shards, |name| std::env::var(name).ok())
    }

    /// As [`Shard::from_env`], the variables read by `get`.
    pub fn from_vars(
        shards: Option<usize>,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Shard>, String> {
        let var = |name: &str| -> Result<Option<usize>, String> {
            match get(name) {
                None => Ok(None),
                Some(text) => {
                    text.trim().parse().map(Some).map_err(|_| format!("{name} is {text:?}, not a number"))
                }
            }
        };
        if let Some(index) = var("JOB_COMPLETION_INDEX")? {
            let of =
                shards.ok_or("JOB_COMPLETION_INDEX is set: give the number of shards with --shards N")?;
            return Shard::new(index + 1, of).map(Some);
        }
        if let (Some(id), Some(count)) = (var("SLURM_ARRAY_TASK_ID")?, var("SLURM_ARRAY_TASK_COUNT")?) {
            let min = var("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let index = id.checked_sub(min).ok_or("SLURM_ARRAY_TASK_ID is below SLURM_ARRAY_TASK_MIN")?;
            return Shard::new(index + 1, shards.unwrap_or(count)).map(Some);
        }
        match shards {
            Some(_) => Err("--shards N needs the shard: --shard K/N, or JOB_COMPLETION_INDEX".into()),
            None => Ok(None),
        }
    }

    /// Whether `name` is in this shard of the class `all` (which holds it).
    pub fn holds(&self, name: &str, all: &[impl AsRef<str>]) -> bool {
        self.members(all).contains(&name.to_lowercase())
    }

    /// The names of the class `all` in this shard, in lower case (as
    /// students are matched).
    pub fn members(&self, all: &[impl AsRef<str>]) -> std::collections::HashSet<String> {
        let mut order: Vec<(String, String)> =
            all.iter().map(|n| n.as_ref().to_lowercase()).map(|n| (fingerprint(n.as_bytes()), n)).collect();
        order.sort();
        order.dedup();
        order
            .into_iter()
            .enumerate()
            .filter(|(place, _)| place % self.of == self.index - 1)
            .map(|(_, (_, n))| n)
            .collect()
    }
}

/// What a batch's OUT holds: which grader and rubric graded it, and which
/// shard of which class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`grader_fingerprint`](crate::grading::grader_fingerprint).
    pub grader: String,
    /// [`rubric_fingerprint`](crate::grading::rubric_fingerprint).
    pub rubric: String,
    /// [`Settings::marking_fingerprint`] (the limits, the witness, the
    /// sandbox's requirement).
    pub settings: String,
    /// The shard, if the batch graded one (none: the whole class, or a
    /// merge of every shard).
    pub shard: Option<Shard>,
    /// How the class's work was taken: the deadline (`--before`) and the
    /// late policy (`--late`), in words; shards must agree on it.
    #[serde(default)]
    pub taken: Option<String>,
}

impl Manifest {
    /// The manifest of a batch this grader makes with `settings`.
    pub fn of_this_grader(shard: Option<Shard>, settings: &Settings, taken: Option<String>) -> Manifest {
        Manifest {
            grader: crate::grading::grader_fingerprint().to_string(),
            rubric: crate::grading::rubric_fingerprint(),
            settings: settings.marking_fingerprint(),
            shard,
            taken,
        }
    }

    /// Whether a result graded under `other` stands for one graded under
    /// this: the same grader, rubric and settings (the shard aside).
    pub fn marks_alike(&self, other: &Manifest) -> bool {
        (&self.grader, &self.rubric, &self.settings) == (&other.grader, &other.rubric, &other.settings)
    }

    pub fn load(out: &Path) -> Result<Manifest> {
        let path = out.join(MANIFEST_FILE);
        let bytes = read_regular(&path, MAX_FILE).map_err(|why| {
            anyhow::anyhow!("{} {why}: is {} the OUT of a batch?", path.display(), out.display())
        })?;
        serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))
    }

    pub fn write(&self, out: &Path) -> Result<()> {
        write_atomic(&out.join(MANIFEST_FILE), (serde_json::to_string_pretty(self)? + "\n").as_bytes())
    }

    /// Refuses a set of shards' manifests that do not make one class: other
    /// graders or rubrics, a shard twice, or one missing.
    pub fn check_set(shards: &[(String, Manifest)]) -> Result<()> {
        let Some((first_dir, first)) = shards.first() else { bail!("no shard to merge") };
        for (dir, m) in shards {
            if !m.marks_alike(first) {
                bail!(
                    "{dir} was graded by another grader or rubric than {first_dir}, or with other limits (grader {}, rubric {}, settings {}; {first_dir}: {}, {}, {}): grade every shard with the same grader and flags",
                    m.grader,
                    m.rubric,
                    m.settings,
                    first.grader,
                    first.rubric,
                    first.settings
                );
            }
            if m.taken != first.taken {
                let said = |t: &Option<String>| t.clone().unwrap_or_else(|| "no deadline".into());
                bail!(
                    "{dir} took the class's work otherwise than {first_dir} ({}; {first_dir}: {}): grade every shard with the same --before and --late",
                    said(&m.taken),
                    said(&first.taken)
                );
            }
        }
        let Some(of) = first.shard.map(|s| s.of) else {
            bail!(
                "{first_dir} is not a shard (its batch was given no --shard): there is nothing to merge it with"
            );
        };
        let mut seen: Vec<Option<&str>> = vec![None; of];
        for (dir, m) in shards {
            let shard =
                m.shard.with_context(|| format!("{dir} is not a shard (its batch was given no --shard)"))?;
            if shard.of != of {
                bail!("{dir} is shard {shard}, {first_dir} one of {of}: shards of different cuts");
            }
            if let Some(other) = seen[shard.index - 1].replace(dir) {
                bail!("{dir} and {other} are both shard {shard}");
            }
        }
        let missing: Vec<String> = seen
            .iter()
            .enumerate()
            .filter(|(_, d)| d.is_none())
            .map(|(i, _)| format!("{}/{of}", i + 1))
            .collect();
        if !missing.is_empty() {
            bail!("shards missing: {} (every shard of the {of} must be merged at once)", missing.join(", "));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_parsed_and_checked() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { index: 2, of: 5 }));
        assert!("0/5".parse::<Shard>().is_err() && "6/5".parse::<Shard>().is_err());
        assert!("2".parse::<Shard>().unwrap_err().contains("K/N"));
    }

    #[test]
    fn a_job_arrays_index_names_its_shard() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        let k8s = vars(&[("JOB_COMPLETION_INDEX", "2")]);
        assert_eq!(Shard::from_vars(Some(4), k8s), Ok(Some(Shard { index: 3, of: 4 })));
        assert!(Shard::from_vars(None, k8s).unwrap_err().contains("--shards N"));
        let slurm = vars(&[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(Shard::from_vars(None, slurm), Ok(Some(Shard { index: 1, of: 4 })));
        let from_zero = vars(&[("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_COUNT", "4")]);
        assert_eq!(Shard::from_vars(None, from_zero), Ok(Some(Shard { index: 4, of: 4 })));
        assert_eq!(Shard::from_vars(None, vars(&[])), Ok(None));
        assert!(Shard::from_vars(Some(3), vars(&[])).is_err());
        assert!(Shard::from_vars(Some(3), vars(&[("JOB_COMPLETION_INDEX", "3")])).is_err(), "index 3 of 3");
        assert!(
            Shard::from_vars(Some(3), vars(&[("JOB_COMPLETION_INDEX", "x")]))
                .unwrap_err()
                .contains("not a number")
        );
    }

    #[test]
    fn a_class_is_cut_evenly_whatever_its_order() {
        let names: Vec<String> = (0..600).map(|i| format!("student{i:03}")).collect();
        let mut reversed = names.clone();
        reversed.reverse();
        let shards: Vec<Shard> = (1..=20).map(|k| Shard::new(k, 20).unwrap()).collect();
        let members: Vec<_> = shards.iter().map(|s| s.members(&names)).collect();
        for (shard, held) in shards.iter().zip(&members) {
            assert_eq!(held.len(), 30, "{shard}");
            assert_eq!(*held, shard.members(&reversed), "the order of the roster moved a student");
        }
        for name in &names {
            assert_eq!(members.iter().filter(|m| m.contains(name)).count(), 1, "{name}");
        }
    }

    #[test]
    fn a_set_of_shards_is_whole_or_refused() {
        let m = |shard: Option<(usize, usize)>| {
            (
                format!("{shard:?}"),
                Manifest {
                    grader: "g".into(),
                    rubric: "r".into(),
                    settings: "s".into(),
                    shard: shard.map(|(k, n)| Shard::new(k, n).unwrap()),
                    taken: Some("at 2026-12-01T23:59:59Z".into()),
                },
            )
        };
        assert!(Manifest::check_set(&[m(Some((1, 2))), m(Some((2, 2)))]).is_ok());
        let missing = Manifest::check_set(&[m(Some((1, 3))), m(Some((3, 3)))]).unwrap_err().to_string();
        assert!(missing.contains("shards missing: 2/3"), "{missing}");
        let twice = Manifest::check_set(&[m(Some((1, 2))), m(Some((1, 2)))]).unwrap_err().to_string();
        assert!(twice.contains("both shard 1/2"), "{twice}");
        let mut other = m(Some((2, 2)));
        other.1.grader = "h".into();
        let graders = Manifest::check_set(&[m(Some((1, 2))), other]).unwrap_err().to_string();
        assert!(graders.contains("another grader"), "{graders}");
        let mut later = m(Some((2, 2)));
        later.1.taken = Some("at 2026-12-02T23:59:59Z".into());
        let taken = Manifest::check_set(&[m(Some((1, 2))), later]).unwrap_err().to_string();
        assert!(taken.contains("same --before and --late"), "{taken}");
        assert!(Manifest::check_set(&[m(None)]).is_err());
        assert!(Manifest::check_set(&[m(Some((1, 2))), m(Some((2, 3)))]).is_err());
    }
}
