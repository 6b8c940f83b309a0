//! Shutdown racing a blocked send and a blocked recv (SPEC K-2): both return
//! `Terminated` (the send with its message), whether shutdown lands before they block,
//! while they block, or in between; and everything is freed afterwards (loom's leak
//! checks).
#![cfg(loom)]

mod common;

use inproc::{Context, Error, SocketType};

#[test]
fn shutdown_wakes_blocked_send_and_recv() {
    common::check(3, || {
        let ctx = Context::new();
        let push = ctx.socket(SocketType::Push).unwrap();
        push.bind("inproc://out").unwrap();
        let pull = ctx.socket(SocketType::Pull).unwrap();
        pull.bind("inproc://in").unwrap();
        let ts = loom::thread::spawn(move || {
            let e = push.send("m").unwrap_err();
            assert_eq!(e.error(), &Error::Terminated);
            assert_eq!(e.into_message(), "m".into());
        });
        let tr = loom::thread::spawn(move || {
            assert_eq!(pull.recv().unwrap_err(), Error::Terminated);
        });
        ctx.shutdown();
        ts.join().unwrap();
        tr.join().unwrap();
        assert!(matches!(
            ctx.socket(SocketType::Pair),
            Err(Error::Terminated)
        ));
    });
}
