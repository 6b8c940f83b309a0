//! Routing ids learnt late (SPEC Q-14, `src/pipe/mod.rs` `set_id`/`id`): a ROUTER connects
//! to a name nobody has bound; a DEALER with routing id "D" binds it in another thread and
//! sends. The binder records its id in the pipe when it adopts the connection, publishing
//! it with a Release that the ROUTER's Acquire must see before reading the id's cell (a
//! loom `UnsafeCell`); the ROUTER, blocked in `recv` until then, must be woken, and must
//! label the message with "D".
//!
//! Every interleaving is explored (no preemption bound).
#![cfg(loom)]

mod common;

use inproc::{Context, Message, SocketType};

#[test]
fn router_learns_a_late_binders_id() {
    common::check_exhaustive(|| {
        let ctx = Context::new();
        let router = ctx.socket(SocketType::Router).unwrap();
        router.connect("inproc://x").unwrap();
        let dealer = ctx.socket(SocketType::Dealer).unwrap();
        dealer.set_routing_id("D").unwrap();
        let t = loom::thread::spawn(move || {
            dealer.bind("inproc://x").unwrap();
            dealer.send("hello").unwrap();
            dealer
        });
        let m = router.recv().unwrap();
        assert_eq!(
            m,
            Message::from_frames(["D", "hello"]),
            "labelled with the binder's id"
        );
        drop(t.join().unwrap());
    });
}
