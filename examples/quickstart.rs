//! Quickstart: a ventilator / workers / sink pipeline over `inproc://`.
//!
//! ```text
//!                 inproc://tasks                 inproc://results
//!  ventilator PUSH ──────────────► 3 × worker PULL │ PUSH ──────────────► sink PULL
//!    (binds)                        (connect)        (connect)               (binds)
//!                                                                             │
//!  main PAIR ◄──────────────────── inproc://done ─────────────────────────── PAIR
//!    (binds)                                                              (connects)
//! ```
//!
//! * The workers connect to both names **before** anything is bound: `connect` returns at
//!   once, the connections wait in the context's registry, and they are attached (in
//!   connect order) when the ventilator and the sink bind.
//! * The ventilator load-balances 30 tasks over the workers (round-robin); each worker
//!   squares its task and pushes the result to the sink, which fair-queues them.
//! * When the sink has all 30 results it sends one message over PAIR to `main`, which
//!   then shuts the context down: the workers, blocked in `recv`, get
//!   `Error::Terminated` and return.
//!
//! Run it with `cargo run --example quickstart`. No sleeps; the totals are deterministic
//! (the interleaving of the "worker N got task M" lines is not).

use std::sync::Barrier;
use std::thread;

use inproc::{Context, Error, SocketType};

const WORKERS: usize = 3;
const TASKS: u64 = 30;

/// One worker: connect (before any bind), then square tasks until the context shuts down.
/// Returns how many tasks it handled.
fn worker(ctx: &Context, id: usize, connected: &Barrier) -> Result<usize, Error> {
    let tasks = ctx.socket(SocketType::Pull)?;
    tasks.connect("inproc://tasks")?;
    let results = ctx.socket(SocketType::Push)?;
    results.connect("inproc://results")?;
    println!(
        "worker {id}: connected to inproc://tasks and inproc://results (neither is bound yet)"
    );
    connected.wait();

    let mut handled = 0;
    loop {
        let msg = match tasks.recv() {
            Ok(msg) => msg,
            // `main` shut the context down: the pipeline is finished.
            Err(Error::Terminated) => break,
            Err(e) => return Err(e),
        };
        let task = parse(&msg.frames()[0]);
        println!("worker {id} got task {task}");
        // A two-frame message: which worker, and "task result".
        let mut reply = inproc::Message::from(format!("{id}"));
        reply.push(format!("{task} {}", task * task));
        results.send(reply)?;
        handled += 1;
    }
    println!("worker {id}: stopping (context shut down) after {handled} tasks");
    Ok(handled)
}

/// The sink: bind `inproc://results`, collect every result, then signal `main` over PAIR.
fn sink(ctx: &Context) -> Result<(), Error> {
    let results = ctx.socket(SocketType::Pull)?;
    results.bind("inproc://results")?;
    let done = ctx.socket(SocketType::Pair)?;
    done.connect("inproc://done")?;

    let mut per_worker = [0u64; WORKERS + 1];
    let mut sum = 0;
    for _ in 0..TASKS {
        let msg = results.recv()?;
        let frames = msg.frames();
        let worker = usize::try_from(parse(&frames[0])).unwrap_or(0).min(WORKERS);
        let text = std::str::from_utf8(&frames[1]).unwrap_or("");
        let (_task, square) = text.split_once(' ').unwrap_or(("0", "0"));
        sum += square.parse::<u64>().unwrap_or(0);
        per_worker[worker] += 1;
    }
    println!("sink: all {TASKS} results received; sum of squares = {sum}");
    for (w, n) in per_worker.iter().enumerate().skip(1) {
        println!("sink: {n} results came from worker {w}");
    }
    done.send(format!("{TASKS} results, sum {sum}"))?;
    Ok(())
}

fn parse(frame: &[u8]) -> u64 {
    std::str::from_utf8(frame)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ctx = Context::new();
    let connected = Barrier::new(WORKERS + 1);

    let handled = thread::scope(|s| -> Result<Vec<usize>, Box<dyn std::error::Error>> {
        let workers: Vec<_> = (1..=WORKERS)
            .map(|id| {
                let (ctx, connected) = (&ctx, &connected);
                s.spawn(move || worker(ctx, id, connected))
            })
            .collect();

        // Every worker has connected; nothing is bound yet.
        connected.wait();
        println!(
            "main: {WORKERS} workers connected before any bind; {} names have pending connections",
            ctx.endpoint_count()
        );

        // Bound before the sink starts, so the sink's connect attaches at once.
        let done = ctx.socket(SocketType::Pair)?;
        done.bind("inproc://done")?;
        let sink = s.spawn(|| sink(&ctx));

        let ventilator = ctx.socket(SocketType::Push)?;
        ventilator.bind("inproc://tasks")?;
        println!(
            "ventilator: bound inproc://tasks; {} pending workers attached",
            ventilator.connection_count()
        );
        for task in 0..TASKS {
            ventilator.send(task.to_string())?;
        }
        println!("ventilator: sent {TASKS} tasks");

        let signal = done.recv()?;
        println!(
            "main: done signal received over PAIR ({})",
            String::from_utf8_lossy(&signal.frames()[0])
        );
        sink.join().expect("sink thread panicked")?;

        // Stop the workers: every blocked call on this context returns `Terminated`.
        ctx.shutdown();
        let mut handled = Vec::new();
        for w in workers {
            handled.push(w.join().expect("worker thread panicked")?);
        }
        Ok(handled)
    })?;

    let total: usize = handled.iter().sum();
    println!("main: workers handled {handled:?} tasks, {total} in total");
    assert_eq!(total as u64, TASKS);
    Ok(())
}
