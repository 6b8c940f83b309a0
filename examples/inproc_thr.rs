//! libzmq's `perf/inproc_thr`, on this crate: PUSH → PULL throughput over `inproc://`.
//!
//! ```text
//! cargo run --release --example inproc_thr -- <message-size> <message-count> [pin]
//! ```
//!
//! The same workload and output as libzmq's tool: the main thread's PULL binds
//! `inproc://thr_test`; a worker thread's PUSH connects and sends `message-count`
//! messages, each a fresh message copied from a `message-size` buffer of zero bytes
//! (`Message::from(&payload[..])`), with the default HWMs.
//! The receiver takes one message before starting the stopwatch, then the other
//! `count - 1`, checking each size; the throughput divides the **full** count by the
//! elapsed microseconds (at least 1), as libzmq does.
//!
//! With `pin`, the receiver is pinned to CPU 0 and the sender to CPU 1 (Linux only; a
//! line says so if pinning fails).

use std::process::ExitCode;
use std::thread;
use std::time::Instant;

use inproc::{Context, Message, SocketType};

#[path = "common/perf.rs"]
mod perf;
use perf::{Args, fail, parse_args, pin};

const USAGE: &str = "usage: inproc_thr <message-size> <message-count> [pin]";

fn main() -> ExitCode {
    let Some(Args {
        size,
        count,
        pin: pinned,
    }) = parse_args()
    else {
        return fail(USAGE);
    };

    let ctx = Context::new();
    pin(pinned, 0, "receiver");
    let pull = match ctx.socket(SocketType::Pull) {
        Ok(s) => s,
        Err(e) => return fail(&format!("error in socket: {e}")),
    };
    if let Err(e) = pull.bind("inproc://thr_test") {
        return fail(&format!("error in bind: {e}"));
    }

    let sender = {
        let ctx = ctx.clone();
        thread::spawn(move || -> Result<(), String> {
            pin(pinned, 1, "sender");
            let push = ctx
                .socket(SocketType::Push)
                .map_err(|e| format!("error in socket: {e}"))?;
            push.connect("inproc://thr_test")
                .map_err(|e| format!("error in connect: {e}"))?;
            let payload = vec![0u8; size];
            for _ in 0..count {
                // A fresh message per send, as libzmq's `zmq_msg_init_size`: inline up to
                // 31 bytes, a recycled pool buffer above (see `inproc::Frame`).
                let msg = Message::from(&payload[..]);
                push.send(msg).map_err(|e| format!("error in send: {e}"))?;
            }
            Ok(())
        })
    };

    let check = |msg: Result<Message, inproc::Error>| match msg {
        Ok(m) if m.size() == size => Ok(()),
        Ok(_) => Err("message of incorrect size received".to_owned()),
        Err(e) => Err(format!("error in recv: {e}")),
    };

    if let Err(e) = check(pull.recv()) {
        return fail(&e);
    }
    let watch = Instant::now();
    for _ in 1..count {
        if let Err(e) = check(pull.recv()) {
            return fail(&e);
        }
    }
    let elapsed_us = watch.elapsed().as_micros().max(1);

    match sender.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return fail(&e),
        Err(_) => return fail("sender thread panicked"),
    }

    // libzmq: `(unsigned long) ((double) count / (double) elapsed * 1000000)`.
    let throughput = (count as f64 / elapsed_us as f64 * 1_000_000.0) as u64;
    let megabits = (throughput as f64 * size as f64 * 8.0) / 1_000_000.0;

    println!("message size: {size} [B]");
    println!("message count: {count}");
    println!("mean throughput: {throughput} [msg/s]");
    println!("mean throughput: {megabits:.3} [Mb/s]");
    ExitCode::SUCCESS
}
