//! libzmq's `perf/inproc_thr`, on this crate: PUSH → PULL throughput over `inproc://`.
//!
//! ```text
//! cargo run --release --example inproc_thr -- <message-size> <message-count> [pin]
//! ```
//!
//! The same workload and output as libzmq's tool: the main thread's PULL binds
//! `inproc://thr_test`; a worker thread's PUSH connects and sends `message-count`
//! messages, each freshly allocated (`message-size` zero bytes), with the default HWMs.
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

const USAGE: &str = "usage: inproc_thr <message-size> <message-count> [pin]";

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
            for _ in 0..count {
                // A fresh message per send, as libzmq's `zmq_msg_init_size`.
                let msg = Message::from(vec![0u8; size]);
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
