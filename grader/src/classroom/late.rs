//! Late work, as courses grade it: a share of the mark taken for each day,
//! started, after the deadline, up to a last day after which nothing more
//! is accepted.
//!
//! ```
//! use grader::classroom::late::LatePolicy;
//! use grader::classroom::roster::Deadline;
//! let policy: LatePolicy = "10%/day, 3 days".parse()?;
//! let deadline = Deadline::parse("2026-12-01T23:59:59Z")?;
//! // A day and a half late is two days begun: 20% taken.
//! let late = policy.late(deadline.unix, deadline.unix + 36 * 3600);
//! assert_eq!((late.days, late.percent), (2, 20));
//! assert_eq!(late.points_of(87), 17); // of 87 points, 17.4, rounded
//! assert_eq!(grader::classroom::roster::utc(policy.limit(deadline.unix)), "2026-12-04T23:59:59Z");
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Moments are seconds since the epoch (a [`Deadline`]'s `unix`), and the
//! moment a submission was made is the caller's to say: a commit's date
//! (the student's to set) in `batch`, the upload's time in Gradescope.
//!
//! [`Deadline`]: crate::classroom::roster::Deadline

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

const DAY: i64 = 86_400;

/// What the policy looks like, for messages.
pub const LATE_FORMS: &str = "a share per day and the days accepted, e.g. \"10%/day, 3 days\"";

/// A share of the mark per day begun after the deadline, for at most
/// `days` days (work after those is not accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatePolicy {
    pub percent_per_day: u32,
    pub days: u32,
}

/// What a submission loses under a late policy (nothing when on time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Late {
    /// Days begun after the deadline.
    pub days: u32,
    /// The share of the mark taken (at most 100).
    pub percent: u32,
    /// The policy, in words.
    pub policy: String,
    /// Made after the policy's last day: not accepted, nothing given (an
    /// upload can be; a batch grades no commit after that day).
    #[serde(default)]
    pub past_limit: bool,
}

impl LatePolicy {
    /// The last moment work is accepted: `days` days after the deadline.
    pub fn limit(&self, deadline: i64) -> i64 {
        deadline + i64::from(self.days) * DAY
    }

    /// What work made at `unix` loses (nothing, 0 days, when it was on
    /// time).
    pub fn late(&self, deadline: i64, unix: i64) -> Late {
        let after = (unix - deadline).max(0);
        let days = u32::try_from((after + DAY - 1) / DAY).unwrap_or(u32::MAX);
        let past_limit = days > self.days;
        let percent = if past_limit { 100 } else { days.saturating_mul(self.percent_per_day).min(100) };
        Late { days, percent, policy: self.to_string(), past_limit }
    }
}

impl Late {
    /// The points taken from `total`: its share, rounded to the nearest
    /// point (half up).
    pub fn points_of(&self, total: u32) -> u32 {
        ((u64::from(total) * u64::from(self.percent) + 50) / 100) as u32
    }

    /// What the student is told: how late, what was taken, and why (`None`
    /// when it was on time).
    pub fn said(&self, points: u32) -> Option<String> {
        if self.days == 0 {
            return None;
        }
        let days = if self.days == 1 { "1 day".to_string() } else { format!("{} days", self.days) };
        let taken = match self.past_limit {
            true => format!(
                "past the last day late work is accepted, so nothing is given ({points} points taken)"
            ),
            false => format!("so {}% ({points} points) taken", self.percent),
        };
        Some(format!(
            "submitted late: {days} begun after the deadline, {taken} under the course's policy ({})",
            self.policy
        ))
    }
}

impl std::fmt::Display for LatePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = if self.days == 1 { "1 day".to_string() } else { format!("{} days", self.days) };
        write!(
            f,
            "{}% per day begun after the deadline, accepted up to {days} after it",
            self.percent_per_day
        )
    }
}

impl std::str::FromStr for LatePolicy {
    type Err = anyhow::Error;

    /// `10%/day, 3 days` (also `10% per day, 3 days`, `10%/day,3d`).
    fn from_str(text: &str) -> Result<LatePolicy> {
        let refuse = || anyhow::anyhow!("{text:?} is not a late policy: give {LATE_FORMS}");
        let (share, days) = text.split_once(',').ok_or_else(refuse)?;
        let share = share.trim().to_ascii_lowercase().replace(' ', "");
        let percent = share
            .strip_suffix("%/day")
            .or_else(|| share.strip_suffix("%perday"))
            .and_then(|p| p.parse::<u32>().ok())
            .ok_or_else(refuse)?;
        let days = days.trim().to_ascii_lowercase();
        let count = days.trim_end_matches("days").trim_end_matches("day").trim_end_matches('d').trim();
        let days = count.parse::<u32>().map_err(|_| refuse())?;
        if percent == 0 || percent > 100 {
            bail!("{text:?}: the share per day must be 1% to 100%");
        }
        if days == 0 || days > 365 {
            bail!("{text:?}: late work is accepted for 1 to 365 days (without late work, give no policy)");
        }
        Ok(LatePolicy { percent_per_day: percent, days })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_read_in_their_usual_spellings_and_nonsense_is_refused() {
        for text in ["10%/day, 3 days", "10% per day, 3 days", "10%/day,3d", " 10 %/Day , 3 day "] {
            let policy: LatePolicy = text.parse().unwrap();
            assert_eq!(policy, LatePolicy { percent_per_day: 10, days: 3 }, "{text}");
        }
        for text in ["10%", "10/day, 3 days", "0%/day, 3 days", "110%/day, 1 day", "10%/day, 0 days", "x"] {
            assert!(text.parse::<LatePolicy>().is_err(), "{text}");
        }
    }

    #[test]
    fn days_are_counted_as_begun_and_the_share_is_capped() {
        let policy = LatePolicy { percent_per_day: 40, days: 5 };
        let deadline = 1_796_126_400; // 2026-12-01T12:00:00Z
        let at = |seconds: i64| {
            let late = policy.late(deadline, deadline + seconds);
            (late.days, late.percent)
        };
        assert_eq!(at(-DAY), (0, 0));
        assert_eq!(at(0), (0, 0));
        assert_eq!(at(1), (1, 40));
        assert_eq!(at(DAY), (1, 40));
        assert_eq!(at(DAY + 1), (2, 80));
        assert_eq!(at(3 * DAY), (3, 100));
        let past = policy.late(deadline, deadline + 5 * DAY + 1);
        assert!(
            past.past_limit && past.percent == 100 && past.said(7).unwrap().contains("past the last day")
        );
        let short = LatePolicy { percent_per_day: 10, days: 3 }.late(deadline, deadline + 4 * DAY);
        assert_eq!((short.days, short.percent, short.past_limit), (4, 100, true));
        let late = policy.late(deadline, deadline + 1);
        assert_eq!((late.points_of(0), late.points_of(3), late.points_of(100)), (0, 1, 40));
        assert_eq!(policy.late(deadline, deadline).said(0), None);
    }
}
