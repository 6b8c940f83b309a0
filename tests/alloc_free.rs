//! F-1, F-2, F-4, F-7 (SPEC section 5f): the send/receive path allocates nothing per message
//! for frames up to `INLINE_MAX` (31) bytes (inline) nor, in steady state, for larger frames copied from
//! a slice (recycled pool buffers); memory stays bounded by the HWMs however many
//! messages pass. Checked with a counting global allocator; the file holds one test so
//! no other test's allocations are counted.
#![cfg(not(any(loom, shuttle)))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

use inproc::{Context, INLINE_MAX, Message, Socket, SocketType};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; the counters are side effects only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` (on any thread).
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCS.load(Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    f();
    COUNTING.store(false, Ordering::SeqCst);
    ALLOCS.load(Ordering::SeqCst) - before
}

fn pair(ctx: &Context, name: &str) -> (Socket, Socket) {
    let push = ctx.socket(SocketType::Push).unwrap();
    push.bind(name).unwrap();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    pull.connect(name).unwrap();
    (push, pull)
}

/// A sender thread that stays up across streams (a new thread would start a new pool),
/// sending `count` messages of `size` bytes per order.
struct Sender {
    orders: mpsc::Sender<(usize, usize)>,
    done: mpsc::Receiver<()>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Sender {
    fn new(push: Socket) -> Sender {
        let (orders, rx) = mpsc::channel::<(usize, usize)>();
        let (tx, done) = mpsc::channel();
        let thread = thread::spawn(move || {
            let payload = vec![7u8; 1 << 16];
            while let Ok((size, count)) = rx.recv() {
                for _ in 0..count {
                    push.send(&payload[..size]).unwrap();
                }
                tx.send(()).unwrap();
            }
        });
        Sender {
            orders,
            done,
            thread: Some(thread),
        }
    }

    /// Streams `count` messages of `size` bytes to `pull`, receiving them here.
    fn stream(&self, pull: &Socket, size: usize, count: usize) {
        self.orders.send((size, count)).unwrap();
        for _ in 0..count {
            let m = pull.recv().unwrap();
            assert_eq!(m.size(), size);
        }
        self.done.recv().unwrap();
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let (dead, _) = mpsc::channel();
        self.orders = dead;
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

#[test]
fn steady_state_allocates_nothing_per_message() {
    let ctx = Context::new();

    // One thread, send then receive: after a warm-up, no allocation at all.
    for (name, size) in [("inproc://a31", INLINE_MAX), ("inproc://a1k", 1024)] {
        let (push, pull) = pair(&ctx, name);
        let payload = vec![1u8; size];
        let round = || {
            for _ in 0..1000 {
                push.send(&payload[..]).unwrap();
                assert_eq!(pull.recv().unwrap().size(), size);
            }
        };
        round();
        let n = allocations(round);
        assert_eq!(
            n, 0,
            "{size}-byte messages: {n} allocations in 1000 round trips"
        );
    }

    // F-7: REQ/REP round trips, one thread: the envelope travels in one vector that
    // goes back and forth (REP builds its reply in the request's vector, REQ keeps the
    // reply's for its next request), so after a warm-up nothing is allocated.
    let req = ctx.socket(SocketType::Req).unwrap();
    req.bind("inproc://reqrep").unwrap();
    let rep = ctx.socket(SocketType::Rep).unwrap();
    rep.connect("inproc://reqrep").unwrap();
    let round = || {
        for _ in 0..1000 {
            req.send(&b"ping"[..]).unwrap();
            let q = rep.recv().unwrap();
            rep.send(q).unwrap();
            assert_eq!(req.recv().unwrap(), Message::from("ping"));
        }
    };
    round();
    let n = allocations(round);
    assert_eq!(n, 0, "REQ/REP: {n} allocations in 1000 round trips");

    // Two threads, a stream of 300,000 messages: the queue's chunks (256 slots) may
    // grow and shrink with the backlog (about one allocation per 256 messages while the
    // backlog is deep), and a pool grows to its working set (bounded by the window),
    // but nothing is allocated per message.
    for (name, size) in [
        ("inproc://s1", 1),
        ("inproc://s31", INLINE_MAX),
        ("inproc://s1k", 1024),
    ] {
        let (push, pull) = pair(&ctx, name);
        let sender = Sender::new(push);
        sender.stream(&pull, size, 20_000); // warm-up
        let count = 300_000;
        let n = allocations(|| sender.stream(&pull, size, count));
        eprintln!("{size}-byte stream: {n} allocations for {count} messages");
        assert!(
            n <= count / 100,
            "{size}-byte stream: {n} allocations for {count} messages"
        );
    }

    // Memory is bounded by the window, not by the number of messages: 300 MB of 1 KiB
    // messages pass a 2,000-message window with at most a few MiB live at any time.
    let (push, pull) = pair(&ctx, "inproc://bounded");
    let sender = Sender::new(push);
    let start_peak = LIVE.load(Ordering::SeqCst);
    PEAK.store(start_peak, Ordering::SeqCst);
    sender.stream(&pull, 1024, 300_000);
    let grew = PEAK.load(Ordering::SeqCst) - start_peak;
    eprintln!("1 KiB stream of 300,000: peak live memory grew by {grew} bytes");
    assert!(
        grew < 16 << 20,
        "peak live memory grew by {grew} bytes while 300 MB passed"
    );
    let m = Message::from(&[0u8; INLINE_MAX][..]);
    assert!(m.frames()[0].is_inline());
}
