//! The workloads on `crossbeam-channel`, the nearest thing to a PUSH/PULL pipe.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded};

use crate::harness::{self, Job};
use crate::workload::{FAN, Side, checksum, stamp};

/// crossbeam-channel: a message is a `Vec<u8>` (an `Arc<[u8]>` when fanned out).
#[derive(Debug)]
pub(crate) struct Crossbeam;

/// The capacity of a throughput or fan-in channel: the same window as two sockets'
/// default HWMs, 1000 (SNDHWM) + 1000 (RCVHWM).
const WINDOW: usize = 2000;

/// A fanned-out message: one allocation, shared by every subscriber.
type Shared = Arc<[u8]>;

/// Sends `count` fresh vectors of `size` bytes, each a copy of a stamped payload.
fn send_fresh(tx: &Sender<Vec<u8>>, size: usize, count: u64) {
    let mut payload = vec![0u8; size];
    for i in 0..count {
        stamp(&mut payload, i);
        tx.send(payload[..size].to_vec()).expect("crossbeam: send");
    }
}

/// Receives `count` messages of `size` bytes, reading every byte.
fn recv_all<T: AsRef<[u8]>>(rx: &Receiver<T>, size: usize, count: u64) {
    let mut sum = 0u8;
    for _ in 0..count {
        let msg = rx.recv().expect("crossbeam: recv");
        let bytes = msg.as_ref();
        assert_eq!(bytes.len(), size, "crossbeam: message of the wrong size");
        sum = sum.wrapping_add(checksum(bytes));
    }
    black_box(sum);
}

impl Side for Crossbeam {
    fn throughput(&self, size: usize, count: u64, pin: bool) -> Duration {
        let (tx, rx) = bounded(WINDOW);
        harness::run(
            pin,
            vec![Box::new(move || send_fresh(&tx, size, count))],
            vec![Box::new(move || recv_all(&rx, size, count))],
        )
    }

    fn latency(&self, size: usize, count: u64, pin: bool) -> Duration {
        // Capacity 1: only one message is ever in flight.
        let (ping_tx, ping_rx) = bounded::<Vec<u8>>(1);
        let (pong_tx, pong_rx) = bounded::<Vec<u8>>(1);
        let echo = move || {
            for _ in 0..count {
                let msg = ping_rx.recv().expect("crossbeam: recv");
                pong_tx.send(msg).expect("crossbeam: send");
            }
        };
        let client = move || {
            let mut msg = vec![0u8; size];
            for _ in 0..count {
                ping_tx.send(msg).expect("crossbeam: send");
                msg = pong_rx.recv().expect("crossbeam: recv");
                assert_eq!(msg.len(), size, "crossbeam: message of the wrong size");
            }
        };
        harness::run(pin, vec![Box::new(echo)], vec![Box::new(client)])
    }

    fn fan_in(&self, per_sender: u64, pin: bool) -> Duration {
        let (tx, rx) = bounded(WINDOW);
        let senders = (0..FAN)
            .map(|_| {
                let tx = tx.clone();
                Box::new(move || send_fresh(&tx, 1, per_sender)) as Job<'_>
            })
            .collect();
        drop(tx);
        let total = per_sender * FAN;
        harness::run(
            pin,
            senders,
            vec![Box::new(move || recv_all(&rx, 1, total))],
        )
    }

    fn fan_out(&self, count: u64, pin: bool) -> Duration {
        // One channel per subscriber, as deep as the whole run: like the sockets'
        // unlimited HWMs here, the sender never waits and nothing is dropped.
        let capacity = usize::try_from(count).expect("count fits in memory");
        let (txs, rxs): (Vec<Sender<Shared>>, Vec<Receiver<Shared>>) = (0
            ..crate::workload::fan_out_subs())
            .map(|_| bounded(capacity))
            .unzip();
        let publisher = move || {
            let mut payload = [0u8; 1];
            for i in 0..count {
                stamp(&mut payload, i);
                // A fresh message, shared by every subscriber as a socket's would be.
                let msg: Shared = Arc::from(&payload[..]);
                for tx in &txs {
                    tx.send(Arc::clone(&msg)).expect("crossbeam: send");
                }
            }
        };
        let receivers = rxs
            .into_iter()
            .map(|rx| Box::new(move || recv_all(&rx, 1, count)) as Job<'_>)
            .collect();
        harness::run(pin, vec![Box::new(publisher)], receivers)
    }
}
