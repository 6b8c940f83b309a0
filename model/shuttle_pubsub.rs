//! Publish/subscribe under shuttle (SPEC P-1, P-2, P-4, P-6, P-9, P-10): one PUB or XPUB
//! and 2-3 SUBs, each on its own thread, with random subscribe/unsubscribe/connect/
//! bind/receive orders, and a random choice of who binds (the publisher, or each SUB
//! its own name). Checked for any interleaving:
//!
//! * a SUB only receives messages whose topic starts with a prefix it subscribed to at
//!   some point;
//! * no SUB receives a message twice, and each receives the publisher's messages in
//!   send order;
//! * PUB/XPUB `send` never blocks (a blocking `send` is used; shuttle reports a
//!   deadlock);
//! * liveness: at the end every SUB is connected and subscribed to "end", and a blocking
//!   `recv` gets the publisher's "end" message (shuttle reports a hang as a deadlock);
//! * XPUB: per prefix, the notifications alternate subscribe, unsubscribe, ... starting
//!   with subscribe, and once every SUB has closed the last one of each prefix is an
//!   unsubscribe.
//!
//! Shuttle models every atomic as SeqCst: these scenarios check logic races at scale;
//! memory orderings are loom's job (`model/loom_*.rs`).
#![cfg(shuttle)]

#[path = "shuttle_common.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use inproc::{Context, Message, Socket, SocketType};

/// Prefixes a SUB may subscribe to.
const PREFIXES: [&[u8]; 4] = [b"", b"a", b"ab", b"b"];
/// Topics the publisher sends.
const TOPICS: [&[u8]; 5] = [b"a", b"ab", b"abc", b"b", b"c"];

/// `[topic, seq]`.
fn tagged(topic: &[u8], seq: u32) -> Message {
    Message::from_frames([topic.to_vec(), seq.to_le_bytes().to_vec()])
}

fn untag(m: &Message) -> (Vec<u8>, u32) {
    let f = m.frames();
    assert_eq!(f.len(), 2, "multipart delivered whole: {m:?}");
    (
        f[0].to_vec(),
        u32::from_le_bytes(f[1][..4].try_into().unwrap()),
    )
}

fn name(i: usize) -> String {
    format!("inproc://s{i}")
}

const PUB_NAME: &str = "inproc://pub";

/// One SUB's thread result: the socket, whether it is connected (or bound), every prefix
/// it ever subscribed, and what it received.
struct SubEnd {
    socket: Socket,
    attached: bool,
    ever: BTreeSet<Vec<u8>>,
    got: Vec<(Vec<u8>, u32)>,
}

fn check_sub(i: usize, s: &SubEnd) {
    let mut last = None;
    for (topic, seq) in &s.got {
        assert!(
            s.ever.iter().any(|p| topic.starts_with(p)),
            "SUB {i} got {topic:?} but only ever subscribed {:?}",
            s.ever
        );
        assert!(
            last < Some(*seq),
            "SUB {i}: {seq} after {last:?} (duplicate or reordered)"
        );
        last = Some(*seq);
    }
}

fn sub_thread(ctx: Context, i: usize, sub_binds: bool) -> SubEnd {
    let socket = ctx.socket(SocketType::Sub).unwrap();
    let mut end = SubEnd {
        socket,
        attached: false,
        ever: BTreeSet::new(),
        got: Vec::new(),
    };
    let mut counts: BTreeMap<&[u8], u32> = BTreeMap::new();
    for _ in 0..4 {
        match common::rand(4) {
            0 => {
                let p = PREFIXES[common::rand(PREFIXES.len() as u64) as usize];
                end.socket.subscribe(p).unwrap();
                end.ever.insert(p.to_vec());
                *counts.entry(p).or_default() += 1;
            }
            1 => {
                if let Some((&p, n)) = counts.iter_mut().find(|(_, n)| **n > 0) {
                    end.socket.unsubscribe(p).unwrap();
                    *n -= 1;
                }
            }
            2 if !end.attached => {
                if sub_binds {
                    end.socket.bind(&name(i)).unwrap();
                } else {
                    end.socket.connect(PUB_NAME).unwrap();
                }
                end.attached = true;
            }
            _ => {
                if let Ok(m) = end.socket.try_recv() {
                    end.got.push(untag(&m));
                }
            }
        }
    }
    end
}

