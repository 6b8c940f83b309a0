//! Throughput over loopback tcp, same run, same message size and count:
//!
//! 1. libzmq PUSH → tcp → libzmq PULL (the baseline: libzmq on both ends);
//! 2. libzmq PUSH → tcp → bridge → inproc PULL;
//! 3. inproc PUSH → bridge → tcp → libzmq PULL;
//! 4. as 2, with the bridge on a two-worker runtime (`worker_threads(2)`).
//!
//! ```sh
//! cargo run --release -p inproc-bridge --example bridge_thr -- [--quick] [--count N] [--size BYTES]
//! ```
//!
//! Each figure is messages received per second, timed at the receiver from just before
//! the first send of the timed messages to the last receive (one warm-up message goes
//! through first, so connection set-up is not timed). `--quick` (20,000 messages) is the
//! smoke run CI does; the README's figures are from the default 1,000,000 messages.

use std::time::{Duration, Instant};

use inproc::{Context, SocketType};
use inproc_bridge::{Bridge, Side};

struct Args {
    count: u64,
    size: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        count: 1_000_000,
        size: 64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => a.count = 20_000,
            "--count" => a.count = it.next().and_then(|v| v.parse().ok()).ok_or("--count N")?,
            "--size" => {
                a.size = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--size BYTES")?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.count == 0 {
        return Err("--count must be at least 1".into());
    }
    Ok(a)
}

fn zsock(ctx: &zmq::Context, ty: zmq::SocketType) -> Result<zmq::Socket, zmq::Error> {
    let s = ctx.socket(ty)?;
    s.set_rcvtimeo(30_000)?;
    s.set_sndtimeo(30_000)?;
    s.set_linger(-1)?;
    Ok(s)
}

/// libzmq → libzmq.
fn libzmq_to_libzmq(a: &Args) -> Result<Duration, Box<dyn std::error::Error>> {
    let ctx = zmq::Context::new();
    let pull = zsock(&ctx, zmq::PULL)?;
    pull.bind("tcp://127.0.0.1:*")?;
    let ep = pull.get_last_endpoint()?.map_err(|_| "endpoint")?;
    let push = zsock(&ctx, zmq::PUSH)?;
    push.connect(&ep)?;
    let body = vec![0u8; a.size];
    push.send(&body[..], 0)?;
    pull.recv_bytes(0)?;
    let count = a.count;
    let start = Instant::now();
    let sender = std::thread::spawn(move || -> Result<(), zmq::Error> {
        let body = vec![0u8; body.len()];
        for _ in 0..count {
            push.send(&body[..], 0)?;
        }
        Ok(())
    });
    let mut msg = zmq::Message::new();
    for _ in 0..count {
        pull.recv(&mut msg, 0)?;
    }
    let took = start.elapsed();
    sender.join().map_err(|_| "sender panicked")??;
    Ok(took)
}

/// libzmq → bridge → inproc.
fn libzmq_to_inproc(a: &Args, threads: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let ctx = Context::new();
    let pull = ctx.socket(SocketType::Pull)?;
    pull.bind("inproc://thr")?;
    let bridge = Bridge::builder(
        SocketType::Pull,
        "inproc://thr",
        "tcp://127.0.0.1:0",
        Side::Bind,
    )
    .worker_threads(threads)
    .start(&ctx)?;
    let zctx = zmq::Context::new();
    let push = zsock(&zctx, zmq::PUSH)?;
    push.connect(bridge.net_endpoint())?;
    let body = vec![0u8; a.size];
    push.send(&body[..], 0)?;
    pull.recv()?;
    let count = a.count;
    let start = Instant::now();
    let sender = std::thread::spawn(move || -> Result<(), zmq::Error> {
        for _ in 0..count {
            push.send(&body[..], 0)?;
        }
        Ok(())
    });
    for _ in 0..count {
        pull.recv_timeout(Duration::from_secs(30))?;
    }
    let took = start.elapsed();
    sender.join().map_err(|_| "sender panicked")??;
    bridge.stop()?;
    Ok(took)
}

/// inproc → bridge → libzmq.
fn inproc_to_libzmq(a: &Args) -> Result<Duration, Box<dyn std::error::Error>> {
    let ctx = Context::new();
    let push = ctx.socket(SocketType::Push)?;
    push.bind("inproc://thr")?;
    let bridge = Bridge::start(
        &ctx,
        "inproc://thr",
        "tcp://127.0.0.1:0",
        Side::Bind,
        SocketType::Push,
    )?;
    let zctx = zmq::Context::new();
    let pull = zsock(&zctx, zmq::PULL)?;
    pull.connect(bridge.net_endpoint())?;
    let body = vec![0u8; a.size];
    push.send(&body[..])?;
    pull.recv_bytes(0)?;
    let count = a.count;
    let start = Instant::now();
    let sender = std::thread::spawn(move || -> Result<(), inproc::Error> {
        for _ in 0..count {
            push.send(&body[..])?;
        }
        Ok(())
    });
    let mut msg = zmq::Message::new();
    for _ in 0..count {
        pull.recv(&mut msg, 0)?;
    }
    let took = start.elapsed();
    sender.join().map_err(|_| "sender panicked")??;
    bridge.stop()?;
    Ok(took)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args()?;
    let (major, minor, patch) = zmq::version();
    println!(
        "bridge_thr: {} messages of {} bytes over loopback tcp (libzmq {major}.{minor}.{patch}, {} CPUs)",
        a.count,
        a.size,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let line = |name: &str, d: Duration| {
        let rate = a.count as f64 / d.as_secs_f64();
        let mbit = rate * a.size as f64 * 8.0 / 1e6;
        println!("{name:<48} {rate:>12.0} msg/s {mbit:>10.1} Mb/s");
    };
    line("libzmq PUSH -> libzmq PULL", libzmq_to_libzmq(&a)?);
    line(
        "libzmq PUSH -> bridge -> inproc PULL",
        libzmq_to_inproc(&a, 0)?,
    );
    line(
        "inproc PUSH -> bridge -> libzmq PULL",
        inproc_to_libzmq(&a)?,
    );
    line(
        "libzmq PUSH -> bridge (2 workers) -> inproc PULL",
        libzmq_to_inproc(&a, 2)?,
    );
    Ok(())
}
