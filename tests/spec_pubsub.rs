//! PUB, SUB, XPUB and XSUB (SPEC P-1 to P-14, reference rules 41-42, 59, 72, 75-80). Each
//! test quotes the rule it checks. Subscriptions are written into the pipes synchronously,
//! so once `subscribe` returns, the publisher honours it on its next send: no test waits
//! for a subscription to "arrive", except through the proxy thread in P-12.
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use common::{HANG, assert_empty, ep, num_msg, recv, recv_num, sock, wait_until, with_hang_guard};
use inproc::{Bytes, Context, Error, Message, Socket, SocketType};

/// A PUB bound to `name`.
fn publisher(ctx: &Context, name: &str) -> Socket {
    let p = sock(ctx, SocketType::Pub);
    p.bind(&ep(name)).unwrap();
    p
}

/// A SUB connected to `name`, subscribed to `prefixes`.
fn subscriber(ctx: &Context, name: &str, prefixes: &[&str]) -> Socket {
    let s = sock(ctx, SocketType::Sub);
    s.connect(&ep(name)).unwrap();
    for p in prefixes {
        s.subscribe(p).unwrap();
    }
    s
}

/// The first frame of the next message, as text.
fn recv_str(s: &Socket) -> String {
    String::from_utf8_lossy(&recv(s).frames()[0]).into_owned()
}

/// A subscription message as XPUB reports it: `kind` then `topic`.
fn note(kind: u8, topic: &str) -> Message {
    let mut v = vec![kind];
    v.extend_from_slice(topic.as_bytes());
    Message::from(v)
}

/// P-1: "A SUB delivers exactly the messages whose first frame starts with one of its
/// subscribed prefixes; a multipart message is matched on its first frame and delivered
/// whole. A SUB with no subscription receives nothing."
#[test]
fn p1_prefix_matching() {
    let ctx = Context::new();
    let p = publisher(&ctx, "p1-prefix");
    let none = subscriber(&ctx, "p1-prefix", &[]);
    let s = subscriber(&ctx, "p1-prefix", &["ab", "x"]);
    for topic in ["a", "ab", "abc", "b", "xyz", "Ab", ""] {
        p.send(topic).unwrap();
    }
    p.send(Message::from_frames(["abz", "body"])).unwrap();
    p.send(Message::from_frames(["zz", "ab"])).unwrap();
    p.send("end-x").unwrap(); // not matched by "x": prefixes match at the start only
    p.send("x-end").unwrap();
    assert_eq!(recv_str(&s), "ab");
    assert_eq!(recv_str(&s), "abc");
    assert_eq!(recv_str(&s), "xyz");
    assert_eq!(recv(&s), Message::from_frames(["abz", "body"]));
    assert_eq!(recv_str(&s), "x-end");
    assert_empty(&s);
    assert_empty(&none);
}

/// P-1: "... The empty prefix matches every message, an empty first frame included.
/// Topics are bytes: any value, NUL and 0xFF included."
#[test]
fn p1_empty_prefix_matches_all() {
    let ctx = Context::new();
    let p = publisher(&ctx, "p1-all");
    let all = subscriber(&ctx, "p1-all", &[""]);
    let bin = subscriber(&ctx, "p1-all", &[]);
    bin.subscribe([0xff, 0x00]).unwrap();
    p.send(Message::new()).unwrap();
    p.send(&[0xff, 0x00, 0x01]).unwrap();
    p.send(&[0xff, 0x01]).unwrap();
    p.send("text").unwrap();
    assert_eq!(recv(&all), Message::new());
    assert_eq!(recv(&all), Message::from(&[0xff, 0x00, 0x01]));
    assert_eq!(recv(&all), Message::from(&[0xff, 0x01]));
    assert_eq!(recv_str(&all), "text");
    assert_eq!(recv(&bin), Message::from(&[0xff, 0x00, 0x01]));
    assert_empty(&bin);
}

