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

const USAGE: &str = "usage: inproc_lat <message-size> <roundtrip-count> [pin]";

/// Parsed command line.
struct Args {
    size: usize,
    count: u64,
    pin: bool,
}

fn parse_args() -> Option<Args> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pin = match args.len() {
        2 => false,
        3 if args[2] == "pin" => true,
        _ => return None,
    };
    let size = args[0].parse().ok()?;
    let count = args[1].parse().ok().filter(|&c: &u64| c >= 1)?;
    Some(Args { size, count, pin })
}

/// Pins the calling thread to `cpu`; returns whether that worked.
#[cfg(target_os = "linux")]
fn pin_to_cpu(cpu: usize) -> bool {
    unsafe extern "C" {
        /// glibc's wrapper; `pid` 0 is the calling thread.
        fn sched_setaffinity(pid: i32, cpusetsize: usize, mask: *const u64) -> i32;
    }
    // glibc's `cpu_set_t`: 1024 bits.
    let mut mask = [0u64; 16];
    if cpu >= 1024 {
        return false;
    }
    mask[cpu / 64] |= 1 << (cpu % 64);
    // SAFETY: `mask` is a live, initialised buffer of exactly `size_of_val(&mask)` bytes
    // that the call only reads; pid 0 affects only the calling thread.
    let rc = unsafe { sched_setaffinity(0, std::mem::size_of_val(&mask), mask.as_ptr()) };
    rc == 0
}

/// Pinning is only implemented on Linux.
#[cfg(not(target_os = "linux"))]
fn pin_to_cpu(_cpu: usize) -> bool {
    false
}

fn pin(enabled: bool, cpu: usize, who: &str) {
    if enabled && !pin_to_cpu(cpu) {
        println!("note: could not pin the {who} thread to CPU {cpu}; running unpinned");
    }
}

fn fail(what: &str) -> ExitCode {
    eprintln!("{what}");
    ExitCode::FAILURE
}

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
