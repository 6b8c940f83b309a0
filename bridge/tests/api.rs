//! The bridge's API without network peers: the mapping, typed errors for bad input
//! (never a panic), and prompt stop/drop/shutdown.

mod common;

use std::time::{Duration, Instant};

use common::*;
use inproc::{Context, Error, SocketType};
use inproc_bridge::{Bridge, BridgeError, Mapping, Side};

#[test]
fn mapping_table() {
    use SocketType as T;
    let table = [
        (T::Push, T::Pull, T::Push),
        (T::Pull, T::Push, T::Pull),
        (T::Pub, T::XSub, T::Pub),
        (T::XPub, T::XSub, T::XPub),
        (T::Sub, T::XPub, T::XSub),
        (T::XSub, T::XPub, T::XSub),
        (T::Req, T::Router, T::Dealer),
        (T::Rep, T::Dealer, T::Router),
        (T::Dealer, T::Dealer, T::Dealer),
        (T::Router, T::Dealer, T::Router),
    ];
    for (kind, inproc, net) in table {
        assert_eq!(
            Mapping::of(kind),
            Ok(Mapping { kind, inproc, net }),
            "{kind}"
        );
    }
}

#[test]
fn pair_is_unsupported() {
    let ctx = Context::new();
    assert!(matches!(
        Mapping::of(SocketType::Pair),
        Err(BridgeError::Unsupported {
            kind: SocketType::Pair,
            ..
        })
    ));
    let err = Bridge::start(
        &ctx,
        "inproc://p",
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Pair,
    )
    .unwrap_err();
    assert!(matches!(err, BridgeError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("PAIR"), "{err}");
    // Nothing was created.
    assert_eq!(ctx.socket_count(), 0);
}

#[test]
fn bad_network_endpoints_are_typed_errors() {
    let ctx = Context::new();
    let invalid = [
        ("", Side::Bind),
        ("tcp://", Side::Bind),
        ("tcp://127.0.0.1", Side::Bind),
        ("tcp://127.0.0.1:99999", Side::Bind),
        ("tcp://127.0.0.1:-1", Side::Bind),
        ("tcp://127.0.0.1:abc", Side::Connect),
        ("tcp://:5555", Side::Bind),
        ("tcp://*:5555", Side::Connect),
        ("tcp://127.0.0.1:0", Side::Connect),
        ("ipc://", Side::Bind),
        ("ipc://*", Side::Bind),
        ("ipc://a\0b", Side::Bind),
        ("no-scheme", Side::Connect),
    ];
    for (ep, side) in invalid {
        let r = Bridge::start(&ctx, "inproc://x", ep, side, SocketType::Pull);
        assert!(
            matches!(r, Err(BridgeError::InvalidEndpoint { .. })),
            "{ep:?} {side:?}: {r:?}"
        );
    }
    for ep in [
        "inproc://x",
        "udp://1.2.3.4:5",
        "ws://h:1",
        "pgm://eth0;239.1.1.1:5555",
    ] {
        let r = Bridge::start(&ctx, "inproc://x", ep, Side::Bind, SocketType::Pull);
        assert!(
            matches!(r, Err(BridgeError::UnsupportedTransport(_))),
            "{ep:?}: {r:?}"
        );
    }
    assert_eq!(ctx.socket_count(), 0);
}

#[test]
fn bad_inproc_side_is_a_typed_error() {
    let ctx = Context::new();
    let r = Bridge::start(
        &ctx,
        "tcp://127.0.0.1:1",
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Pull,
    );
    assert!(
        matches!(r, Err(BridgeError::Inproc(Error::UnsupportedTransport(_)))),
        "{r:?}"
    );
    let r = Bridge::start(
        &ctx,
        "inproc://",
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Pull,
    );
    assert!(
        matches!(r, Err(BridgeError::Inproc(Error::InvalidEndpoint(_)))),
        "{r:?}"
    );
    // A taken inproc name, when the bridge binds it.
    let name = inproc_name("taken");
    let own = ctx.socket(SocketType::Pull).unwrap();
    own.bind(&name).unwrap();
    let r = Bridge::builder(SocketType::Pull, &name, "tcp://127.0.0.1:0", Side::Bind)
        .inproc_side(Side::Bind)
        .start(&ctx);
    assert_eq!(r.unwrap_err(), BridgeError::Inproc(Error::AddrInUse));
    // An HWM out of range.
    let r = Bridge::builder(SocketType::Pull, &name, "tcp://127.0.0.1:0", Side::Bind)
        .sndhwm(usize::MAX)
        .start(&ctx);
    assert!(
        matches!(r, Err(BridgeError::Inproc(Error::InvalidArgument(_)))),
        "{r:?}"
    );
    // The failed bridges left no sockets behind.
    drop(own);
    assert_eq!(ctx.socket_count(), 0);
}

#[test]
fn bad_routing_id_is_a_typed_error() {
    let ctx = Context::new();
    for id in [vec![], vec![7u8; 256]] {
        let r = Bridge::builder(
            SocketType::Dealer,
            "inproc://d",
            "tcp://127.0.0.1:0",
            Side::Bind,
        )
        .net_routing_id(id)
        .start(&ctx);
        assert!(matches!(r, Err(BridgeError::InvalidArgument(_))), "{r:?}");
    }
}

#[test]
fn address_in_use_is_a_net_error() {
    let ctx = Context::new();
    let a = Bridge::start(
        &ctx,
        "inproc://a",
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Pull,
    )
    .unwrap();
    let r = Bridge::start(
        &ctx,
        "inproc://b",
        a.net_endpoint(),
        Side::Bind,
        SocketType::Pull,
    );
    assert!(matches!(r, Err(BridgeError::Net { .. })), "{r:?}");
    let path = ipc_endpoint("twice");
    let b = Bridge::start(&ctx, "inproc://c", &path, Side::Bind, SocketType::Pull).unwrap();
    let r = Bridge::start(&ctx, "inproc://d", &path, Side::Bind, SocketType::Pull);
    assert!(matches!(r, Err(BridgeError::Net { .. })), "{r:?}");
    // The failed bind left the first bridge's socket file alone.
    let file = std::path::Path::new(path.trim_start_matches("ipc://"));
    assert!(file.exists());
    a.stop().unwrap();
    b.stop().unwrap();
    // Sockets of the failed bridges are gone; the two stopped ones too.
    assert_eq!(ctx.socket_count(), 0);
}

#[test]
fn wildcard_host_binds_all_interfaces() {
    let ctx = Context::new();
    let b = Bridge::start(
        &ctx,
        "inproc://w",
        "tcp://*:0",
        Side::Bind,
        SocketType::Pull,
    )
    .unwrap();
    let ep = b.net_endpoint();
    assert!(
        ep.starts_with("tcp://0.0.0.0:") && !ep.ends_with(":0"),
        "{ep}"
    );
    assert_eq!(b.kind(), SocketType::Pull);
    assert_eq!(b.inproc_endpoint(), "inproc://w");
}

#[test]
fn shut_down_context_is_a_typed_error() {
    let ctx = Context::new();
    ctx.shutdown();
    let r = Bridge::start(
        &ctx,
        "inproc://x",
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Pull,
    );
    assert_eq!(r.unwrap_err(), BridgeError::Inproc(Error::Terminated));
}

#[test]
fn stop_drop_and_shutdown_are_prompt() {
    let ctx = Context::new();
    // A bridge connecting to a port where nobody listens (retrying in the background).
    let ep = format!("tcp://127.0.0.1:{}", free_port());
    let kinds = [
        SocketType::Push,
        SocketType::Pull,
        SocketType::Sub,
        SocketType::Req,
    ];
    for kind in kinds {
        let b = Bridge::start(&ctx, &inproc_name("s"), &ep, Side::Connect, kind).unwrap();
        assert!(!b.is_finished());
        let t = Instant::now();
        b.stop().unwrap();
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{kind}: stop took {:?}",
            t.elapsed()
        );
        let b = Bridge::start(&ctx, &inproc_name("d"), &ep, Side::Connect, kind).unwrap();
        let t = Instant::now();
        drop(b);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{kind}: drop took {:?}",
            t.elapsed()
        );
    }
    assert_eq!(ctx.socket_count(), 0);
    // Context shutdown ends every bridge of the context; `join` then returns.
    let bridges: Vec<Bridge> = kinds
        .iter()
        .map(|&k| {
            Bridge::start(&ctx, &inproc_name("j"), "tcp://127.0.0.1:0", Side::Bind, k).unwrap()
        })
        .collect();
    ctx.shutdown();
    for b in bridges {
        assert!(b.wait_timeout(Duration::from_secs(2)));
        b.join().unwrap();
    }
    assert_eq!(ctx.socket_count(), 0);
}

