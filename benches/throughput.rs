//! PUSH → PULL throughput: one sender at 1, 64, 1024 and 65536 bytes, and fan-in of four
//! senders into one PULL (1 byte), with default HWMs; fan-out of one PUB to four SUBs
//! (1 byte, unlimited HWMs so that nothing is dropped). A fresh message per send, copied
//! from a prepared slice (`Message::from(&payload[..size])`), as libzmq's `inproc_thr`
//! makes one per send. One criterion iteration is one message (for fan-out: one message
//! published, delivered to all four subscribers).

#[cfg(not(any(loom, shuttle)))]
mod real {
    use std::hint::black_box;
    use std::sync::mpsc;
    use std::thread;
    use std::time::{Duration, Instant};

    use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
    use inproc::{Context, Error, Message, Socket, SocketType};

    /// Sends `n` fresh messages of `size` bytes for every `n` received on `orders`, until
    /// the channel closes.
    fn sender(ctx: &Context, endpoint: &str, size: usize, orders: mpsc::Receiver<u64>) {
        let push = ctx.socket(SocketType::Push).unwrap();
        push.connect(endpoint).unwrap();
        let payload = vec![0u8; size];
        for n in orders {
            for _ in 0..n {
                push.send(Message::from(&payload[..size])).unwrap();
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

    /// Publishes empty probes until every subscriber has received one (the slow-joiner
    /// effect: a subscription reaches the PUB some time after the SUB connects), then
    /// drains the probes left, so that every queue starts empty.
    fn handshake(publisher: &Socket, subs: &[Socket]) {
        let mut joined = vec![false; subs.len()];
        while joined.contains(&false) {
            publisher.send(Message::new()).unwrap();
            for (sub, joined) in subs.iter().zip(&mut joined) {
                *joined |= sub.try_recv().is_ok();
            }
            thread::sleep(Duration::from_millis(1));
        }
        for sub in subs {
            while sub.try_recv().is_ok() {}
            assert_eq!(sub.try_recv(), Err(Error::WouldBlock));
        }
    }

    fn fan_out(c: &mut Criterion) {
        const SUBSCRIBERS: usize = 4;
        let mut g = c.benchmark_group("pub_sub_fan_out");
        g.throughput(Throughput::Elements(1));
        let ctx = Context::new();
        let publisher = ctx.socket(SocketType::Pub).unwrap();
        // Unlimited HWMs: a PUB drops at its HWM instead of waiting, and every subscriber
        // must get every message.
        publisher.set_sndhwm(0).unwrap();
        publisher.bind("inproc://fan_out").unwrap();
        let subs: Vec<Socket> = (0..SUBSCRIBERS)
            .map(|_| {
                let sub = ctx.socket(SocketType::Sub).unwrap();
                sub.set_rcvhwm(0).unwrap();
                sub.subscribe("").unwrap();
                sub.connect("inproc://fan_out").unwrap();
                sub
            })
            .collect();
        handshake(&publisher, &subs);
        thread::scope(|s| {
            // Each subscriber takes an order of `n` messages, receives them and reports.
            let (done_tx, done) = mpsc::channel();
            let orders: Vec<mpsc::Sender<u64>> = subs
                .iter()
                .map(|sub| {
                    let (tx, rx) = mpsc::channel::<u64>();
                    let done_tx = done_tx.clone();
                    s.spawn(move || {
                        for n in rx {
                            for _ in 0..n {
                                let m = sub.recv().unwrap();
                                assert_eq!(m.size(), 1);
                                black_box(m);
                            }
                            done_tx.send(()).unwrap();
                        }
                    });
                    tx
                })
                .collect();
            let payload = [0u8; 1];
            g.bench_function(BenchmarkId::new("subscribers_4", 1), |b| {
                b.iter_custom(|iters| {
                    for tx in &orders {
                        tx.send(iters).unwrap();
                    }
                    let start = Instant::now();
                    for _ in 0..iters {
                        publisher.send(Message::from(&payload[..])).unwrap();
                    }
                    for _ in &orders {
                        done.recv().unwrap();
                    }
                    start.elapsed()
                });
            });
            drop(orders);
        });
        g.finish();
    }

    criterion_group!(benches, push_pull, fan_in, fan_out);
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
