//! Q5: a pool of worker processes, and the command line of the `q5_pool`
//! program that uses it.
//!
//! ```no_run
//! use q5_pool::ProcessPool;
//!
//! // SAFETY: called before this program has started any thread.
//! let mut pool = unsafe { ProcessPool::start(4, |x| Ok(i128::from(x) * i128::from(x))) }?;
//! assert_eq!(pool.map(&[1, 2, 3])?, vec![1, 4, 9]);
//! pool.join()?;
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod args;
pub mod pool;

pub use args::{Args, Mode};
pub use pool::ProcessPool;
