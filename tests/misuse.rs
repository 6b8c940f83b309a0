//! Integration tests of misuse and errors (SPEC rules M-1 to M-3) and of the thread-safety
//! bounds of T-1.
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::collections::HashSet;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{
    counted_msg, dropped, ep, fill, num_of, pair_of, pair_with_hwm, recv, sock, with_hang_guard,
};
use inproc::{
    Context, EndpointError, Error, MAX_HWM, MAX_NAME_LEN, Message, SendError, Socket, SocketType,
};

/// One of the four endpoint calls.
type EndpointCall = fn(&Socket, &str) -> Result<(), Error>;

/// The four endpoint calls, by name.
fn endpoint_calls() -> [(&'static str, EndpointCall); 4] {
    [
        ("bind", |s, e| s.bind(e)),
        ("connect", |s, e| s.connect(e)),
        ("unbind", |s, e| s.unbind(e)),
        ("disconnect", |s, e| s.disconnect(e)),
    ]
}

/// M-1: "Every public method answers bad input and misuse with a typed `Error`, never a
/// panic or a hang: malformed and over-long endpoints on all four endpoint calls."
#[test]
fn m1_malformed_endpoints_on_all_four_calls() {
    let ctx = Context::new();
    let long = format!("inproc://{}", "n".repeat(MAX_NAME_LEN + 1));
    let cases: [(&str, EndpointError); 8] = [
        ("inproc:/x", EndpointError::MissingScheme),
        ("", EndpointError::MissingScheme),
        ("inproc", EndpointError::MissingScheme),
        ("://x", EndpointError::EmptyScheme),
        ("inproc://", EndpointError::EmptyName),
        (&long, EndpointError::NameTooLong(MAX_NAME_LEN + 1)),
        ("inproc://a\0b", EndpointError::NulInName),
        ("inproc://\0", EndpointError::NulInName),
    ];
    for ty in [SocketType::Pair, SocketType::Push, SocketType::Pull] {
        let s = sock(&ctx, ty);
        for (call, f) in endpoint_calls() {
            for (endpoint, want) in &cases {
                assert_eq!(
                    f(&s, endpoint),
                    Err(Error::InvalidEndpoint(want.clone())),
                    "{ty} {call}({endpoint:?})"
                );
            }
        }
        assert_eq!(
            s.connection_count(),
            0,
            "{ty}: a failed call connected something"
        );
        assert_eq!(
            s.last_endpoint(),
            None,
            "{ty}: a failed call set the last endpoint"
        );
    }
    assert_eq!(
        ctx.endpoint_count(),
        0,
        "a failed call touched the registry"
    );
    // The limit is exactly 256 bytes (multi-byte characters count as bytes).
    let s = sock(&ctx, SocketType::Pull);
    s.bind(&format!("inproc://{}", "n".repeat(MAX_NAME_LEN)))
        .unwrap();
    let e = s
        .bind(&format!("inproc://{}", "é".repeat(MAX_NAME_LEN / 2 + 1)))
        .unwrap_err();
    assert_eq!(
        e,
        Error::InvalidEndpoint(EndpointError::NameTooLong(MAX_NAME_LEN + 2))
    );
}

/// M-1: "... other transports" are `UnsupportedTransport` on all four endpoint calls.
#[test]
fn m1_other_transports_on_all_four_calls() {
    let ctx = Context::new();
    let s = sock(&ctx, SocketType::Pair);
    for (call, f) in endpoint_calls() {
        for (endpoint, scheme) in [
            ("tcp://127.0.0.1:5555", "tcp"),
            ("INPROC://x", "INPROC"),
            ("ipc:///tmp/x", "ipc"),
            ("Inproc://x", "Inproc"),
        ] {
            assert_eq!(
                f(&s, endpoint),
                Err(Error::UnsupportedTransport(scheme.to_owned())),
                "{call}({endpoint:?})"
            );
        }
    }
    assert_eq!(ctx.endpoint_count(), 0);
}

/// M-1: "... out-of-range options": `InvalidArgument`, and the option is unchanged.
#[test]
fn m1_out_of_range_options() {
    let ctx = Context::new();
    for ty in [SocketType::Pair, SocketType::Push, SocketType::Pull] {
        let s = sock(&ctx, ty);
        s.set_sndhwm(7).unwrap();
        s.set_rcvhwm(9).unwrap();
        for bad in [MAX_HWM + 1, MAX_HWM * 2, usize::MAX] {
            assert!(
                matches!(s.set_sndhwm(bad), Err(Error::InvalidArgument(_))),
                "{ty} SNDHWM {bad}"
            );
            assert!(
                matches!(s.set_rcvhwm(bad), Err(Error::InvalidArgument(_))),
                "{ty} RCVHWM {bad}"
            );
        }
        assert_eq!((s.sndhwm(), s.rcvhwm()), (7, 9));
        s.set_sndhwm(MAX_HWM).unwrap();
        assert_eq!(s.sndhwm(), MAX_HWM);
    }
    // Huge timeouts are not an error: they mean "practically forever".
    let s = sock(&ctx, SocketType::Pull);
    s.set_recv_timeout(Some(Duration::MAX)).unwrap();
    s.set_send_timeout(Some(Duration::from_secs(u64::MAX)))
        .unwrap();
    assert!(s.default_recv_timeout().is_some());
}

/// M-1 / D-7: every one of the eleven types can be created and reports its type; what a
/// type cannot do is `NotSupported` per operation (D-7, P-8, Q-12), not per type.
#[test]
fn m1_every_socket_type_can_be_created() {
    let ctx = Context::new();
    for ty in SocketType::ALL {
        let s = ctx.socket(ty).unwrap_or_else(|e| panic!("{ty}: {e}"));
        assert_eq!(s.socket_type(), ty);
    }
}

/// M-1: "... calls after shutdown": typed `Terminated`, never a panic or a hang.
#[test]
fn m1_calls_after_shutdown() {
    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        let s = sock(&ctx, SocketType::Pair);
        ctx.shutdown();
        assert_eq!(s.bind(&ep("m1")), Err(Error::Terminated));
        assert_eq!(s.connect(&ep("m1")), Err(Error::Terminated));
        assert_eq!(s.send("x").unwrap_err().error(), &Error::Terminated);
        assert_eq!(s.recv(), Err(Error::Terminated));
        assert_eq!(s.set_sndhwm(1), Err(Error::Terminated));
        // Bad input is still reported as bad input.
        assert!(matches!(s.bind("nope"), Err(Error::InvalidEndpoint(_))));
        assert!(matches!(
            s.set_rcvhwm(usize::MAX),
            Err(Error::InvalidArgument(_))
        ));
        assert_eq!(ctx.socket(SocketType::Pull).unwrap_err(), Error::Terminated);
    });
}

