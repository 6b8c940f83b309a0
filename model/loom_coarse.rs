//! The coarse sections of a user's loom model (`src/sync/coarse.rs`, SPEC V-2): with
//! them on, as in every loom build but inproc's own models, each inproc operation runs
//! inside one model-wide lock and a blocking call sleeps on its event count with that
//! lock. These models check that the mode loses no wake-up and reports no false
//! deadlock on every path that waits: a blocked receive, a send blocked by the
//! high-water mark, shutdown waking both, a poller, `Context::terminate`, and a socket
//! shared by two threads; and that a real deadlock is still reported.
#![cfg(loom)]

mod common;

use inproc::{Context, Error, Interest, Poller, SocketType};

#[test]
fn pair_round_trip_every_interleaving() {
    common::check_coarse(None, || {
        let ctx = Context::new();
        let a = ctx.socket(SocketType::Pair).unwrap();
        a.bind("inproc://p").unwrap();
        let ctx2 = ctx.clone();
        let t = loom::thread::spawn(move || {
            let b = ctx2.socket(SocketType::Pair).unwrap();
            b.connect("inproc://p").unwrap();
            b.send("ping").unwrap();
            assert_eq!(b.recv().unwrap(), "pong".into());
        });
        assert_eq!(a.recv().unwrap(), "ping".into());
        a.send("pong").unwrap();
        t.join().unwrap();
    });
}

#[test]
fn send_blocked_by_hwm_is_woken_by_the_reader() {
    common::check_coarse(None, || {
        let ctx = Context::new();
        let pull = ctx.socket(SocketType::Pull).unwrap();
        pull.set_rcvhwm(1).unwrap();
        pull.bind("inproc://q").unwrap();
        let push = ctx.socket(SocketType::Push).unwrap();
        push.set_sndhwm(1).unwrap();
        push.connect("inproc://q").unwrap();
        let t = loom::thread::spawn(move || {
            for i in 0..3u8 {
                push.send(vec![i]).unwrap();
            }
        });
        for i in 0..3u8 {
            assert_eq!(pull.recv().unwrap(), vec![i].into());
        }
        t.join().unwrap();
    });
}

/// Three threads: at preemption bound 3 (36,127 executions; every interleaving takes
/// minutes).
#[test]
fn shutdown_wakes_blocked_send_and_recv() {
    common::check_coarse(Some(3), || {
        let ctx = Context::new();
        let push = ctx.socket(SocketType::Push).unwrap();
        push.bind("inproc://out").unwrap();
        let pull = ctx.socket(SocketType::Pull).unwrap();
        pull.bind("inproc://in").unwrap();
        let ts = loom::thread::spawn(move || {
            let e = push.send("m").unwrap_err();
            assert_eq!(e.error(), &Error::Terminated);
        });
        let tr = loom::thread::spawn(move || {
            assert_eq!(pull.recv().unwrap_err(), Error::Terminated);
        });
        ctx.shutdown();
        ts.join().unwrap();
        tr.join().unwrap();
    });
}

#[test]
fn poller_is_woken_by_a_send() {
    common::check_coarse(None, || {
        let ctx = Context::new();
        let a = ctx.socket(SocketType::Pair).unwrap();
        a.bind("inproc://a").unwrap();
        let peer = ctx.socket(SocketType::Pair).unwrap();
        peer.connect("inproc://a").unwrap();
        let mut poller = Poller::new();
        let token = poller.add(&a, Interest::READABLE);
        let t = loom::thread::spawn(move || peer.send("a").unwrap());
        loop {
            let events = poller.wait(None).unwrap().to_vec();
            if events.iter().any(|e| e.token == token && e.readable) {
                break;
            }
        }
        assert_eq!(a.try_recv().unwrap(), "a".into());
        drop(poller);
        t.join().unwrap();
    });
}

#[test]
fn terminate_waits_for_the_last_close() {
    common::check_coarse(None, || {
        let ctx = Context::new();
        let s = ctx.socket(SocketType::Pull).unwrap();
        let t = loom::thread::spawn(move || {
            // Blocked until shutdown, then closed by the drop.
            assert_eq!(s.recv().unwrap_err(), Error::Terminated);
        });
        ctx.terminate();
        assert_eq!(ctx.socket_count(), 0);
        t.join().unwrap();
    });
}

#[test]
fn socket_shared_by_two_threads() {
    common::check_coarse(None, || {
        let ctx = Context::new();
        let pull = std::sync::Arc::new(ctx.socket(SocketType::Pull).unwrap());
        pull.bind("inproc://s").unwrap();
        let push = ctx.socket(SocketType::Push).unwrap();
        push.connect("inproc://s").unwrap();
        let p2 = pull.clone();
        let t = loom::thread::spawn(move || p2.recv().unwrap());
        push.send("x").unwrap();
        push.send("y").unwrap();
        let mine = pull.recv().unwrap();
        let theirs = t.join().unwrap();
        let mut got = [mine, theirs];
        got.sort_by(|a, b| a.frames()[0].as_slice().cmp(b.frames()[0].as_slice()));
        assert_eq!(got, ["x".into(), "y".into()]);
    });
}

/// A real deadlock (both ends receive first) is still reported, and cleanly.
#[test]
#[should_panic(expected = "deadlock")]
fn protocol_deadlock_is_reported() {
    common::check_coarse(None, || {
        let ctx = Context::new();
        let a = ctx.socket(SocketType::Pair).unwrap();
        a.bind("inproc://d").unwrap();
        let ctx2 = ctx.clone();
        let t = loom::thread::spawn(move || {
            let b = ctx2.socket(SocketType::Pair).unwrap();
            b.connect("inproc://d").unwrap();
            let _ = b.recv();
        });
        let _ = a.recv();
        t.join().unwrap();
    });
}