/// P-1: "... A SUB (and an XSUB) filters what it receives too, whatever sent it."
#[test]
fn p1_sub_filters_messages_from_any_peer() {
    let ctx = Context::new();
    for ty in [SocketType::Sub, SocketType::XSub] {
        let s = sock(&ctx, ty);
        let name = format!("p1-filter-{ty}");
        s.bind(&ep(&name)).unwrap();
        if ty == SocketType::Sub {
            s.subscribe("a").unwrap();
        } else {
            s.send(note(1, "a")).unwrap();
        }
        // PUSH does not filter (no socket-type check on inproc, reference rule 52).
        let push = sock(&ctx, SocketType::Push);
        push.connect(&ep(&name)).unwrap();
        for m in ["b1", "a1", "c", "a2"] {
            push.send(m).unwrap();
        }
        assert_eq!(recv_str(&s), "a1", "{ty}");
        assert_eq!(recv_str(&s), "a2", "{ty}");
        assert_empty(&s);
    }
}

/// P-2: "`unsubscribe` removes one `subscribe` of that prefix: the SUB stops receiving a
/// prefix once every subscription to it has been removed. The filter applies when a
/// message is received: a message queued before the unsubscribe is dropped too."
#[test]
fn p2_unsubscribe_stops_delivery() {
    let ctx = Context::new();
    let p = publisher(&ctx, "p2-unsub");
    let s = subscriber(&ctx, "p2-unsub", &["a", "a", "b"]);
    s.unsubscribe("a").unwrap();
    p.send("a1").unwrap();
    assert_eq!(recv_str(&s), "a1", "one subscription to \"a\" is left");
    p.send("a2").unwrap(); // queued while subscribed ...
    s.unsubscribe("a").unwrap(); // ... and filtered out on receipt
    s.unsubscribe("never").unwrap(); // unknown: no effect, no error
    p.send("a3").unwrap();
    p.send("b1").unwrap();
    assert_eq!(recv_str(&s), "b1");
    assert_empty(&s);
}

/// P-2: "... Upstream, every subscribe is sent, duplicates included; an unsubscribe is
/// sent only when the prefix's count reaches zero, and never for a prefix that is not
/// subscribed. XSUB counts the subscribe and unsubscribe messages it sends the same way."
#[test]
fn p2_subscriptions_are_counted_upstream() {
    let ctx = Context::new();
    for ty in [SocketType::Sub, SocketType::XSub] {
        // A PULL sees exactly what the subscriber sends upstream.
        let pull = sock(&ctx, SocketType::Pull);
        let name = format!("p2-up-{ty}");
        pull.bind(&ep(&name)).unwrap();
        let s = sock(&ctx, ty);
        s.connect(&ep(&name)).unwrap();
        let sub = |t: &str| match ty {
            SocketType::Sub => s.subscribe(t).unwrap(),
            _ => s.send(note(1, t)).unwrap(),
        };
        let unsub = |t: &str| match ty {
            SocketType::Sub => s.unsubscribe(t).unwrap(),
            _ => s.send(note(0, t)).unwrap(),
        };
        sub("a");
        sub("a");
        unsub("a");
        unsub("a");
        unsub("a");
        unsub("zz");
        assert_eq!(recv(&pull), note(1, "a"), "{ty}");
        assert_eq!(recv(&pull), note(1, "a"), "{ty}");
        assert_eq!(recv(&pull), note(0, "a"), "{ty}");
        assert_empty(&pull);
    }
}

/// P-3: "A subscription travels upstream as one single-frame message, byte 1 (subscribe)
/// or 0 (unsubscribe) followed by the prefix, in the subscriber-to-publisher direction,
/// and counts against that direction's window; when the window is full it is dropped
/// silently: `subscribe` never blocks and never fails for it."
#[test]
fn p3_subscriptions_dropped_when_pipe_full() {
    let ctx = Context::new();
    let pull = sock(&ctx, SocketType::Pull);
    pull.set_rcvhwm(1).unwrap();
    pull.bind(&ep("p3-full")).unwrap();
    let s = sock(&ctx, SocketType::Sub);
    s.set_sndhwm(1).unwrap();
    s.connect(&ep("p3-full")).unwrap(); // window 1 + 1
    with_hang_guard(HANG, move || {
        for t in ["t0", "t1", "t2", "t3", "t4"] {
            s.subscribe(t).unwrap();
        }
        s
    });
    assert_eq!(recv(&pull), note(1, "t0"));
    assert_eq!(recv(&pull), note(1, "t1"));
    assert_empty(&pull);
}

