//! The floor: a bare single-producer single-consumer ring of `u64`s (a few dozen
//! lines, no messages, no sleeping, both sides spin), timed on the same machine in the
//! same run as the table. Three figures: one-way latency (ping-pong over two rings, a
//! round trip / 2), items per second published one by one, and items per second
//! published in batches of [`BATCH`] (one release store per batch).

use std::cell::UnsafeCell;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::Options;
use crate::harness;
use crate::workload::BATCH;

/// Slots in a ring (a power of two; the same window as two sockets' default HWMs).
const CAP: usize = 2048;

/// Keeps the producer's and the consumer's words on separate cache lines.
#[repr(align(128))]
struct Padded(AtomicUsize);

/// The ring: `tail` is written by the producer, `head` by the consumer; slot `i % CAP`
/// holds item `i` for `head <= i < tail`.
struct Ring {
    slots: Box<[UnsafeCell<u64>]>,
    head: Padded,
    tail: Padded,
}

// SAFETY: one producer writes slots in `tail..head + CAP` (not visible to the consumer
// until its Release store of `tail`); one consumer reads slots in `head..tail` (not
// reused by the producer until the consumer's Release store of `head`).
unsafe impl Sync for Ring {}

impl Ring {
    fn new() -> Arc<Ring> {
        Arc::new(Ring {
            slots: (0..CAP).map(|_| UnsafeCell::new(0)).collect(),
            head: Padded(AtomicUsize::new(0)),
            tail: Padded(AtomicUsize::new(0)),
        })
    }
}

/// The producer side: its own tail and its cached view of the consumer's head.
struct Producer {
    ring: Arc<Ring>,
    tail: usize,
    head: usize,
}

/// The consumer side: its own head and its cached view of the producer's tail.
struct Consumer {
    ring: Arc<Ring>,
    head: usize,
    tail: usize,
}

fn split() -> (Producer, Consumer) {
    let ring = Ring::new();
    (
        Producer {
            ring: ring.clone(),
            tail: 0,
            head: 0,
        },
        Consumer {
            ring,
            head: 0,
            tail: 0,
        },
    )
}

impl Producer {
    /// Writes `items` (at most `CAP`), spinning for room, then publishes them with one
    /// Release store.
    fn push_all(&mut self, items: impl ExactSizeIterator<Item = u64>) {
        let n = items.len();
        while self.tail + n - self.head > CAP {
            // Acquire: pairs with the consumer's Release store of `head`: its reads of
            // the slots we are about to reuse are done.
            self.head = self.ring.head.0.load(Ordering::Acquire);
            std::hint::spin_loop();
        }
        for v in items {
            // SAFETY: slot `tail % CAP` is ours: the consumer has passed it (checked
            // above) and will not read it before our Release store below.
            unsafe { *self.ring.slots[self.tail % CAP].get() = v };
            self.tail += 1;
        }
        // Release: publishes the slot writes to the consumer's Acquire load.
        self.ring.tail.0.store(self.tail, Ordering::Release);
    }
}

impl Consumer {
    /// Takes every published item (spinning until there is one), up to `max`, passing
    /// each to `f`; returns how many it took.
    fn pop_some(&mut self, max: usize, mut f: impl FnMut(u64)) -> usize {
        while self.tail == self.head {
            // Acquire: pairs with the producer's Release store of `tail`.
            self.tail = self.ring.tail.0.load(Ordering::Acquire);
            std::hint::spin_loop();
        }
        let n = (self.tail - self.head).min(max);
        for _ in 0..n {
            // SAFETY: slot `head % CAP` was published (Acquire above) and the producer
            // does not reuse it before our Release store below.
            f(unsafe { *self.ring.slots[self.head % CAP].get() });
            self.head += 1;
        }
        // Release: our reads are done before the producer reuses the slots.
        self.ring.head.0.store(self.head, Ordering::Release);
        n
    }
}

/// `count` items from one thread to another, `batch` per publication and per take.
fn throughput(count: u64, batch: usize, pin: bool) -> Duration {
    let (mut p, mut c) = split();
    harness::run(
        pin,
        vec![Box::new(move || {
            let mut i = 0;
            while i < count {
                let n = (count - i).min(batch as u64) as usize;
                p.push_all((0..n).map(|k| i + k as u64));
                i += n as u64;
            }
        })],
        vec![Box::new(move || {
            let (mut left, mut sum) = (count, 0u64);
            while left > 0 {
                left -= c.pop_some(batch, |v| sum = sum.wrapping_add(v)) as u64;
            }
            black_box(sum);
        })],
    )
}

/// `count` round trips of one item over two rings.
fn latency(count: u64, pin: bool) -> Duration {
    let (mut ping_p, mut ping_c) = split();
    let (mut pong_p, mut pong_c) = split();
    harness::run(
        pin,
        vec![Box::new(move || {
            for _ in 0..count {
                ping_c.pop_some(1, |v| pong_p.push_all(std::iter::once(v)));
            }
        })],
        vec![Box::new(move || {
            for i in 0..count {
                ping_p.push_all(std::iter::once(i));
                pong_c.pop_some(1, |v| assert_eq!(v, i));
            }
        })],
    )
}

/// The median of `runs` runs of `f`.
fn median(runs: usize, mut f: impl FnMut() -> Duration) -> f64 {
    let mut v: Vec<f64> = (0..runs.max(1)).map(|_| f().as_secs_f64()).collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Prints the three floor figures (medians over `opts.runs`).
pub(crate) fn print_floor(count: u64, opts: Options) {
    let rounds = (count / 20).max(1);
    let one_way = median(opts.runs, || latency(rounds, opts.pin)) * 1e6 / (2.0 * rounds as f64);
    let single = count as f64 / median(opts.runs, || throughput(count, 1, opts.pin)) / 1e6;
    let batched = count as f64 / median(opts.runs, || throughput(count, BATCH, opts.pin)) / 1e6;
    println!(
        "Floor, a bare SPSC ring of u64 (no messages, both sides spin), median of {}: one-way latency {one_way:.3} µs; {single:.1} M items/s published one by one; {batched:.1} M items/s in batches of {BATCH}.",
        opts.runs
    );
}
