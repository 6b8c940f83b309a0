//! The job pool of `src/lib.rs` under loom: every interleaving of the dispatcher, both
//! workers and inproc's own atomics, up to the preemption bound.
//!
//! `RUSTFLAGS="--cfg loom" cargo test --release -p inproc-downstream --test loom_pool`
//! (or `model/downstream/run.sh`). Each model prints how many executions loom explored.
#![cfg(loom)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use inproc::{Context, SocketType};
use inproc_downstream::{Dispatcher, Handshake, worker};
use loom::thread;

/// Runs `f` under loom at preemption bound `bound` (`None`: every interleaving), unless
/// `LOOM_MAX_PREEMPTIONS` says otherwise, and prints the executions explored.
fn check(bound: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
        b.preemption_bound = bound;
    }
    if std::env::var_os("LOOM_MAX_BRANCHES").is_none() {
        // loom's default (1,000 scheduling points per execution) is too few for three
        // threads with six sockets: every inproc call is tens of model operations.
        b.max_branches = 20_000;
    }
    let shown = b.preemption_bound.map_or("none".into(), |n| n.to_string());
    // A std counter outside the model: it adds no synchronisation to what loom explores.
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let start = Instant::now();
    b.check(move || {
        r.fetch_add(1, Ordering::Relaxed);
        f()
    });
    eprintln!(
        "loom: {} executions explored (preemption bound {shown}) in {:.1} s",
        runs.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64()
    );
}

/// Main dispatches to two worker threads and checks that each did one job.
fn pool(handshake: Handshake) {
    let ctx = Context::new();
    let dispatcher = Dispatcher::bind(&ctx).unwrap();
    let workers: Vec<_> = (0..2)
        .map(|id| {
            let ctx = ctx.clone();
            thread::spawn(move || worker(&ctx, id, handshake).unwrap())
        })
        .collect();
    let mut done = dispatcher.run(2, handshake).unwrap();
    for w in workers {
        w.join().unwrap();
    }
    done.sort();
    assert_eq!(done.len(), 2);
    assert!(done[0].starts_with("worker 0") && done[1].starts_with("worker 1"));
}

/// The buggy protocol. The deadlock needs a worker stopped between its connect and the
/// other worker's, which loom reaches at once: with inproc's coarse sections (on in a
/// user's loom build, SPEC V-2) each inproc call is one step of the search.
#[test]
#[should_panic(expected = "deadlock")]
fn job_pool_without_handshake_deadlocks() {
    check(Some(1), || pool(Handshake::None));
}

/// The fixed protocol, at preemption bound 2 (SPEC V-2 has the numbers).
#[test]
fn job_pool_with_ready_handshake() {
    check(Some(2), || pool(Handshake::Ready));
}

/// The smallest user protocol: a PAIR handshake ("ready", then "job") between two
/// threads, at preemption bound 3.
#[test]
fn pair_handshake() {
    check(Some(3), pair_handshake_model);
}

/// The same, every interleaving (SPEC V-2).
#[test]
fn pair_handshake_every_interleaving() {
    check(None, pair_handshake_model);
}

fn pair_handshake_model() {
    let ctx = Context::new();
    let a = ctx.socket(SocketType::Pair).unwrap();
    a.bind("inproc://pair").unwrap();
    let ctx2 = ctx.clone();
    let t = thread::spawn(move || {
        let b = ctx2.socket(SocketType::Pair).unwrap();
        b.connect("inproc://pair").unwrap();
        b.send("ready").unwrap();
        assert_eq!(b.recv().unwrap(), "job".into());
    });
    assert_eq!(a.recv().unwrap(), "ready".into());
    a.send("job").unwrap();
    t.join().unwrap();
}

/// A user's own failed assertion inside a model: also a clean failure.
#[test]
#[should_panic(expected = "the user's assertion")]
fn failed_user_assertion_is_a_clean_failure() {
    check(Some(2), || {
        let ctx = Context::new();
        let a = ctx.socket(SocketType::Pair).unwrap();
        a.bind("inproc://pair").unwrap();
        let b = ctx.socket(SocketType::Pair).unwrap();
        b.connect("inproc://pair").unwrap();
        b.send("x").unwrap();
        // Sockets, a queued message and the context are all alive here.
        panic!("the user's assertion");
    });
}

/// Both PAIR ends wait to receive first: loom reports the deadlock while both threads
/// hold sockets and one is parked inside inproc; the failure is still clean.
#[test]
#[should_panic(expected = "deadlock")]
fn pair_both_receive_first_deadlocks() {
    check(None, || {
        let ctx = Context::new();
        let a = ctx.socket(SocketType::Pair).unwrap();
        a.bind("inproc://pair").unwrap();
        let ctx2 = ctx.clone();
        let t = thread::spawn(move || {
            let b = ctx2.socket(SocketType::Pair).unwrap();
            b.connect("inproc://pair").unwrap();
            let _ = b.recv();
            b.send("ready").unwrap();
        });
        let _ = a.recv();
        t.join().unwrap();
    });
}

/// A spawned thread's failed assertion while the main thread is blocked in `recv`.
#[test]
#[should_panic]
fn failed_assertion_in_a_worker_is_a_clean_failure() {
    check(None, || {
        let ctx = Context::new();
        let a = ctx.socket(SocketType::Pair).unwrap();
        a.bind("inproc://pair").unwrap();
        let ctx2 = ctx.clone();
        let t = thread::spawn(move || {
            let b = ctx2.socket(SocketType::Pair).unwrap();
            b.connect("inproc://pair").unwrap();
            panic!("the user's assertion in a worker");
        });
        let _ = a.recv();
        let _ = t.join();
    });
}
