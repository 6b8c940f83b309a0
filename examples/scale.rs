//! Scale workload (issue #11): `n` PAIR sockets each bind their own name, `n` more
//! connect one to each, then all close; the time of each phase and per operation, for
//! each `n` given. Then the heap memory of idle connections, and what abandoned
//! connectors leave behind (a counting global allocator measures live heap bytes).
//!
//! ```text
//! cargo run --release --example scale [-- N...]     (default: 1000 10000 100000)
//! ```
//!
//! Timings are printed, never asserted (they belong here, not in tests).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use inproc::{Context, SocketType};

/// The system allocator, counting the bytes live on the heap.
struct Counting;

/// Heap bytes allocated and not yet freed.
static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counter is only arithmetic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // Relaxed: a statistic, read after the measured work on the same thread.
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Relaxed: as in `alloc`.
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as in `alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap bytes live now.
fn live() -> usize {
    // Relaxed: see `Counting::alloc`.
    LIVE.load(Ordering::Relaxed)
}

/// Binds `n` names, connects to each, closes everything; prints one table row if `print`.
fn bind_connect_close(n: usize, print: bool) {
    let ctx = Context::new();
    let names: Vec<String> = (0..n).map(|i| format!("inproc://scale-{i}")).collect();
    let start = Instant::now();
    let binders: Vec<_> = names
        .iter()
        .map(|name| {
            let s = ctx.socket(SocketType::Pair).unwrap();
            s.bind(name).unwrap();
            s
        })
        .collect();
    let bind = start.elapsed();
    let start = Instant::now();
    let connectors: Vec<_> = names
        .iter()
        .map(|name| {
            let s = ctx.socket(SocketType::Pair).unwrap();
            s.connect(name).unwrap();
            s
        })
        .collect();
    let connect = start.elapsed();
    let start = Instant::now();
    drop(connectors);
    drop(binders);
    let close = start.elapsed();
    if !print {
        return;
    }
    let total = bind + connect + close;
    let per = |d: std::time::Duration| d.as_secs_f64() * 1e9 / n as f64;
    println!(
        "{n:>9} | {:>8.3} s | {:>8.3} s | {:>8.3} s | {:>8.3} s | {:>7.0} / {:>7.0} / {:>7.0} ns",
        bind.as_secs_f64(),
        connect.as_secs_f64(),
        close.as_secs_f64(),
        total.as_secs_f64(),
        per(bind),
        per(connect),
        per(close),
    );
}

/// Heap memory of `n` idle connections: first `2n` PAIR sockets (half bound), then one
/// connection between each pair, counted apart.
fn idle_memory(n: usize) {
    let ctx = Context::new();
    let start = live();
    let mut binders = Vec::with_capacity(n);
    let mut connectors = Vec::with_capacity(n);
    for i in 0..n {
        let b = ctx.socket(SocketType::Pair).unwrap();
        b.bind(&format!("inproc://idle-{i}")).unwrap();
        binders.push(b);
        connectors.push(ctx.socket(SocketType::Pair).unwrap());
    }
    let sockets = live();
    for (i, c) in connectors.iter().enumerate() {
        c.connect(&format!("inproc://idle-{i}")).unwrap();
    }
    for b in &binders {
        // The binder adopts the handed-over pipe at its next call.
        assert!(b.try_recv().is_err());
    }
    let connected = live();
    let kib = |bytes: usize| bytes as f64 / 1024.0 / n as f64;
    println!(
        "idle memory, {n} of each: a PAIR socket {:.2} KiB (with its name: the binders), an idle connection {:.2} KiB",
        kib(sockets.saturating_sub(start)) / 2.0,
        kib(connected.saturating_sub(sockets)),
    );
}

/// `cycles` connectors each connect to a name nobody binds, optionally send `payload`
/// bytes, and close; what the context keeps (heap growth, endpoint count). A first
/// round of as many cycles runs unmeasured, so that the bounded per-thread caches
/// (recycled trie nodes, the reclamation participant) are already filled: what is
/// measured is what the cycles themselves leave behind.
fn abandoned(cycles: usize, payload: usize) {
    let ctx = Context::new();
    let cycle = || {
        let s = ctx.socket(SocketType::Push).unwrap();
        s.connect("inproc://nobody").unwrap();
        if payload > 0 {
            s.send(vec![7u8; payload]).unwrap();
        }
    };
    if payload == 0 {
        (0..cycles).for_each(|_| cycle());
    }
    let before = live();
    (0..cycles).for_each(|_| cycle());
    let after = live();
    println!(
        "{cycles} connect{} / close cycles on an unbound name: heap +{:.1} MB kept, {} name(s)",
        if payload > 0 {
            format!(" / send {payload} B")
        } else {
            String::new()
        },
        after.saturating_sub(before) as f64 / 1e6,
        ctx.endpoint_count(),
    );
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000]
    } else {
        sizes
    };
    // Warm-up (not printed): first-use costs (thread-locals, the first pages of the
    // heap) are not per-operation costs.
    bind_connect_close(1_000, false);
    println!(
        "  sockets |     bind  |  connect  |    close  |    total  | per op: bind / connect / close"
    );
    for &n in &sizes {
        bind_connect_close(n, true);
    }
    idle_memory(10_000);
    abandoned(20_000, 0);
    abandoned(20_000, 1024);
}
