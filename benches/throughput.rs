//! PUSH → PULL throughput: one sender at 1, 64, 1024 and 65536 bytes, and fan-in of four
//! senders into one PULL (1 byte). Default HWMs; a fresh message per send, as libzmq's
//! `inproc_thr`. One criterion iteration is one message.

#[cfg(not(any(loom, shuttle)))]
mod real {
    use std::hint::black_box;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Instant;

    use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
    use inproc::{Context, Message, SocketType};

    /// Sends `n` fresh messages of `size` bytes for every `n` received on `orders`, until
    /// the channel closes.
    fn sender(ctx: &Context, endpoint: &str, size: usize, orders: mpsc::Receiver<u64>) {
        let push = ctx.socket(SocketType::Push).unwrap();
        push.connect(endpoint).unwrap();
        for n in orders {
            for _ in 0..n {
                push.send(Message::from(vec![0u8; size])).unwrap();
            }
        }
    }

    fn push_pull(c: &mut Criterion) {
        let mut g = c.benchmark_group("push_pull");
        g.throughput(Throughput::Elements(1));
        for size in [1usize, 64, 1024, 65536] {
            let ctx = Context::new();
            let pull = ctx.socket(SocketType::Pull).unwrap();
            pull.bind("inproc://thr").unwrap();
            let (orders, rx) = mpsc::channel();
            thread::scope(|s| {
                let ctx = &ctx;
                s.spawn(move || sender(ctx, "inproc://thr", size, rx));
                g.bench_function(BenchmarkId::from_parameter(size), |b| {
                    b.iter_custom(|iters| {
                        orders.send(iters).unwrap();
                        let start = Instant::now();
                        for _ in 0..iters {
                            black_box(pull.recv().unwrap());
                        }
                        start.elapsed()
                    });
                });
                drop(orders);
            });
        }
        g.finish();
    }

    fn fan_in(c: &mut Criterion) {
        const SENDERS: u64 = 4;
        let mut g = c.benchmark_group("push_pull_fan_in");
        g.throughput(Throughput::Elements(1));
        let ctx = Context::new();
        let pull = ctx.socket(SocketType::Pull).unwrap();
        pull.bind("inproc://fan_in").unwrap();
        thread::scope(|s| {
            let mut orders = Vec::new();
            for _ in 0..SENDERS {
                let (tx, rx) = mpsc::channel();
                let ctx = &ctx;
                s.spawn(move || sender(ctx, "inproc://fan_in", 1, rx));
                orders.push(tx);
            }
            g.bench_function(BenchmarkId::new("senders_4", 1), |b| {
                b.iter_custom(|iters| {
                    // Split `iters` over the senders; the first ones take the remainder.
                    for (i, tx) in (0..SENDERS).zip(&orders) {
                        tx.send(iters / SENDERS + u64::from(i < iters % SENDERS))
                            .unwrap();
                    }
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box(pull.recv().unwrap());
                    }
                    start.elapsed()
                });
            });
            drop(orders);
        });
        g.finish();
    }

    criterion_group!(benches, push_pull, fan_in);
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
