//! Bind racing connect, in both orders and concurrently (SPEC R-8, C-1, C-2, C-4): exactly
//! one connection results, and the messages the connector sent arrive exactly once, in
//! order.
//!
//! With two messages ("a" before and "b" after the race, a pending window of 1) the
//! second send may block until the bind attaches the pipe (its window grows to 2) or the
//! binder's read returns credit. Coverage:
//!
//! * bind first, then connect and send two in another thread: every interleaving (no
//!   preemption bound);
//! * connect first, then bind and receive in another thread: every interleaving,
//!   including the connector blocked at the pending window and woken by the attach;
//! * bind and connect concurrently with one message: every interleaving of the registry
//!   race (the connect finds the binding, or goes pending and the bind takes it, or its
//!   pend loses to the bind and it looks again) with the inbox hand-over and the
//!   receiver's unarmed and armed attempts;
//! * bind and connect concurrently with two messages: preemption bound 3 (every
//!   interleaving: about 10x the whole suite's loom time). The blocked second send it
//!   adds is the connect-first model's, exhaustive there.
#![cfg(loom)]

mod common;

use inproc::{Context, Message, SocketType};

fn scenario(order: Order, msgs: &'static [&'static str]) {
    let ctx = Context::new();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    let push = ctx.socket(SocketType::Push).unwrap();
    push.set_sndhwm(1).unwrap();
    pull.set_rcvhwm(1).unwrap();
    let send_all = move |push: &inproc::Socket| {
        for m in msgs {
            push.send(*m).unwrap();
        }
    };
    let (pull, push) = match order {
        Order::ConnectFirst => {
            // Connect, then bind and receive in another thread while this one sends.
            push.connect("inproc://x").unwrap();
            let t = loom::thread::spawn(move || {
                pull.bind("inproc://x").unwrap();
                receive_all(&pull, msgs);
                pull
            });
            send_all(&push);
            (t.join().unwrap(), push)
        }
        Order::BindFirst => {
            // Bind, then connect and send in another thread while this one receives.
            pull.bind("inproc://x").unwrap();
            let t = loom::thread::spawn(move || {
                push.connect("inproc://x").unwrap();
                send_all(&push);
                push
            });
            receive_all(&pull, msgs);
            (pull, t.join().unwrap())
        }
        Order::Concurrent => {
            let t = loom::thread::spawn(move || {
                push.connect("inproc://x").unwrap();
                send_all(&push);
                push
            });
            pull.bind("inproc://x").unwrap();
            receive_all(&pull, msgs);
            (pull, t.join().unwrap())
        }
    };
    assert_eq!(
        pull.try_recv().unwrap_err(),
        inproc::Error::WouldBlock,
        "no duplicate"
    );
    assert_eq!(
        push.connection_count(),
        1,
        "exactly one connection (connector)"
    );
    assert_eq!(
        pull.connection_count(),
        1,
        "exactly one connection (binder)"
    );
}

fn receive_all(pull: &inproc::Socket, msgs: &[&str]) {
    for m in msgs {
        assert_eq!(pull.recv().unwrap(), Message::from(*m));
    }
}

#[derive(Clone, Copy)]
enum Order {
    ConnectFirst,
    BindFirst,
    Concurrent,
}

#[test]
fn bind_and_connect_concurrently() {
    common::check(3, || scenario(Order::Concurrent, &["a", "b"]));
}

#[test]
fn bind_and_connect_concurrently_one_message() {
    common::check_exhaustive(|| scenario(Order::Concurrent, &["a"]));
}

#[test]
fn connect_then_bind_in_other_thread() {
    common::check_exhaustive(|| scenario(Order::ConnectFirst, &["a", "b"]));
}

#[test]
fn bind_then_connect_in_other_thread() {
    common::check_exhaustive(|| scenario(Order::BindFirst, &["a", "b"]));
}
