//! Protocol-scale delivery scenarios under shuttle (SPEC R-8, C-1..C-3, D-1, D-3, D-4,
//! K-1): random sequences of bind/unbind/connect/disconnect/close/send/recv across 3-6
//! threads and 2-4 names, checked against what the sequential reference model
//! (`model/reference.rs`) guarantees for any interleaving:
//!
//! * every message accepted by a send is received at most once, and messages from one
//!   sender to one receiver arrive in send order (each sender connects to each name at
//!   most once, and each receiver only ever binds its own name, so a (sender, receiver)
//!   pair shares at most one connection);
//! * `no_loss`: when no socket closes or disconnects and every name ends up bound, every
//!   accepted message is received exactly once;
//! * at most one socket holds a name at any time.
//!
//! Shuttle models every atomic as SeqCst: these scenarios check logic races at scale;
//! memory orderings are loom's job (`model/loom_*.rs`).
#![cfg(shuttle)]

#[path = "shuttle_common.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use inproc::{Context, Error, Message, SocketType};

/// Which sockets held each name (bind succeeded, not yet unbound or closed).
#[derive(Default)]
struct Holders(Vec<AtomicUsize>);

fn tag(sender: usize, seq: u32) -> Message {
    Message::from_frames([vec![sender as u8], seq.to_le_bytes().to_vec()])
}

fn untag(m: &Message) -> (usize, u32) {
    let f = m.frames();
    assert_eq!(f.len(), 2, "multipart delivered whole");
    (
        f[0][0] as usize,
        u32::from_le_bytes(f[1][..4].try_into().unwrap()),
    )
}

/// Received `(receiver, sender, seq)` and accepted `(sender, seq)` logs.
type Log = Arc<Mutex<(Vec<(usize, usize, u32)>, BTreeSet<(usize, u32)>)>>;

fn scenario(allow_loss: bool) {
    let names = 2 + common::rand(3) as usize; // 2..=4
    let receivers = names;
    let senders = 1 + common::rand(2) as usize; // 1..=2 (3..=6 threads in all)
    let ctx = Context::new();
    let holders = Arc::new(Holders((0..names).map(|_| AtomicUsize::new(0)).collect()));
    let log: Log = Arc::new(Mutex::new((Vec::new(), BTreeSet::new())));
    let ep = |i: usize| format!("inproc://n{i}");

    let mut handles = Vec::new();
    for r in 0..receivers {
        let (ctx, holders, log) = (ctx.clone(), holders.clone(), log.clone());
        handles.push(shuttle::thread::spawn(move || {
            let pull = ctx.socket(SocketType::Pull).unwrap();
            pull.set_rcvhwm(1).unwrap();
            let mut bound = false;
            for _ in 0..4 {
                match common::rand(4) {
                    0 if !bound => {
                        pull.bind(&ep(r)).unwrap();
                        assert_eq!(
                            holders.0[r].fetch_add(1, Ordering::SeqCst),
                            0,
                            "two holders"
                        );
                        bound = true;
                    }
                    1 if bound => {
                        holders.0[r].fetch_sub(1, Ordering::SeqCst);
                        pull.unbind(&ep(r)).unwrap();
                        bound = false;
                    }
                    _ => {
                        if let Ok(m) = pull.try_recv() {
                            let (s, q) = untag(&m);
                            log.lock().unwrap().0.push((r, s, q));
                        }
                    }
                }
            }
            if allow_loss && common::rand(3) == 0 {
                if bound {
                    holders.0[r].fetch_sub(1, Ordering::SeqCst);
                }
                pull.close();
                return None;
            }
            Some((pull, bound))
        }));
    }
    let mut sender_handles = Vec::new();
    for s in 0..senders {
        let (ctx, log) = (ctx.clone(), log.clone());
        sender_handles.push(shuttle::thread::spawn(move || {
            let push = ctx.socket(SocketType::Push).unwrap();
            push.set_sndhwm(1).unwrap();
            // 0: never connected, 1: connected, 2: disconnected (never again, so that a
            // (sender, receiver) pair only ever has one connection).
            let mut connected = vec![0u8; names];
            let mut seq = 0u32;
            for _ in 0..5 {
                let n = common::rand(names as u64) as usize;
                match common::rand(4) {
                    0 if connected[n] == 0 => {
                        push.connect(&ep(n)).unwrap();
                        connected[n] = 1;
                    }
                    1 if allow_loss && connected[n] == 1 => {
                        push.disconnect(&ep(n)).unwrap();
                        connected[n] = 2;
                    }
                    _ => {
                        let m = tag(s, seq);
                        match push.try_send(m) {
                            Ok(()) => {
                                log.lock().unwrap().1.insert((s, seq));
                            }
                            Err(e) => assert_eq!(e.error(), &Error::WouldBlock),
                        }
                        seq += 1;
                    }
                }
            }
            if allow_loss && common::rand(3) == 0 {
                push.close();
                None
            } else {
                Some(push)
            }
        }));
    }
    let pulls: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let pushes: Vec<_> = sender_handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();

    // Every surviving receiver binds its name (pending connections attach) and drains.
    for (r, p) in pulls.iter().enumerate() {
        if let Some((pull, bound)) = p {
            if !bound {
                pull.bind(&ep(r)).unwrap();
            }
            while let Ok(m) = pull.try_recv() {
                let (s, q) = untag(&m);
                log.lock().unwrap().0.push((r, s, q));
            }
        }
    }
    let (received, accepted) = std::mem::take(&mut *log.lock().unwrap());
    let mut seen = BTreeSet::new();
    let mut last: BTreeMap<(usize, usize), u32> = BTreeMap::new();
    for &(r, s, q) in &received {
        assert!(
            accepted.contains(&(s, q)),
            "received a message never accepted: {s}/{q}"
        );
        assert!(seen.insert((s, q)), "received twice: {s}/{q}");
        if let Some(&prev) = last.get(&(s, r)) {
            assert!(
                q > prev,
                "out of order from sender {s} to receiver {r}: {prev} then {q}"
            );
        }
        last.insert((s, r), q);
    }
    if !allow_loss {
        assert_eq!(
            seen, accepted,
            "every accepted message is received exactly once"
        );
    }
    drop(pushes);
}

#[test]
fn no_loss() {
    common::check(|| scenario(false));
}

#[test]
fn with_close_and_disconnect_at_most_once_in_order() {
    common::check(|| scenario(true));
}