/// M-1: misuse of the state machine gives typed errors: wrong direction, double
/// bind/unbind/disconnect, a PAIR connecting twice.
#[test]
fn m1_misuse_gives_typed_errors() {
    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        let (pull, push) = pair_of(&ctx, SocketType::Pull, SocketType::Push, "m1-misuse");
        assert_eq!(push.recv(), Err(Error::NotSupported));
        assert_eq!(pull.send("x").unwrap_err().error(), &Error::NotSupported);
        assert_eq!(pull.bind(&ep("m1-misuse")), Err(Error::AddrInUse));
        pull.unbind(&ep("m1-misuse")).unwrap();
        assert_eq!(pull.unbind(&ep("m1-misuse")), Err(Error::NoSuchEndpoint));
        push.disconnect(&ep("m1-misuse")).unwrap();
        assert_eq!(
            push.disconnect(&ep("m1-misuse")),
            Err(Error::NoSuchEndpoint)
        );
        let (a, _b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "m1-pair");
        assert_eq!(a.connect(&ep("m1-elsewhere")), Err(Error::InvalidState));
        assert_eq!(
            ctx.endpoint_count(),
            1,
            "the refused connect left no pending entry"
        );
    });
}

/// M-2: "`Error::errno()` gives libzmq's number: EINVAL 22, EPROTONOSUPPORT 93,
/// EADDRINUSE 98, ENOENT 2, EAGAIN 11, ETERM 156384765, EFSM 156384763, EHOSTUNREACH
/// 113, ENOTSUP 95."
#[test]
fn m2_errno_values() {
    let table = [
        (Error::InvalidEndpoint(EndpointError::MissingScheme), 22),
        (Error::InvalidEndpoint(EndpointError::EmptyScheme), 22),
        (Error::InvalidEndpoint(EndpointError::EmptyName), 22),
        (Error::InvalidEndpoint(EndpointError::NameTooLong(300)), 22),
        (Error::InvalidEndpoint(EndpointError::NulInName), 22),
        (Error::InvalidArgument("x"), 22),
        (Error::UnsupportedTransport("tcp".into()), 93),
        (Error::AddrInUse, 98),
        (Error::NoSuchEndpoint, 2),
        (Error::WouldBlock, 11),
        (Error::TimedOut, 11),
        (Error::Terminated, 156_384_765),
        (Error::InvalidState, 156_384_763),
        (Error::HostUnreachable, 113),
        (Error::NotSupported, 95),
    ];
    for (e, errno) in &table {
        assert_eq!(e.errno(), *errno, "{e:?}");
        assert!(!e.to_string().is_empty());
    }
    // The same numbers come out of real calls.
    let ctx = Context::new();
    let s = sock(&ctx, SocketType::Push);
    assert_eq!(s.bind("inproc:/x").unwrap_err().errno(), 22);
    assert_eq!(s.bind("tcp://x").unwrap_err().errno(), 93);
    s.bind(&ep("m2")).unwrap();
    assert_eq!(
        sock(&ctx, SocketType::Pull)
            .bind(&ep("m2"))
            .unwrap_err()
            .errno(),
        98
    );
    assert_eq!(s.unbind(&ep("m2-none")).unwrap_err().errno(), 2);
    assert_eq!(s.try_send("x").unwrap_err().error().errno(), 11);
    assert_eq!(s.recv().unwrap_err().errno(), 95);
    assert_eq!(s.set_sndhwm(usize::MAX).unwrap_err().errno(), 22);
    // An unsupported transport converts from the parser's error with errno 93 too.
    assert_eq!(
        Error::from(EndpointError::UnsupportedTransport("ipc".into())).errno(),
        93
    );
    assert_eq!(Error::from(EndpointError::EmptyName).errno(), 22);
    ctx.shutdown();
    assert_eq!(s.bind(&ep("m2-x")).unwrap_err().errno(), 156_384_765);
}

