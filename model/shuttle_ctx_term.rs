//! Context shutdown at scale under shuttle (SPEC K-2, K-3): up to 5 threads blocked in
//! send and recv on PUSH, PULL and PAIR sockets, some with peers and full windows, some
//! without; a shutdown from another thread at a random point makes every one of them
//! return `Terminated` (never hang), and sends give their message back.
#![cfg(shuttle)]

#[path = "shuttle_common.rs"]
mod common;

use inproc::{Context, Error, SocketType};

#[test]
fn shutdown_unblocks_every_blocked_call() {
    common::check(|| {
        let ctx = Context::new();
        let mut hs = Vec::new();
        let workers = 2 + common::rand(3); // 2..=4
        for w in 0..workers {
            let ctx = ctx.clone();
            hs.push(shuttle::thread::spawn(move || {
                let ep = format!("inproc://w{}", w % 2);
                match common::rand(3) {
                    0 => {
                        let Ok(s) = ctx.socket(SocketType::Push) else {
                            return;
                        };
                        let _ = s.set_sndhwm(1);
                        let _ = s.connect(&ep);
                        // Bounded (PCT could otherwise starve the shutdown thread); with
                        // HWM 1 the sends block once the window is full.
                        for _ in 0..6 {
                            if let Err(e) = s.send("m") {
                                assert_eq!(e.error(), &Error::Terminated);
                                assert_eq!(e.into_message(), "m".into());
                                break;
                            }
                        }
                    }
                    1 => {
                        let Ok(s) = ctx.socket(SocketType::Pull) else {
                            return;
                        };
                        let _ = s.bind(&ep);
                        // Senders are bounded, so this ends: the last call blocks until the
                        // shutdown (or starts after it).
                        let e = loop {
                            if let Err(e) = s.recv() {
                                break e;
                            }
                        };
                        assert_eq!(e, Error::Terminated);
                    }
                    _ => {
                        let Ok(s) = ctx.socket(SocketType::Pair) else {
                            return;
                        };
                        let _ = s.connect(&ep);
                        assert!(matches!(
                            s.recv(),
                            Err(Error::Terminated | Error::HostUnreachable)
                        ));
                    }
                }
            }));
        }
        shuttle::thread::yield_now();
        ctx.shutdown();
        for h in hs {
            h.join().unwrap();
        }
    });
}

/// K-4: `terminate` (shutdown, then wait for every socket to go) racing socket creation
/// and blocked calls: it returns only after every socket that was created (a creation
/// racing it either fails with `Terminated` or is waited for) has been dropped.
#[test]
fn terminate_waits_for_every_socket() {
    use shuttle::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    common::check(|| {
        let ctx = Context::new();
        let created = Arc::new(AtomicUsize::new(0));
        let gone = Arc::new(AtomicUsize::new(0));
        let mut hs = Vec::new();
        for w in 0..2 {
            let (ctx, created, gone) = (ctx.clone(), created.clone(), gone.clone());
            hs.push(shuttle::thread::spawn(move || {
                let Ok(s) = ctx.socket(if w == 0 {
                    SocketType::Pull
                } else {
                    SocketType::Pair
                }) else {
                    return;
                };
                created.fetch_add(1, Ordering::SeqCst);
                let _ = s.bind("inproc://t");
                assert!(s.recv().is_err());
                gone.fetch_add(1, Ordering::SeqCst);
                drop(s);
            }));
        }
        shuttle::thread::yield_now();
        ctx.terminate();
        assert_eq!(
            created.load(Ordering::SeqCst),
            gone.load(Ordering::SeqCst),
            "terminate returned while a socket was alive"
        );
        for h in hs {
            h.join().unwrap();
        }
        // (Not before the joins: a creation that fails after the shutdown counts itself
        // for a moment.)
        assert_eq!(ctx.socket_count(), 0);
    });
}
