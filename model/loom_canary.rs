//! Canary: a deliberately racy counter built on `inproc::sync`'s atomics. Loom must find
//! the lost update. If the shim were wired to std atomics, loom could not interleave the
//! load and the store, the assertion would always hold, and this `should_panic` test
//! would fail: CI goes red instead of passing on models that check nothing.
#![cfg(loom)]

use inproc::__model::Counter;
use loom::sync::Arc;

#[test]
#[should_panic(expected = "lost update")]
fn canary_racy_counter_must_fail() {
    loom::model(|| {
        let c = Arc::new(Counter::new());
        let c2 = c.clone();
        let t = loom::thread::spawn(move || c2.racy_increment());
        c.racy_increment();
        t.join().unwrap();
        assert_eq!(c.get(), 2, "lost update");
    });
}
