//! The command line: `q5_pool [--workers N] [--threads] [--] [NUMBER ...]`.
//!
//! Hand-written rather than with a parser crate, to keep the contract's
//! promise of a one-line message on stderr and exit status 2 for bad input.

/// Numbers squared when none are given.
pub const DEFAULT_NUMBERS: [i64; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 9];
/// Workers in the pool when `--workers` is not given.
pub const DEFAULT_WORKERS: usize = 4;
/// More workers than this is surely a typo, and would fork that many processes.
pub const MAX_WORKERS: usize = 256;

/// Which kind of pool does the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forked worker processes (the answer to Q5).
    Processes,
    /// A rayon thread pool, for comparison (`--threads`).
    Threads,
}

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub workers: usize,
    pub mode: Mode,
    pub numbers: Vec<i64>,
}

impl Args {
    /// Parses the arguments after the program name. The error is the one-line
    /// message for stderr.
    ///
    /// ```
    /// let args = q5_pool::Args::parse(["--workers", "2", "--", "-3", "5"]).unwrap();
    /// assert_eq!((args.workers, args.numbers), (2, vec![-3, 5]));
    /// assert!(q5_pool::Args::parse(["--workers", "0"]).is_err());
    /// ```
    pub fn parse<I, S>(args: I) -> Result<Args, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut parsed = Args { workers: DEFAULT_WORKERS, mode: Mode::Processes, numbers: Vec::new() };
        let mut args = args.into_iter();
        let mut options_done = false;
        while let Some(arg) = args.next() {
            let arg = arg.as_ref();
            // A negative number such as -3 is a number, not an option.
            if options_done || !arg.starts_with('-') || arg.parse::<i64>().is_ok() {
                parsed.numbers.push(parse_number(arg)?);
            } else if arg == "--" {
                options_done = true;
            } else if arg == "--threads" {
                parsed.mode = Mode::Threads;
            } else if arg == "--workers" {
                let value = args.next().ok_or("--workers needs a value, e.g. --workers 4")?;
                parsed.workers = parse_workers(value.as_ref())?;
            } else if let Some(value) = arg.strip_prefix("--workers=") {
                parsed.workers = parse_workers(value)?;
            } else {
                return Err(format!(
                    "unknown option '{arg}' (usage: q5_pool [--workers N] [--threads] [--] [NUMBER ...])"
                ));
            }
        }
        if parsed.numbers.is_empty() {
            parsed.numbers = DEFAULT_NUMBERS.to_vec();
        }
        Ok(parsed)
    }
}

fn parse_number(word: &str) -> Result<i64, String> {
    word.parse().map_err(|_| format!("'{word}' is not a number: expected a 64-bit signed integer"))
}

fn parse_workers(word: &str) -> Result<usize, String> {
    match word.parse::<usize>() {
        Ok(n) if (1..=MAX_WORKERS).contains(&n) => Ok(n),
        _ => Err(format!("--workers must be a whole number from 1 to {MAX_WORKERS}, not '{word}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let args = Args::parse::<_, &str>([]).unwrap();
        assert_eq!(args, Args { workers: 4, mode: Mode::Processes, numbers: DEFAULT_NUMBERS.to_vec() });
    }

    #[test]
    fn options_and_numbers() {
        let args = Args::parse(["-7", "--workers=3", "--threads", "8", "--", "-9"]).unwrap();
        assert_eq!((args.workers, args.mode, args.numbers), (3, Mode::Threads, vec![-7, 8, -9]));
    }

    #[test]
    fn bad_arguments() {
        for bad in [
            &["abc"][..],
            &["--workers", "0"],
            &["--workers"],
            &["--workers", "x"],
            &["--bogus"],
            &["99999999999999999999"],
            &["--", "--workers"],
        ] {
            let err = Args::parse(bad).expect_err(&format!("{bad:?} should be rejected"));
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }
}