/// M-3: "A failed send gives the message back unchanged in its `SendError`", for every
/// reason a send can fail; the frames are the very same buffers (not copies).
#[test]
fn m3_failed_send_gives_message_back() {
    with_hang_guard(Duration::from_secs(60), || {
        let drops = Arc::new(AtomicUsize::new(0));
        let original = || counted_msg(&drops, &[b"head", b"", b"tail"]);
        let check = |why: &str, want: &Error, send: &dyn Fn(Message) -> Result<(), SendError>| {
            let m = original();
            let ptrs: Vec<*const u8> = m.frames().iter().map(|f| f.as_ptr()).collect();
            let before = dropped(&drops);
            let e = send(m.clone()).unwrap_err();
            assert_eq!(e.error(), want, "{why}");
            assert_eq!(e.message(), &m, "{why}");
            let back: Vec<*const u8> = e.message().frames().iter().map(|f| f.as_ptr()).collect();
            assert_eq!(back, ptrs, "{why}: the frames were copied");
            assert_eq!(dropped(&drops), before, "{why}: a frame was freed");
            let (err, msg) = e.clone().into_parts();
            assert_eq!(&err, want);
            assert_eq!(msg, m);
            assert_eq!(e.into_message(), m);
            assert_eq!(Error::from(send(m.clone()).unwrap_err()), *want);
        };
        let ctx = Context::new();
        // WouldBlock: no peer, and a full window.
        let lonely = sock(&ctx, SocketType::Push);
        check("no peer", &Error::WouldBlock, &|m| lonely.try_send(m));
        let (_pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1, 1),
            SocketType::Push,
            (1, 1),
            "m3-full",
        );
        assert_eq!(fill(&push, 0, 10), 2);
        check("full window", &Error::WouldBlock, &|m| push.try_send(m));
        // TimedOut.
        check("timeout", &Error::TimedOut, &|m| {
            push.send_timeout(m, Duration::from_millis(5))
        });
        // NotSupported.
        let pull = sock(&ctx, SocketType::Pull);
        check("PULL send", &Error::NotSupported, &|m| pull.send(m));
        // HostUnreachable: a refused PAIR connector.
        let (a, _b) = pair_of(&ctx, SocketType::Pair, SocketType::Pair, "m3-pair");
        let refused = sock(&ctx, SocketType::Pair);
        refused.connect(&ep("m3-pair")).unwrap();
        assert_eq!(a.connection_count(), 1);
        check("refused PAIR", &Error::HostUnreachable, &|m| {
            refused.send(m)
        });
        // Terminated.
        ctx.shutdown();
        check("terminated", &Error::Terminated, &|m| lonely.send(m));
        drop((lonely, push, pull, a, refused));
        drop(ctx);
        // Nothing was kept anywhere: every counted frame is freed once the test's own
        // copies are gone (3 frames per check, 6 checks).
        assert_eq!(dropped(&drops), 3 * 6);
    });
}

