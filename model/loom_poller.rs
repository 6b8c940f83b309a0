//! The poller (`src/poller.rs`, SPEC W-4): a `wait(None)` on two sockets is
//! always woken by a send on either of them from another thread, whichever way the send,
//! the socket's `Notify`, the entry waker's dirty flag and the poller's check and sleep
//! interleave. A lost wake-up leaves the main thread parked forever, which loom reports
//! as a deadlock.
#![cfg(loom)]

mod common;

use inproc::{Context, Interest, Poller, Socket, SocketType};

/// A bound PAIR and the PAIR connected to it.
fn pair(ctx: &Context, name: &str) -> (Socket, Socket) {
    let a = ctx.socket(SocketType::Pair).unwrap();
    a.bind(name).unwrap();
    let b = ctx.socket(SocketType::Pair).unwrap();
    b.connect(name).unwrap();
    (a, b)
}

#[test]
fn wait_is_woken_by_a_send_on_either_socket() {
    common::check(2, || {
        let ctx = Context::new();
        let (a, a_peer) = pair(&ctx, "inproc://a");
        let (b, b_peer) = pair(&ctx, "inproc://b");
        let mut poller = Poller::new();
        let ta = poller.add(&a, Interest::READABLE);
        let tb = poller.add(&b, Interest::READABLE);
        let t1 = loom::thread::spawn(move || a_peer.send("a").unwrap());
        let t2 = loom::thread::spawn(move || b_peer.send("b").unwrap());
        let (mut got_a, mut got_b) = (false, false);
        while !(got_a && got_b) {
            let events = poller.wait(None).unwrap().to_vec();
            assert!(!events.is_empty(), "wait(None) returned nothing");
            for e in events {
                assert!(e.readable);
                if e.token == ta {
                    assert!(!got_a, "reported after it was received");
                    assert_eq!(a.try_recv().unwrap(), "a".into());
                    got_a = true;
                } else {
                    assert_eq!(e.token, tb);
                    assert!(!got_b, "reported after it was received");
                    assert_eq!(b.try_recv().unwrap(), "b".into());
                    got_b = true;
                }
            }
        }
        t1.join().unwrap();
        t2.join().unwrap();
    });
}

/// Level triggering across waits: one sender sends twice to one socket; the waiting
/// thread receives one message per `wait`, so the second `wait` needs either the entry
/// carried over as "ready last time" or a fresh dirty mark; it is never lost.
#[test]
fn two_sends_two_waits_on_one_socket() {
    common::check(2, || {
        let ctx = Context::new();
        let (a, a_peer) = pair(&ctx, "inproc://a");
        let mut poller = Poller::new();
        let ta = poller.add(&a, Interest::READABLE);
        let t = loom::thread::spawn(move || {
            a_peer.send("1").unwrap();
            a_peer.send("2").unwrap();
        });
        for want in ["1", "2"] {
            let events = poller.wait(None).unwrap().to_vec();
            assert_eq!(events.len(), 1);
            assert_eq!(events[0].token, ta);
            assert_eq!(a.try_recv().unwrap(), want.into());
        }
        t.join().unwrap();
    });
}
