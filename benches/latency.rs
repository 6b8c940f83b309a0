//! PAIR ping-pong round trip at 1 and 1024 bytes, against a persistent echo thread. One
//! criterion iteration is one round trip (send, then receive the echo).

#[cfg(not(any(loom, shuttle)))]
mod real {
    use std::thread;
    use std::time::Instant;

    use criterion::{BenchmarkId, Criterion, criterion_group};
    use inproc::{Context, Message, SocketType};

    fn pair_round_trip(c: &mut Criterion) {
        let mut g = c.benchmark_group("pair_round_trip");
        for size in [1usize, 1024] {
            let ctx = Context::new();
            let pair = ctx.socket(SocketType::Pair).unwrap();
            pair.bind("inproc://lat").unwrap();
            thread::scope(|s| {
                let echo_ctx = &ctx;
                s.spawn(move || {
                    let echo = echo_ctx.socket(SocketType::Pair).unwrap();
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
                            pair.send(std::mem::take(&mut msg)).unwrap();
                            msg = pair.recv().unwrap();
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

    criterion_group!(benches, pair_round_trip);
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
