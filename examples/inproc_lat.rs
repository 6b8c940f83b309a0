//! libzmq's `perf/inproc_lat`, on this crate: round-trip latency over `inproc://`.
//!
//! ```text
//! cargo run --release --example inproc_lat -- <message-size> <roundtrip-count> [pin]
//! ```
//!
//! The same workload as libzmq's tool (reference section 5.2): the main thread's REQ binds
//! `inproc://lat_test`; a worker thread's REP connects and echoes `roundtrip-count`
//! requests. The main thread sends one zero-filled message of `message-size` bytes and
//! receives the echo, `count` times, checking the size. As in libzmq, the stopwatch starts
//! before the first send (so it includes the worker's start and connect: a REQ without a
//! peer blocks), and the figure printed is one-way latency, `elapsed_us / (count * 2)`.
//!
//! With `pin`, the main thread is pinned to CPU 0 and the echo thread to CPU 1 (Linux
//! only; a line says so if pinning fails).

use std::process::ExitCode;
use std::thread;
use std::time::Instant;

use inproc::{Context, Message, SocketType};

#[path = "common/perf.rs"]
mod perf;
use perf::{Args, fail, parse_args, pin};

const USAGE: &str = "usage: inproc_lat <message-size> <roundtrip-count> [pin]";

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
    pin(pinned, 0, "main");
    let s = match ctx.socket(SocketType::Req) {
        Ok(s) => s,
        Err(e) => return fail(&format!("error in socket: {e}")),
    };
    if let Err(e) = s.bind("inproc://lat_test") {
        return fail(&format!("error in bind: {e}"));
    }

    let echo = {
        let ctx = ctx.clone();
        thread::spawn(move || -> Result<(), String> {
            pin(pinned, 1, "echo");
            let s = ctx
                .socket(SocketType::Rep)
                .map_err(|e| format!("error in socket: {e}"))?;
            s.connect("inproc://lat_test")
                .map_err(|e| format!("error in connect: {e}"))?;
            for _ in 0..count {
                let msg = s.recv().map_err(|e| format!("error in recv: {e}"))?;
                s.send(msg).map_err(|e| format!("error in send: {e}"))?;
            }
            Ok(())
        })
    };

    let mut msg = Message::from(vec![0u8; size]);
    println!("message size: {size} [B]");
    println!("roundtrip count: {count}");

    let watch = Instant::now();
    for _ in 0..count {
        if let Err(e) = s.send(msg) {
            return fail(&format!("error in send: {e}"));
        }
        msg = match s.recv() {
            Ok(m) if m.size() == size => m,
            Ok(_) => return fail("message of incorrect size received"),
            Err(e) => return fail(&format!("error in recv: {e}")),
        };
    }
    let elapsed_us = watch.elapsed().as_micros().max(1);

    let latency = elapsed_us as f64 / (count as f64 * 2.0);
    println!("average latency: {latency:.3} [us]");

    match echo.join() {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => fail(&e),
        Err(_) => fail("echo thread panicked"),
    }
}
