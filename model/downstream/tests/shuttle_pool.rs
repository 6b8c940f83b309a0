//! The job pool of `src/lib.rs` under shuttle: random and PCT schedules of the
//! dispatcher, both workers and inproc's own code.
//!
//! `RUSTFLAGS="--cfg shuttle" cargo test --release -p inproc-downstream --test shuttle_pool`
//! (or `model/downstream/run.sh`). `SHUTTLE_ITERS` sets the schedules per scheduler
//! (default 1,000).
//!
//! Replaying a failure: shuttle prints `failing schedule: "<string>"`; rerun the one test
//! with `SHUTTLE_SCHEDULE=<string>` and `check` below replays exactly that schedule
//! (`shuttle::replay`), with every thread's steps in the same order.
#![cfg(shuttle)]

use inproc::{Context, SocketType};
use inproc_downstream::{Dispatcher, Handshake, worker};
use shuttle::thread;

/// Schedules per scheduler: `SHUTTLE_ITERS`, default 1,000.
fn iters() -> usize {
    std::env::var("SHUTTLE_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000)
}

/// Replays `SHUTTLE_SCHEDULE` if set; otherwise `check_random` then `check_pct` (depth 3).
fn check(f: impl Fn() + Send + Sync + Clone + 'static) {
    if let Ok(schedule) = std::env::var("SHUTTLE_SCHEDULE") {
        shuttle::replay(f, &schedule);
        return;
    }
    shuttle::check_random(f.clone(), iters());
    shuttle::check_pct(f, iters(), 3);
}

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

/// The buggy protocol: shuttle finds a schedule where one worker connects late and
/// reports the deadlock; the test fails cleanly with shuttle's report and schedule.
#[test]
#[should_panic(expected = "deadlock")]
fn job_pool_without_handshake_deadlocks() {
    check(|| pool(Handshake::None));
}

/// The fixed protocol passes every schedule tried.
#[test]
fn job_pool_with_ready_handshake() {
    check(|| pool(Handshake::Ready));
}

/// The PAIR handshake ("ready", then "job") between two threads.
#[test]
fn pair_handshake() {
    check(|| {
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
    });
}

/// Both PAIR ends receive first: a deadlock with both threads inside inproc.
#[test]
#[should_panic(expected = "deadlock")]
fn pair_both_receive_first_deadlocks() {
    check(|| {
        let ctx = Context::new();
        let a = ctx.socket(SocketType::Pair).unwrap();
        a.bind("inproc://pair").unwrap();
        let ctx2 = ctx.clone();
        let t = thread::spawn(move || {
            let b = ctx2.socket(SocketType::Pair).unwrap();
            b.connect("inproc://pair").unwrap();
            let _ = b.recv();
        });
        let _ = a.recv();
        t.join().unwrap();
    });
}

/// A user's failed assertion with sockets, a queued message and a blocked peer alive.
#[test]
#[should_panic(expected = "the user's assertion")]
fn failed_user_assertion_is_a_clean_failure() {
    check(|| {
        let ctx = Context::new();
        let a = ctx.socket(SocketType::Pair).unwrap();
        a.bind("inproc://pair").unwrap();
        let ctx2 = ctx.clone();
        let _worker = thread::spawn(move || {
            let b = ctx2.socket(SocketType::Pair).unwrap();
            b.connect("inproc://pair").unwrap();
            let _ = b.recv();
        });
        a.send(vec![7u8; 100]).unwrap();
        panic!("the user's assertion");
    });
}