/// T-1: "`Context` is `Clone + Send + Sync`; `Socket` is `Send + Sync` with `&self`
/// methods." Checked at compile time, then used: one socket shared by several threads,
/// whose calls are serialised (no message lost or duplicated).
#[test]
fn t1_send_sync_bounds() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_clone<T: Clone>() {}
    fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_send_sync::<Context>();
    assert_clone::<Context>();
    assert_send_sync::<Socket>();
    assert_send_sync::<Message>();
    assert_send_sync::<Error>();
    assert_send_sync::<SendError>();
    assert_error::<Error>();
    assert_error::<SendError>();
    assert_error::<EndpointError>();

    const THREADS: u64 = 4;
    const N: u64 = 2_000;
    with_hang_guard(Duration::from_secs(60), || {
        let ctx = Context::new();
        let (pull, push) = pair_with_hwm(
            &ctx,
            SocketType::Pull,
            (1000, 4),
            SocketType::Push,
            (4, 1000),
            "t1-shared",
        );
        let push = Arc::new(push);
        let start = Arc::new(Barrier::new(THREADS as usize + 1));
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (push, start, ctx) = (push.clone(), start.clone(), ctx.clone());
                std::thread::spawn(move || {
                    start.wait();
                    for i in 0..N {
                        push.send(common::num_msg(t << 32 | i)).unwrap();
                        // Other calls on the same socket, from the same threads.
                        assert_eq!(push.sndhwm(), 4);
                        assert!(!ctx.is_shutdown());
                    }
                })
            })
            .collect();
        start.wait();
        let mut seen = HashSet::new();
        let mut next = [0u64; THREADS as usize];
        for _ in 0..THREADS * N {
            let n = num_of(&recv(&pull));
            assert!(seen.insert(n), "{n:#x} twice");
            let (t, i) = ((n >> 32) as usize, n & 0xFFFF_FFFF);
            assert_eq!(i, next[t], "thread {t}: its own sends arrive in order");
            next[t] += 1;
        }
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(pull.try_recv(), Err(Error::WouldBlock));
    });
}
