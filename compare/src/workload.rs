//! The workloads, and what each implementation under comparison provides to run them.

use std::time::Duration;

/// Senders in the fan-in workload, and subscribers in the fan-out workload.
pub(crate) const FAN: u64 = 4;

/// Subscribers in the fan-out workload: [`FAN`] unless `--subs N` says otherwise (to
/// measure more subscribers than CPUs). Set once by `main` before any run.
static FAN_OUT_SUBS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(FAN);

/// The fan-out workload's subscriber count.
pub(crate) fn fan_out_subs() -> u64 {
    // Relaxed: set by the main thread before the runs start (and their threads spawn).
    FAN_OUT_SUBS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Sets the fan-out workload's subscriber count (`--subs N`).
pub(crate) fn set_fan_out_subs(n: u64) {
    // Relaxed: see `fan_out_subs`.
    FAN_OUT_SUBS.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// One row of the comparison table.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Workload {
    /// One sender, one receiver, `size`-byte messages, a fresh message per send.
    Throughput {
        /// Message size in bytes.
        size: usize,
    },
    /// Request/reply ping-pong of one `size`-byte message against an echo thread.
    Latency {
        /// Message size in bytes.
        size: usize,
    },
    /// PAIR ping-pong of one `size`-byte message against an echo thread (crossbeam: the
    /// same two channels as `Latency`).
    PairLatency {
        /// Message size in bytes.
        size: usize,
    },
    /// [`FAN`] senders into one receiver, 1-byte messages.
    FanIn,
    /// One publisher to [`FAN`] subscribers, 1-byte messages, each subscriber gets all.
    FanOut,
    /// Like `Throughput`, but inproc sends and receives in batches of [`BATCH`]
    /// (`send_batch` / `recv_batch`); the others have no batch API and run per item.
    Batch {
        /// Message size in bytes.
        size: usize,
    },
}

/// Messages per batch in the batch workload.
pub(crate) const BATCH: usize = 64;

impl Workload {
    /// The table's rows, in order.
    pub(crate) const ALL: [Workload; 10] = [
        Workload::Throughput { size: 1 },
        Workload::Throughput { size: 64 },
        Workload::Throughput { size: 1024 },
        Workload::Throughput { size: 65536 },
        Workload::Latency { size: 1 },
        Workload::Latency { size: 1024 },
        Workload::PairLatency { size: 1 },
        Workload::FanIn,
        Workload::FanOut,
        Workload::Batch { size: 1 },
    ];

    /// The row's label.
    pub(crate) fn label(self) -> String {
        match self {
            Workload::Throughput { size } => format!("PUSH→PULL throughput, {size} B"),
            Workload::Latency { size } => format!("REQ/REP latency (one-way), {size} B"),
            Workload::PairLatency { size } => format!("PAIR ping-pong (one-way), {size} B"),
            Workload::FanIn => format!("fan-in {FAN} PUSH → 1 PULL, 1 B"),
            Workload::FanOut => {
                format!("fan-out PUB → {} SUB, 1 B (per subscriber)", fan_out_subs())
            }
            Workload::Batch { size } => {
                format!("PUSH→PULL {size} B, inproc in batches of {BATCH} (others per item)")
            }
        }
    }

    /// Runs the workload once on `side`: `count` messages (round trips for latency;
    /// the total for fan-in; per subscriber for fan-out). Returns the timed duration.
    pub(crate) fn run(self, side: &dyn Side, count: u64, pin: bool) -> Duration {
        match self {
            Workload::Throughput { size } => side.throughput(size, count, pin),
            Workload::Latency { size } => side.latency(size, count, pin),
            Workload::PairLatency { size } => side.pair_latency(size, count, pin),
            Workload::FanIn => side.fan_in(count / FAN, pin),
            Workload::FanOut => side.fan_out(count, pin),
            Workload::Batch { size } => side.batch(size, count, pin),
        }
    }
}

/// One implementation under comparison. Each method sets its workload up (untimed),
/// runs it through [`crate::harness::run`] and returns the time that harness measured.
/// Every message received is checked for its size. In the throughput, fan-in and
/// fan-out workloads each message is a fresh copy of a payload that the sender stamps
/// with [`stamp`], and the receiver reads it whole with [`checksum`].
pub(crate) trait Side {
    /// PUSH→PULL: `count` fresh `size`-byte messages.
    fn throughput(&self, size: usize, count: u64, pin: bool) -> Duration;
    /// REQ/REP: `count` round trips of one `size`-byte message.
    fn latency(&self, size: usize, count: u64, pin: bool) -> Duration;
    /// PAIR: `count` round trips of one `size`-byte message; where the side has no
    /// socket types, the same as `latency`.
    fn pair_latency(&self, size: usize, count: u64, pin: bool) -> Duration {
        self.latency(size, count, pin)
    }
    /// [`FAN`] senders, `per_sender` fresh 1-byte messages each, into one receiver.
    fn fan_in(&self, per_sender: u64, pin: bool) -> Duration;
    /// One publisher, `count` fresh 1-byte messages, each delivered to [`FAN`]
    /// subscribers; the duration is the slowest subscriber's.
    fn fan_out(&self, count: u64, pin: bool) -> Duration;
    /// The throughput workload sent and received in batches of [`BATCH`] where the side
    /// has a batch API; per item (the same as `throughput`) where it has none.
    fn batch(&self, size: usize, count: u64, pin: bool) -> Duration {
        self.throughput(size, count, pin)
    }
}

/// Writes message number `i` into `payload` before it is copied into a message: its
/// first and last byte become `i as u8`, so no two consecutive messages are equal.
pub(crate) fn stamp(payload: &mut [u8], i: u64) {
    if let [first, .., last] = payload {
        *first = i as u8;
        *last = i as u8;
    } else if let [only] = payload {
        *only = i as u8;
    }
}

/// Reads every byte of a received payload (a wrapping sum the compiler vectorises).
pub(crate) fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b))
}