/// P-4: "Whenever a SUB or XSUB attaches a connection, it first sends it every prefix it
/// is subscribed to (each once). So subscribing before connecting works, and so does a
/// publisher that binds after the SUB connected: the subscriptions wait in the pending
/// connection."
#[test]
fn p4_replay_to_publisher_that_binds_later() {
    let ctx = Context::new();
    let s = sock(&ctx, SocketType::Sub);
    s.subscribe("a").unwrap(); // no connection yet: replayed at connect
    s.subscribe("a").unwrap();
    s.connect(&ep("p4-late-pub")).unwrap(); // pending: nobody bound the name
    s.subscribe("b").unwrap(); // written into the pending connection
    let p = publisher(&ctx, "p4-late-pub");
    for m in ["a1", "b1", "c1"] {
        p.send(m).unwrap();
    }
    assert_eq!(recv_str(&s), "a1");
    assert_eq!(recv_str(&s), "b1");
    assert_empty(&s);
}

/// P-4: "... A PUB that connects before the SUB binds gets the SUB's subscriptions when
/// the SUB binds."
#[test]
fn p4_pub_connects_before_sub_binds() {
    let ctx = Context::new();
    let p = sock(&ctx, SocketType::Pub);
    p.connect(&ep("p4-late-sub")).unwrap();
    p.send("x0").unwrap(); // nobody subscribed: dropped
    let s = sock(&ctx, SocketType::Sub);
    s.subscribe("x").unwrap();
    s.bind(&ep("p4-late-sub")).unwrap();
    p.send("x1").unwrap();
    assert_eq!(recv_str(&s), "x1");
    assert_empty(&s);
}

/// P-4: "... A bound SUB adopts a connection made to it, and replays its subscriptions
/// into it, at its next call, or at once if a call of it is blocked waiting; what the
/// publisher sends before that is dropped."
#[test]
fn p4_bound_sub_replays_on_its_next_call() {
    let ctx = Context::new();
    let s = sock(&ctx, SocketType::Sub);
    s.bind(&ep("p4-bound")).unwrap();
    s.subscribe("x").unwrap();
    let p = sock(&ctx, SocketType::Pub);
    p.connect(&ep("p4-bound")).unwrap();
    p.send("x-early").unwrap(); // the SUB has not adopted the connection yet
    assert_empty(&s); // adopts it and replays "x"
    p.send("x-late").unwrap();
    assert_eq!(recv_str(&s), "x-late");

    // A SUB blocked in recv adopts (and replays) as soon as the connect wakes it.
    let s2 = sock(&ctx, SocketType::Sub);
    s2.bind(&ep("p4-bound-2")).unwrap();
    s2.subscribe("y").unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| tx.send(recv_str(&s2)).unwrap());
        let p2 = sock(&ctx, SocketType::Pub);
        p2.connect(&ep("p4-bound-2")).unwrap();
        let mut got = None;
        wait_until("the blocked SUB adopts the connection", || {
            p2.send("y1").unwrap();
            got = rx.try_recv().ok();
            got.is_some()
        });
        assert_eq!(got.as_deref(), Some("y1"));
    });
}

/// P-5: "A subscription is in force for every publisher already connected to the SUB as
/// soon as `subscribe` returns, on any thread: the publisher's next send honours it."
#[test]
fn p5_subscription_in_force_when_subscribe_returns() {
    let ctx = Context::new();
    let p = publisher(&ctx, "p5-sync");
    let s = subscriber(&ctx, "p5-sync", &[]);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..100u64 {
                s.subscribe(i.to_le_bytes()).unwrap();
                tx.send(i).unwrap();
                assert_eq!(recv_num(&s), i, "the first message after subscribe");
            }
        });
        for _ in 0..100 {
            let i = rx.recv_timeout(HANG).unwrap();
            p.send(num_msg(i)).unwrap();
        }
    });
}

