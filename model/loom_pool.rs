//! The frame buffer pool (`src/pool.rs`, SPEC rule F-3): frames of 33 bytes to 64 KiB
//! copied from a slice live in recycled per-thread pool buffers.
//!
//! * `shared_buffer_recycled_once`: an owner thread makes a pooled frame, clones it to a
//!   second thread that reads it, both drop their handles in either order, and the owner
//!   makes a new frame at once (reusing the buffer through its local list or its remote
//!   stack). loom checks that the rewrite of the payload never races with the reader's
//!   read (reference count and remote-stack orderings) and that every buffer is freed
//!   exactly once (leak tracking).
//! * `owner_reuses_after_reader_dropped_first`: the same with the reader's drop forced
//!   first and no other synchronisation, so the owner's reuse relies on the reference
//!   count's orderings alone.
//! * `owner_exit_races_remote_drop`: the owner thread exits (closing its pool) while
//!   another thread drops the last handle of its frame: the buffer and the pool's shared
//!   part are freed by whichever comes last, never twice, never leaked.
//!
//! Under the checkers each thread's pool keeps at most one idle buffer per size class,
//! so the overflow path (freeing a returned buffer) runs too.
//!
//! Every interleaving is explored (no preemption bound).
#![cfg(loom)]

mod common;

use inproc::Frame;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;

const N: usize = 40;

#[test]
fn shared_buffer_recycled_once() {
    common::check_exhaustive(|| {
        let owner = thread::spawn(|| {
            let f = Frame::copy_from_slice(&[1; N]);
            assert!(f.is_pooled());
            let g = f.clone();
            let reader = thread::spawn(move || {
                assert_eq!(&g[..], &[1; N][..]);
                drop(g);
            });
            drop(f);
            let h = Frame::copy_from_slice(&[2; N]);
            assert_eq!(&h[..], &[2; N][..]);
            reader.join().unwrap();
            // A third frame: after the join the first buffer is back on a list of ours.
            let k = Frame::copy_from_slice(&[3; N]);
            assert_eq!(&k[..], &[3; N][..]);
            assert_eq!(&h[..], &[2; N][..], "a live frame is never rewritten");
        });
        owner.join().unwrap();
    });
}

/// The reader drops its clone first; the owner learns that only through a Relaxed flag
/// (no happens-before), then drops the last handle and rewrites the buffer at once. Only
/// the reference count's own Acquire/Release may order the reader's read before that
/// rewrite (a Relaxed fast path in `PoolBuf::drop` is reported as a data race).
#[test]
fn owner_reuses_after_reader_dropped_first() {
    common::check_exhaustive(|| {
        let owner = thread::spawn(|| {
            let f = Frame::copy_from_slice(&[1; N]);
            let g = f.clone();
            let done = Arc::new(AtomicBool::new(false));
            let d = done.clone();
            let reader = thread::spawn(move || {
                assert_eq!(&g[..], &[1; N][..]);
                drop(g);
                // Relaxed on purpose: no synchronisation besides the buffer's own.
                d.store(true, Ordering::Relaxed);
            });
            while !done.load(Ordering::Relaxed) {
                thread::yield_now();
            }
            drop(f);
            let h = Frame::copy_from_slice(&[2; N]);
            assert_eq!(&h[..], &[2; N][..]);
            reader.join().unwrap();
        });
        owner.join().unwrap();
    });
}

#[test]
fn owner_exit_races_remote_drop() {
    common::check_exhaustive(|| {
        let (tx, rx) = loom::sync::mpsc::channel::<Frame>();
        let owner = thread::spawn(move || {
            let f = Frame::copy_from_slice(&[7; N]);
            // One buffer back on the owner's list before it exits, one in flight.
            drop(Frame::copy_from_slice(&[8; 2 * N]));
            tx.send(f).unwrap();
        });
        let dropper = thread::spawn(move || {
            let f = rx.recv().unwrap();
            assert_eq!(&f[..], &[7; N][..]);
            drop(f);
        });
        owner.join().unwrap();
        dropper.join().unwrap();
    });
}
