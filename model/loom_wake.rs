//! The event count (`src/wait.rs`): a wake that happens after `prepare` is never lost,
//! whichever way it interleaves with the waiter's spin, flag CAS and park.
//!
//! One sleeper: every interleaving (no preemption bound). Two sleepers: preemption bound 3
//! (unbounded it passes 200,000 executions in a minute without finishing).
#![cfg(loom)]

mod common;

use inproc::__model::Notify;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering};

#[test]
fn wake_after_prepare_always_unparks() {
    common::check_exhaustive(|| {
        let n = Arc::new(Notify::new());
        let ready = Arc::new(AtomicBool::new(false));
        let (n2, r2) = (n.clone(), ready.clone());
        let t = loom::thread::spawn(move || {
            r2.store(true, Ordering::Release);
            n2.wake();
        });
        loop {
            let key = n.prepare();
            if ready.load(Ordering::Acquire) {
                break;
            }
            n.wait(key);
        }
        t.join().unwrap();
    });
}

#[test]
fn two_waiters_one_wake_each_condition() {
    common::check(3, || {
        let n = Arc::new(Notify::new());
        let count = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let mut hs = Vec::new();
        for _ in 0..2 {
            let (n, count) = (n.clone(), count.clone());
            hs.push(loom::thread::spawn(move || {
                loop {
                    let key = n.prepare();
                    if count.load(Ordering::Acquire) > 0 {
                        break;
                    }
                    n.wait(key);
                }
            }));
        }
        count.fetch_add(1, Ordering::Release);
        n.wake();
        for h in hs {
            h.join().unwrap();
        }
    });
}