/// P-6: "PUB and XPUB never block: a send always succeeds. A subscriber whose window is
/// full misses the message; the others get it."
#[test]
fn p6_pub_drops_per_subscriber_at_hwm_never_blocks() {
    let ctx = Context::new();
    let p = sock(&ctx, SocketType::Pub);
    p.set_sndhwm(1).unwrap();
    p.bind(&ep("p6-hwm")).unwrap();
    let small = sock(&ctx, SocketType::Sub);
    small.set_rcvhwm(1).unwrap(); // window 1 + 1
    small.connect(&ep("p6-hwm")).unwrap();
    small.subscribe("").unwrap();
    let big = sock(&ctx, SocketType::Sub);
    big.set_rcvhwm(4).unwrap(); // window 1 + 4
    big.connect(&ep("p6-hwm")).unwrap();
    big.subscribe("").unwrap();
    let p = with_hang_guard(HANG, move || {
        for i in 0..10 {
            p.send(num_msg(i)).unwrap();
        }
        assert!(p.try_send(num_msg(10)).is_ok());
        p
    });
    assert_eq!((recv_num(&small), recv_num(&small)), (0, 1));
    assert_empty(&small); // returns credit
    for i in 0..5 {
        assert_eq!(recv_num(&big), i);
    }
    assert_empty(&big);
    p.send(num_msg(11)).unwrap();
    assert_eq!(recv_num(&small), 11, "room again after draining");
    assert_eq!(recv_num(&big), 11);
}

/// P-6: "... A message nobody is subscribed to, or sent with no connection at all, is
/// dropped."
#[test]
fn p6_no_subscriber_message_dropped() {
    let ctx = Context::new();
    let p = publisher(&ctx, "p6-none");
    p.send("into the void").unwrap();
    assert!(p.try_send("again").is_ok());
    let s = subscriber(&ctx, "p6-none", &[]);
    p.send("before").unwrap();
    s.subscribe("").unwrap();
    p.send("after").unwrap();
    assert_eq!(recv_str(&s), "after");
    assert_empty(&s);
}

/// P-7: "Sending one message to N subscribers copies no payload: each gets a reference to
/// the same buffers."
#[test]
fn p7_fanout_shares_buffers() {
    let ctx = Context::new();
    let p = publisher(&ctx, "p7-zero-copy");
    let subs: Vec<Socket> = (0..8)
        .map(|_| subscriber(&ctx, "p7-zero-copy", &[""]))
        .collect();
    let payload = Bytes::from(vec![0x5a; 64 << 10]);
    p.send(Message::from(payload.clone())).unwrap();
    for s in &subs {
        let m = recv(s);
        assert_eq!(m.frames()[0].len(), 65536);
        assert_eq!(m.frames()[0].as_ptr(), payload.as_ptr(), "the same buffer");
    }
}

/// P-8: "SUB cannot send and PUB cannot receive (`NotSupported`, the message comes
/// back); `subscribe`/`unsubscribe` work on SUB only and `set_xpub_verbose` on XPUB only
/// (elsewhere `NotSupported`)."
#[test]
fn p8_unsupported_directions_and_options() {
    let ctx = Context::new();
    let sub = sock(&ctx, SocketType::Sub);
    let e = sub.send("m").unwrap_err();
    assert_eq!(e.error(), &Error::NotSupported);
    assert_eq!(e.message(), &Message::from("m"));
    let publ = sock(&ctx, SocketType::Pub);
    assert_eq!(publ.recv().unwrap_err(), Error::NotSupported);
    assert_eq!(publ.try_recv().unwrap_err(), Error::NotSupported);
    for ty in [SocketType::Pub, SocketType::XPub, SocketType::XSub] {
        let s = sock(&ctx, ty);
        assert_eq!(s.subscribe("a").unwrap_err(), Error::NotSupported, "{ty}");
        assert_eq!(s.unsubscribe("a").unwrap_err(), Error::NotSupported, "{ty}");
    }
    for ty in [SocketType::Pub, SocketType::Sub, SocketType::XSub] {
        let s = sock(&ctx, ty);
        assert_eq!(
            s.set_xpub_verbose(true).unwrap_err(),
            Error::NotSupported,
            "{ty}"
        );
    }
    assert_eq!(sock(&ctx, SocketType::XPub).set_xpub_verbose(true), Ok(()));
}

