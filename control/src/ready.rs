//! A deterministic executor for ports that answer at once: the simulator's services are a
//! synchronous world behind the async port traits, so every future the orchestration awaits
//! over them is ready when first polled, and a run needs no scheduler, no threads and no clock.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Polls `future` to completion on this thread.
///
/// # Panics
///
/// If the future keeps waiting: a combinator may yield once to be fair to its siblings (and is
/// polled again at once), but nothing would ever wake a port that answers later, so that is a
/// bug in the caller's ports, not a reason to hang.
pub fn run_ready<F: Future>(future: F) -> F::Output {
    /// Polls in a row that may come back `Pending` from cooperative yields alone.
    const YIELDS: u32 = 1_000;
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..YIELDS {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
    panic!("a port answered later; run_ready needs ports that answer at once")
}
