//! Canary: a deliberately racy counter on `inproc::sync`'s atomics. Shuttle must find the
//! lost update; if the shim were wired to std atomics, shuttle could not preempt between
//! the load and the store, the assertion would hold, and this `should_panic` test would
//! fail, turning CI red.
#![cfg(shuttle)]

use inproc::__model::Counter;
use std::sync::Arc;

#[test]
#[should_panic(expected = "lost update")]
fn canary_racy_counter_must_fail() {
    shuttle::check_random(
        || {
            let c = Arc::new(Counter::new());
            let c2 = c.clone();
            let t = shuttle::thread::spawn(move || c2.racy_increment());
            c.racy_increment();
            t.join().unwrap();
            assert_eq!(c.get(), 2, "lost update");
        },
        1_000,
    );
}