/// P-9: "XPUB's `recv` gives 1+prefix when a connection subscribes to a prefix no
/// connection had, and 0+prefix when the last connection subscribed to it unsubscribes;
/// other subscription messages are not reported. They are visible to a `try_recv` right
/// after `subscribe` returned."
#[test]
fn p9_xpub_reports_first_subscribe_and_last_unsubscribe() {
    let ctx = Context::new();
    let x = sock(&ctx, SocketType::XPub);
    x.bind(&ep("p9-filter")).unwrap();
    let s1 = subscriber(&ctx, "p9-filter", &[]);
    let s2 = subscriber(&ctx, "p9-filter", &[]);
    s1.subscribe("t").unwrap();
    assert_eq!(x.try_recv().unwrap(), note(1, "t"));
    s2.subscribe("t").unwrap();
    s1.subscribe("t").unwrap();
    assert_empty(&x);
    s1.unsubscribe("t").unwrap(); // s1's count 2 -> 1: not even sent
    s1.unsubscribe("t").unwrap(); // sent; s2 still subscribed
    assert_empty(&x);
    s2.unsubscribe("t").unwrap();
    assert_eq!(x.try_recv().unwrap(), note(0, "t"));
    s2.subscribe("").unwrap();
    assert_eq!(x.try_recv().unwrap(), note(1, ""));
    assert_empty(&x);
}

/// P-9: "... With `set_xpub_verbose(true)` every subscribe is reported, duplicates
/// included; unsubscribes still only when the last connection drops the prefix."
#[test]
fn p9_xpub_verbose_reports_every_subscribe() {
    let ctx = Context::new();
    let x = sock(&ctx, SocketType::XPub);
    x.set_xpub_verbose(true).unwrap();
    x.bind(&ep("p9-verbose")).unwrap();
    let s1 = subscriber(&ctx, "p9-verbose", &["t"]);
    let s2 = subscriber(&ctx, "p9-verbose", &["t"]);
    s1.subscribe("t").unwrap();
    for _ in 0..3 {
        assert_eq!(x.try_recv().unwrap(), note(1, "t"));
    }
    assert_empty(&x);
    s1.unsubscribe("t").unwrap();
    s1.unsubscribe("t").unwrap();
    assert_empty(&x);
    s2.unsubscribe("t").unwrap();
    assert_eq!(x.try_recv().unwrap(), note(0, "t"));
    assert_empty(&x);
}

/// P-10: "When a connection ends (its subscriber closed or disconnected, or XPUB
/// disconnected it), its subscriptions are dropped, and XPUB reports 0+prefix for each
/// prefix no remaining connection wants."
#[test]
fn p10_xpub_reports_departed_subscribers_topics() {
    let ctx = Context::new();
    let x = sock(&ctx, SocketType::XPub);
    x.bind(&ep("p10-gone")).unwrap();
    let s1 = subscriber(&ctx, "p10-gone", &["ab", "c"]);
    let s2 = subscriber(&ctx, "p10-gone", &["c"]);
    assert_eq!(recv(&x), note(1, "ab"));
    assert_eq!(recv(&x), note(1, "c"));
    drop(s1);
    assert_eq!(recv(&x), note(0, "ab"));
    assert_empty(&x);
    s2.disconnect(&ep("p10-gone")).unwrap();
    assert_eq!(recv(&x), note(0, "c"));
    assert_empty(&x);

    // XPUB's own disconnect.
    let s3 = sock(&ctx, SocketType::Sub);
    s3.bind(&ep("p10-bound")).unwrap();
    s3.subscribe("q").unwrap();
    x.connect(&ep("p10-bound")).unwrap();
    assert_empty(&s3); // the SUB adopts the connection and replays "q"
    assert_eq!(recv(&x), note(1, "q"));
    x.disconnect(&ep("p10-bound")).unwrap();
    assert_eq!(recv(&x), note(0, "q"));
    assert_empty(&x);
}