#[test]
fn multi_thread_runtime_forwards() {
    let ctx = Context::new();
    let name_in = inproc_name("mt");
    let pull = ctx.socket(SocketType::Pull).unwrap();
    pull.bind(&name_in).unwrap();
    let b = Bridge::builder(SocketType::Pull, &name_in, "tcp://127.0.0.1:0", Side::Bind)
        .worker_threads(2)
        .start(&ctx)
        .unwrap();
    let zctx = zmq::Context::new();
    let push = zsock(&zctx, zmq::PUSH);
    push.connect(b.net_endpoint()).unwrap();
    for i in 0..1000 {
        push.send(payload(i, 16), 0).unwrap();
    }
    for i in 0..1000 {
        assert_eq!(seq_of(pull.recv_timeout(WAIT).unwrap().first()), i);
    }
}

/// Starting, stopping and dropping bridges from inside a tokio runtime (the bridge's
/// own runtime lives on its own thread) works and does not panic.
#[test]
fn usable_from_async_code() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let ctx = Context::new();
        let b = Bridge::start(
            &ctx,
            "inproc://rt",
            "tcp://127.0.0.1:0",
            Side::Bind,
            SocketType::Pull,
        )
        .unwrap();
        b.stop().unwrap();
        let b = Bridge::start(
            &ctx,
            "inproc://rt",
            "tcp://127.0.0.1:0",
            Side::Bind,
            SocketType::Pull,
        )
        .unwrap();
        drop(b);
        assert_eq!(ctx.socket_count(), 0);
    });
}
