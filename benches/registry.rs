//! Registry operations: bind + unbind of a name, connect + disconnect to a bound name,
//! socket create + close, create + connect + close of a connected socket, and a connect
//! before the bind (the pending path) with both sockets' create and close. One criterion
//! iteration is one such group of operations.

#[cfg(not(any(loom, shuttle)))]
mod real {
    use std::time::{Duration, Instant};

    use criterion::{Criterion, criterion_group};
    use inproc::{Context, Error, SocketType};

    fn bind_unbind(c: &mut Criterion) {
        let ctx = Context::new();
        let s = ctx.socket(SocketType::Pull).unwrap();
        c.bench_function("registry/bind_unbind", |b| {
            b.iter(|| {
                s.bind("inproc://bench").unwrap();
                s.unbind("inproc://bench").unwrap();
            });
        });
    }

    fn connect_disconnect(c: &mut Criterion) {
        /// Connections made between two reaps of the binder (outside the timed region).
        const BATCH: u64 = 256;
        let ctx = Context::new();
        let pull = ctx.socket(SocketType::Pull).unwrap();
        pull.bind("inproc://bench").unwrap();
        let push = ctx.socket(SocketType::Push).unwrap();
        c.bench_function("registry/connect_disconnect", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(BATCH);
                    let start = Instant::now();
                    for _ in 0..n {
                        push.connect("inproc://bench").unwrap();
                        push.disconnect("inproc://bench").unwrap();
                    }
                    total += start.elapsed();
                    left -= n;
                    // The binder adopts the handed-over ends and drops the dead ones on its
                    // next call; without this they would pile up in its inbox.
                    assert_eq!(pull.try_recv(), Err(Error::WouldBlock));
                }
                total
            });
        });
        assert_eq!(pull.connection_count(), 0);
    }

    fn socket_create_close(c: &mut Criterion) {
        let ctx = Context::new();
        c.bench_function("registry/socket_create_close", |b| {
            b.iter(|| ctx.socket(SocketType::Pull).unwrap().close());
        });
    }

    fn connect_close(c: &mut Criterion) {
        /// Sockets closed between two reaps of the binder (outside the timed region).
        const BATCH: u64 = 256;
        let ctx = Context::new();
        let pull = ctx.socket(SocketType::Pull).unwrap();
        pull.bind("inproc://bench").unwrap();
        c.bench_function("registry/create_connect_close", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(BATCH);
                    let start = Instant::now();
                    for _ in 0..n {
                        let push = ctx.socket(SocketType::Push).unwrap();
                        push.connect("inproc://bench").unwrap();
                        push.close();
                    }
                    total += start.elapsed();
                    left -= n;
                    // As in `connect_disconnect`: the binder drops the dead ends.
                    assert_eq!(pull.try_recv(), Err(Error::WouldBlock));
                }
                total
            });
        });
        assert_eq!(pull.connection_count(), 0);
    }

    fn connect_before_bind(c: &mut Criterion) {
        let ctx = Context::new();
        c.bench_function("registry/connect_before_bind_close", |b| {
            b.iter(|| {
                let push = ctx.socket(SocketType::Push).unwrap();
                push.connect("inproc://bench").unwrap();
                let pull = ctx.socket(SocketType::Pull).unwrap();
                pull.bind("inproc://bench").unwrap();
                push.close();
                pull.close();
            });
        });
    }

    criterion_group!(
        benches,
        bind_unbind,
        connect_disconnect,
        socket_create_close,
        connect_close,
        connect_before_bind
    );
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