/// P-11: "XSUB sends every message it is given to all its connections (a full one
/// drops it; `send` never blocks); a message whose first frame starts with 1 or 0 is a
/// subscription, counted (P-2) and applied to what XSUB receives. XPUB hands any
/// other message it receives from a connection to its application, whole; PUB discards
/// them."
#[test]
fn p11_xpub_receives_upstream_messages() {
    let ctx = Context::new();
    let x = sock(&ctx, SocketType::XPub);
    x.bind(&ep("p11-up")).unwrap();
    let p = sock(&ctx, SocketType::Pub);
    p.bind(&ep("p11-up-pub")).unwrap();
    let xs = sock(&ctx, SocketType::XSub);
    xs.connect(&ep("p11-up")).unwrap();
    xs.connect(&ep("p11-up-pub")).unwrap();
    xs.send("hello").unwrap();
    xs.send(Message::from_frames(["multi", "part"])).unwrap();
    xs.send(Message::new()).unwrap();
    xs.send(note(1, "t")).unwrap();
    assert_eq!(recv_str(&x), "hello");
    assert_eq!(recv(&x), Message::from_frames(["multi", "part"]));
    assert_eq!(recv(&x), Message::new());
    assert_eq!(recv(&x), note(1, "t"));
    assert_empty(&x);
    p.send("t-data").unwrap(); // PUB reads and discards the upstream messages
    x.send("t-from-xpub").unwrap();
    let got = [recv_str(&xs), recv_str(&xs)];
    assert!(got.contains(&"t-data".to_string()) && got.contains(&"t-from-xpub".to_string()));
    assert_empty(&xs);
}

/// P-12: "An XSUB bound for publishers and an XPUB bound for subscribers, with a loop
/// moving messages between them, make a proxy: subscriptions flow up to the publishers,
/// data flows down to the matching subscribers."
#[test]
fn p12_xsub_xpub_proxy() {
    let ctx = Context::new();
    let front = sock(&ctx, SocketType::XSub);
    front.bind(&ep("p12-front")).unwrap();
    let back = sock(&ctx, SocketType::XPub);
    back.set_sndhwm(0).unwrap(); // unlimited windows: the probes below never crowd out data
    back.bind(&ep("p12-back")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (notes_tx, notes) = mpsc::channel();
    let proxy = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let mut idle = true;
                if let Ok(m) = back.try_recv() {
                    notes_tx.send(m.clone()).unwrap();
                    front.send(m).unwrap();
                    idle = false;
                }
                if let Ok(m) = front.try_recv() {
                    back.send(m).unwrap();
                    idle = false;
                }
                if idle {
                    std::thread::yield_now();
                }
            }
        })
    };
    let p = sock(&ctx, SocketType::Pub);
    p.set_sndhwm(0).unwrap();
    p.connect(&ep("p12-front")).unwrap();
    let s1 = subscriber(&ctx, "p12-back", &["A"]);
    let s2 = subscriber(&ctx, "p12-back", &["B"]);
    let mut up = [
        notes.recv_timeout(HANG).unwrap(),
        notes.recv_timeout(HANG).unwrap(),
    ];
    up.sort_by(|a, b| a.frames()[0].cmp(&b.frames()[0]));
    assert_eq!(up, [note(1, "A"), note(1, "B")]);
    // The subscriptions reach the publisher asynchronously (through the proxy thread):
    // probe until each subscriber gets one message.
    for (s, probe) in [(&s1, "A-probe"), (&s2, "B-probe")] {
        wait_until("the subscription crosses the proxy", || {
            p.send(probe).unwrap();
            s.try_recv().is_ok()
        });
    }
    for m in ["A1", "B1", "C1", "A2", "B-end"] {
        p.send(m).unwrap();
    }
    let skip_probes = |s: &Socket| loop {
        let m = recv_str(s);
        if !m.ends_with("-probe") {
            return m;
        }
    };
    assert_eq!(skip_probes(&s1), "A1");
    assert_eq!(recv_str(&s1), "A2");
    assert_eq!(skip_probes(&s2), "B1");
    assert_eq!(recv_str(&s2), "B-end", "no C1 in between");
    // An unsubscribe flows up too; a later subscription from the same SUB arrives after it.
    s1.unsubscribe("A").unwrap();
    s1.subscribe("Z").unwrap();
    assert_eq!(notes.recv_timeout(HANG).unwrap(), note(0, "A"));
    assert_eq!(notes.recv_timeout(HANG).unwrap(), note(1, "Z"));
    wait_until("Z crosses the proxy", || {
        p.send("Z-probe").unwrap();
        matches!(s1.try_recv(), Ok(m) if m == Message::from("Z-probe"))
    });
    p.send("A3").unwrap();
    p.send("Z-end").unwrap();
    assert_eq!(skip_probes(&s1), "Z-end", "A3 was not forwarded");
    stop.store(true, Ordering::SeqCst);
    proxy.join().unwrap();
}