/// The publisher's thread: binds or connects at a random point, sends tagged messages
/// with a blocking `send`, and (XPUB) reads notifications.
fn pub_thread(
    socket: Socket,
    subs: usize,
    sub_binds: bool,
    notes: Arc<Mutex<Vec<Message>>>,
) -> (Socket, Vec<bool>, u32) {
    let xpub = socket.socket_type() == SocketType::XPub;
    let mut connected = vec![false; subs];
    let mut bound = false;
    let mut seq = 0;
    for _ in 0..6 {
        match common::rand(4) {
            0 if !sub_binds && !bound => {
                socket.bind(PUB_NAME).unwrap();
                bound = true;
            }
            1 if sub_binds => {
                let i = common::rand(subs as u64) as usize;
                if !connected[i] {
                    socket.connect(&name(i)).unwrap();
                    connected[i] = true;
                }
            }
            2 if xpub => {
                if let Ok(m) = socket.try_recv() {
                    notes.lock().unwrap().push(m);
                }
            }
            _ => {
                let t = TOPICS[common::rand(TOPICS.len() as u64) as usize];
                socket.send(tagged(t, seq)).unwrap();
                seq += 1;
            }
        }
    }
    if !sub_binds && !bound {
        socket.bind(PUB_NAME).unwrap();
    }
    (socket, connected, seq)
}

/// Checks XPUB's notifications: per prefix, 1, 0, 1, 0, ... and (if `closed`) ending in 0.
fn check_notes(notes: &[Message], closed: bool) {
    let mut state: BTreeMap<Vec<u8>, u8> = BTreeMap::new();
    for m in notes {
        let f = &m.frames()[0];
        let (kind, prefix) = (f[0], f[1..].to_vec());
        let before = state.insert(prefix.clone(), kind).unwrap_or(0);
        assert_ne!(
            before, kind,
            "prefix {prefix:?}: {kind} twice in a row in {notes:?}"
        );
    }
    if closed {
        for (prefix, kind) in state {
            assert_eq!(
                kind, 0,
                "prefix {prefix:?} still subscribed after every SUB left"
            );
        }
    }
}

fn scenario(ty: SocketType) {
    let subs = 2 + common::rand(2) as usize; // 2..=3
    let sub_binds = common::rand(2) == 0;
    let ctx = Context::new();
    let notes = Arc::new(Mutex::new(Vec::new()));
    let publisher = ctx.socket(ty).unwrap();

    let sub_handles: Vec<_> = (0..subs)
        .map(|i| {
            let ctx = ctx.clone();
            shuttle::thread::spawn(move || sub_thread(ctx, i, sub_binds))
        })
        .collect();
    let pub_handle = {
        let notes = notes.clone();
        shuttle::thread::spawn(move || pub_thread(publisher, subs, sub_binds, notes))
    };
    let mut ends: Vec<SubEnd> = sub_handles.into_iter().map(|h| h.join().unwrap()).collect();
    let (publisher, connected, mut seq) = pub_handle.join().unwrap();

    // Liveness: connect everything, subscribe everyone to "end", publish it, and every SUB
    // must get it with a blocking recv.
    for (i, s) in ends.iter_mut().enumerate() {
        // Half the time "end" is subscribed before the connection exists, so only the
        // replay on attach (P-4) can carry it.
        let early = common::rand(2) == 0;
        if early {
            s.socket.subscribe("end").unwrap();
        }
        if !s.attached {
            if sub_binds {
                s.socket.bind(&name(i)).unwrap();
            } else {
                s.socket.connect(PUB_NAME).unwrap();
            }
        }
        if sub_binds && !connected[i] {
            publisher.connect(&name(i)).unwrap();
        }
        // Drains what is queued (and adopts handed-over connections, replaying).
        while let Ok(m) = s.socket.try_recv() {
            s.got.push(untag(&m));
        }
        if !early {
            s.socket.subscribe("end").unwrap();
        }
        s.ever.insert(b"end".to_vec());
    }
    let end_seq = seq;
    publisher.send(tagged(b"end", end_seq)).unwrap();
    seq += 1;
    for (i, s) in ends.iter_mut().enumerate() {
        loop {
            let got = untag(&s.socket.recv().unwrap());
            let done = got == (b"end".to_vec(), end_seq);
            s.got.push(got);
            if done {
                break;
            }
        }
        check_sub(i, s);
        assert!(s.got.iter().all(|&(_, q)| q < seq));
    }

    if ty == SocketType::XPub {
        drop(ends);
        let mut notes = std::mem::take(&mut *notes.lock().unwrap());
        while let Ok(m) = publisher.try_recv() {
            notes.push(m);
        }
        check_notes(&notes, true);
    }
}

#[test]
fn pub_sub_filtered_in_order_no_hang() {
    common::check(|| scenario(SocketType::Pub));
}

#[test]
fn xpub_notifications_alternate_and_end_unsubscribed() {
    common::check(|| scenario(SocketType::XPub));
}
