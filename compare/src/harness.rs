//! Runs one workload's threads: pinned, started together, timed at the receivers.

use std::sync::{Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

#[path = "../../examples/common/perf.rs"]
#[allow(dead_code, reason = "only the pinning helper is used here")]
mod perf;

/// The CPU that receiving threads (PULL, SUB, the REQ client) are pinned to.
pub(crate) const RECEIVER_CPU: usize = 0;
/// The CPU that sending threads (PUSH, PUB, the REP echo) are pinned to.
pub(crate) const SENDER_CPU: usize = 1;
/// A run taking longer than this is stuck (a lost message): the process exits.
const STUCK_AFTER: Duration = Duration::from_secs(120);

/// One thread's work; it owns (or borrows) its socket or channel ends.
pub(crate) type Job<'a> = Box<dyn FnOnce() + Send + 'a>;

/// Runs every sender on a thread pinned to [`SENDER_CPU`] and every receiver on a thread
/// pinned to [`RECEIVER_CPU`] (when `pin`), releases them all at once from a barrier,
/// and returns the time from the release until the slowest receiver is done.
///
/// Setup (sockets, binds, connects, handshakes) happens before, untimed; the hot loops
/// need no timeouts, since a watchdog ends the process if a run gets stuck.
pub(crate) fn run(pin: bool, senders: Vec<Job<'_>>, receivers: Vec<Job<'_>>) -> Duration {
    let (done, watched) = mpsc::channel::<()>();
    thread::spawn(move || {
        if watched.recv_timeout(STUCK_AFTER) == Err(mpsc::RecvTimeoutError::Timeout) {
            eprintln!("error: a run took over {STUCK_AFTER:?}; a message was lost?");
            std::process::exit(2);
        }
    });
    let start = Barrier::new(senders.len() + receivers.len());
    let elapsed = thread::scope(|s| {
        let start = &start;
        for job in senders {
            s.spawn(move || {
                perf::pin(pin, SENDER_CPU, "sender");
                start.wait();
                job();
            });
        }
        let timed: Vec<_> = receivers
            .into_iter()
            .map(|job| {
                s.spawn(move || {
                    perf::pin(pin, RECEIVER_CPU, "receiver");
                    start.wait();
                    let watch = Instant::now();
                    job();
                    watch.elapsed()
                })
            })
            .collect();
        timed
            .into_iter()
            .map(|t| t.join().expect("a receiver thread panicked"))
            .max()
            .unwrap_or_default()
    });
    drop(done);
    elapsed
}