/// P-13: "A SUB that connects with `set_conflate(true)` keeps only the newest message
/// (reference rule 59). Both directions of its connections conflate, as in libzmq, so
/// of the subscriptions it makes before the publisher's next call only the newest takes
/// effect."
#[test]
fn p13_conflating_sub_keeps_only_latest() {
    let ctx = Context::new();
    let p = publisher(&ctx, "p13-conflate");
    let s = sock(&ctx, SocketType::Sub);
    s.set_conflate(true).unwrap();
    s.connect(&ep("p13-conflate")).unwrap();
    s.subscribe("").unwrap();
    for i in 0..10 {
        p.send(i.to_string()).unwrap();
    }
    assert_eq!(recv_str(&s), "9");
    assert_empty(&s);
    p.send("10").unwrap();
    assert_eq!(recv_str(&s), "10");

    // The caveat: "a" is overwritten by "b" in the single upstream slot.
    let s2 = sock(&ctx, SocketType::Sub);
    s2.set_conflate(true).unwrap();
    s2.connect(&ep("p13-conflate")).unwrap();
    s2.subscribe("a").unwrap();
    s2.subscribe("b").unwrap();
    p.send("a1").unwrap();
    p.send("b1").unwrap();
    assert_eq!(recv_str(&s2), "b1");
    assert_empty(&s2);
}

/// P-14: "No input makes a PUB, SUB, XPUB or XSUB panic or block: empty messages, empty
/// first frames, lone 0 or 1 bytes, multipart subscriptions, topics of any bytes."
#[test]
fn p14_any_bytes_never_panic() {
    let ctx = Context::new();
    let x = sock(&ctx, SocketType::XPub);
    x.set_xpub_verbose(true).unwrap();
    x.bind(&ep("p14-x")).unwrap();
    let xs = sock(&ctx, SocketType::XSub);
    xs.connect(&ep("p14-x")).unwrap();
    let s = subscriber(&ctx, "p14-x", &[]);
    with_hang_guard(HANG, move || {
        let odd: Vec<Message> = vec![
            Message::new(),
            Message::from(vec![0u8]),
            Message::from(vec![1u8]),
            Message::from(vec![0u8]),
            Message::from_frames([Bytes::new(), Bytes::new()]),
            Message::from_frames([Bytes::from_static(&[1, 0xff]), Bytes::new()]),
            Message::from((0..=255u8).collect::<Vec<u8>>()),
            Message::from(vec![0xffu8; 3]),
        ];
        for m in &odd {
            xs.send(m.clone()).unwrap();
            x.send(m.clone()).unwrap();
            let _ = x.try_recv();
            s.subscribe(&m.frames()[0]).unwrap();
            s.unsubscribe(&m.frames()[0]).unwrap();
            s.unsubscribe(&m.frames()[0]).unwrap();
            while xs.try_recv().is_ok() {}
            while s.try_recv().is_ok() {}
        }
        while x.try_recv().is_ok() {}
        // XSUB subscribed to "" with the lone 1 byte (and then to 0xff+... and 0x00...).
        xs.send(Message::from(vec![1u8])).unwrap();
        x.send(Message::new()).unwrap();
        assert_eq!(xs.recv_timeout(HANG).unwrap(), Message::new());
        (x, xs, s)
    });
}
