//! Bind racing connect, in both orders and concurrently (SPEC R-8, C-1, C-2, C-4): exactly
//! one connection results, and the messages the connector sent (one before and one after
//! the race, with a pending window of 1 so the second send may block until the bind)
//! arrive exactly once, in order.
#![cfg(loom)]

mod common;

use inproc::{Context, Message, SocketType};

fn scenario(order: Order) {
    let ctx = Context::new();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    let push = ctx.socket(SocketType::Push).unwrap();
    push.set_sndhwm(1).unwrap();
    pull.set_rcvhwm(1).unwrap();
    let send_both = |push: &inproc::Socket| {
        push.send("a").unwrap();
        push.send("b").unwrap();
    };
    let (pull, push) = match order {
        Order::ConnectFirst => {
            // Connect, then bind and receive in another thread while this one sends.
            push.connect("inproc://x").unwrap();
            let t = loom::thread::spawn(move || {
                pull.bind("inproc://x").unwrap();
                receive_both(&pull);
                pull
            });
            send_both(&push);
            (t.join().unwrap(), push)
        }
        Order::BindFirst => {
            // Bind, then connect and send in another thread while this one receives.
            pull.bind("inproc://x").unwrap();
            let t = loom::thread::spawn(move || {
                push.connect("inproc://x").unwrap();
                send_both(&push);
                push
            });
            receive_both(&pull);
            (pull, t.join().unwrap())
        }
        Order::Concurrent => {
            let t = loom::thread::spawn(move || {
                push.connect("inproc://x").unwrap();
                send_both(&push);
                push
            });
            pull.bind("inproc://x").unwrap();
            receive_both(&pull);
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

fn receive_both(pull: &inproc::Socket) {
    assert_eq!(pull.recv().unwrap(), Message::from("a"));
    assert_eq!(pull.recv().unwrap(), Message::from("b"));
}

#[derive(Clone, Copy)]
enum Order {
    ConnectFirst,
    BindFirst,
    Concurrent,
}

#[test]
fn bind_and_connect_concurrently() {
    common::check(3, || scenario(Order::Concurrent));
}

#[test]
fn connect_then_bind_in_other_thread() {
    common::check(3, || scenario(Order::ConnectFirst));
}

#[test]
fn bind_then_connect_in_other_thread() {
    common::check(3, || scenario(Order::BindFirst));
}
