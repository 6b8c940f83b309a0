//! The pipe queue (`src/pipe/queue.rs`) with the real event counts: a writer crossing
//! chunk boundaries (chunk size 2 under loom) and blocking at a window of 2, a reader
//! parking on empty. Checks: no loss, duplication or reordering; no lost wake-up (a lost
//! one leaves a thread parked forever, which loom reports as a deadlock); nothing leaked
//! (chunks carry loom leak trackers).
//!
//! Window 2 with 3 items, and window 1 with 2 items, are explored exhaustively (no
//! preemption bound: 502,968 and 44,100 executions). Window 1 with 3 items and the
//! unlimited window with 5 items (spare-chunk reuse needs the fifth) keep preemption
//! bound 3: unbounded, each passes 1.5 M executions in two minutes without finishing.
#![cfg(loom)]

mod common;

use inproc::__model::{CHUNK_SIZE, Notify, queue};
use loom::sync::Arc;

fn run(window: usize, items: u32) {
    let (mut w, mut r) = queue::<u32>();
    let writer_wake = Arc::new(Notify::new());
    let reader_wake = Arc::new(Notify::new());
    let (ww, rw) = (writer_wake.clone(), reader_wake.clone());
    let t = loom::thread::spawn(move || {
        for i in 0..items {
            loop {
                let key = ww.prepare();
                if w.has_room(window) {
                    if w.write(i) {
                        rw.wake();
                    }
                    break;
                }
                if w.sleep_until_room(window) {
                    ww.wait(key);
                }
            }
        }
    });
    let mut got = Vec::new();
    while got.len() < items as usize {
        let key = reader_wake.prepare();
        let (item, wake_writer) = r.read(window);
        if wake_writer {
            writer_wake.wake();
        }
        match item {
            Some(v) => got.push(v),
            None => reader_wake.wait(key),
        }
    }
    t.join().unwrap();
    assert_eq!(
        got,
        (0..items).collect::<Vec<_>>(),
        "FIFO, no loss, no duplication"
    );
}

/// Batched publication (SPEC B-1): the writer pushes `items` (unlimited window), then
/// publishes them with one flush; the reader reads them, parking when it finds nothing.
/// One wake-up for the batch must reach a parked reader, and nothing may be read before
/// the flush publishes it.
fn run_batch(items: u32) {
    let (mut w, mut r) = queue::<u32>();
    let reader_wake = Arc::new(Notify::new());
    let rw = reader_wake.clone();
    let t = loom::thread::spawn(move || {
        for i in 0..items {
            w.push(i);
        }
        if w.flush() {
            rw.wake();
        }
    });
    let mut got = Vec::new();
    while got.len() < items as usize {
        let key = reader_wake.prepare();
        match r.read(0).0 {
            Some(v) => got.push(v),
            None => reader_wake.wait(key),
        }
    }
    t.join().unwrap();
    assert_eq!(got, (0..items).collect::<Vec<_>>(), "FIFO, no loss");
}

#[test]
fn batch_published_by_one_flush_across_chunk_boundary() {
    // Three items with chunks of 2: the batch links a second chunk before it publishes.
    common::check_exhaustive(|| run_batch(3));
}

#[test]
fn writer_blocks_at_window_reader_parks_across_chunk_boundary() {
    assert_eq!(CHUNK_SIZE, 2, "models need the shrunken chunk size");
    common::check_exhaustive(|| run(2, 3));
}

#[test]
fn unlimited_window_reuses_the_spare_chunk() {
    // Five items with chunks of 2: the writer's third chunk is the reader's first one,
    // handed back through the spare slot, and item 4 is written into it.
    common::check(3, || run(0, 5));
}

#[test]
fn window_one_every_item_needs_credit() {
    common::check(3, || run(1, 3));
}

#[test]
fn window_one_two_items_every_interleaving() {
    // Item 1 waits for item 0's credit and fills the first chunk's last slot (the
    // writer links a new chunk, the reader hands the finished one to the spare slot).
    common::check_exhaustive(|| run(1, 2));
}
