//! Ping-pong round trips at 1 and 1024 bytes against a persistent echo thread: PAIR ↔ PAIR,
//! and REQ ↔ REP (libzmq's `inproc_lat` workload). One criterion iteration is one round
//! trip (send, then receive the echo); the one-way latency is half of it.

#[cfg(not(any(loom, shuttle)))]
mod real {
    use std::thread;
    use std::time::Instant;

    use criterion::{BenchmarkId, Criterion, criterion_group};
    use inproc::{Context, Message, SocketType};

    /// Round trips from a `client` socket to an echo thread's `server` socket.
    fn round_trip(c: &mut Criterion, group: &str, client: SocketType, server: SocketType) {
        let mut g = c.benchmark_group(group);
        for size in [1usize, 1024] {
            let ctx = Context::new();
            let near = ctx.socket(client).unwrap();
            near.bind("inproc://lat").unwrap();
            thread::scope(|s| {
                let echo_ctx = &ctx;
                s.spawn(move || {
                    let echo = echo_ctx.socket(server).unwrap();
                    echo.connect("inproc://lat").unwrap();
                    // Ends with `Terminated` when the benchmark shuts the context down.
                    while let Ok(m) = echo.recv() {
                        if echo.send(m).is_err() {
                            break;
                        }
                    }
                });
                let mut msg = Message::from(vec![0u8; size]);
                g.bench_function(BenchmarkId::from_parameter(size), |b| {
                    b.iter_custom(|iters| {
                        let start = Instant::now();
                        for _ in 0..iters {
                            near.send(std::mem::take(&mut msg)).unwrap();
                            msg = near.recv().unwrap();
                        }
                        start.elapsed()
                    });
                });
                assert_eq!(msg.size(), size);
                ctx.shutdown();
            });
        }
        g.finish();
    }

    fn pair_round_trip(c: &mut Criterion) {
        round_trip(c, "pair_round_trip", SocketType::Pair, SocketType::Pair);
    }

    fn req_rep_round_trip(c: &mut Criterion) {
        round_trip(c, "req_rep_round_trip", SocketType::Req, SocketType::Rep);
    }

    criterion_group!(benches, pair_round_trip, req_rep_round_trip);
}

#[cfg(not(any(loom, shuttle)))]
fn main() {
    real::benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}

#[cfg(any(loom, shuttle))]
fn main() {}
