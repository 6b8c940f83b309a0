//! Reclamation (SPEC K-3, section 10): registry snapshots replaced concurrently by bind,
//! unbind and connect are retired, never freed while a reader may hold them (every read
//! goes through the shim's `UnsafeCell`, so loom flags an access not ordered after its
//! write), and nothing is leaked once the context and sockets are gone (snapshots, queue
//! chunks and inbox nodes carry loom leak trackers; pipes and sockets' shared state are
//! loom `Arc`s).
//!
//! Every interleaving is explored (no preemption bound).
#![cfg(loom)]

mod common;

use inproc::{Context, SocketType};

#[test]
fn concurrent_registry_updates_retire_and_free_everything() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let a = ctx.socket(SocketType::Pull).unwrap();
        let b = ctx.socket(SocketType::Push).unwrap();
        let ctx2 = ctx.clone();
        let t = loom::thread::spawn(move || {
            a.bind("inproc://a").unwrap();
            a.unbind("inproc://a").unwrap();
            drop(ctx2);
            a
        });
        b.connect("inproc://a").unwrap();
        b.send("m").unwrap();
        let a = t.join().unwrap();
        // Either b reached a before the unbind, or it is pending.
        let got = a.try_recv();
        assert!(got.is_ok() || ctx.endpoint_count() == 1);
        drop((a, b, ctx));
    });
}
