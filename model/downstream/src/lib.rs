//! A user's protocol on inproc sockets: a dispatcher hands one job to each of its
//! workers over PUSH/PULL and collects one result per worker.
//!
//! The crate itself knows nothing about model checkers: it uses `inproc` only. Its tests
//! (`tests/loom_*.rs`, `tests/shuttle_*.rs`) run it under `--cfg loom` and `--cfg shuttle`,
//! where inproc's sockets are built on the checker's primitives, so the checker explores
//! this protocol and inproc's own code together.
//!
//! The protocol has a classic bug: the dispatcher sends the jobs as soon as it has bound,
//! but a PUSH load-balances only over the workers connected *at the time of the send*. If
//! one worker has connected and the other has not, both jobs go to the first; it takes
//! one and leaves (its queued second job is dropped with its socket), and the second
//! worker waits for a job forever. [`Handshake::Ready`] fixes it: each worker connects,
//! then says "ready"; the dispatcher sends only once every worker said so.

use inproc::{Context, Error, Message, Socket, SocketType};

/// Where the dispatcher hands out jobs.
pub const JOBS: &str = "inproc://jobs";
/// Where workers report back.
pub const RESULTS: &str = "inproc://results";

/// Whether workers announce themselves before the dispatcher sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// The buggy protocol: jobs go out at once.
    None,
    /// The fixed protocol: wait for one "ready" per worker first.
    Ready,
}

/// The dispatcher's two sockets.
#[derive(Debug)]
pub struct Dispatcher {
    jobs: Socket,
    results: Socket,
}

impl Dispatcher {
    /// Binds [`JOBS`] (PUSH) and [`RESULTS`] (PULL).
    pub fn bind(ctx: &Context) -> Result<Self, Error> {
        let jobs = ctx.socket(SocketType::Push)?;
        jobs.bind(JOBS)?;
        let results = ctx.socket(SocketType::Pull)?;
        results.bind(RESULTS)?;
        Ok(Dispatcher { jobs, results })
    }

    /// Hands one job to each of `workers` workers and returns their results, in arrival
    /// order.
    pub fn run(&self, workers: usize, handshake: Handshake) -> Result<Vec<String>, Error> {
        if handshake == Handshake::Ready {
            for _ in 0..workers {
                let m = self.results.recv()?;
                assert_eq!(text(&m), "ready");
            }
        }
        for j in 0..workers {
            self.jobs.send(format!("job {j}"))?;
        }
        let mut done = Vec::with_capacity(workers);
        for _ in 0..workers {
            done.push(text(&self.results.recv()?));
        }
        Ok(done)
    }
}

/// A worker: connects to the dispatcher, takes one job, reports it done, and leaves.
pub fn worker(ctx: &Context, id: usize, handshake: Handshake) -> Result<(), Error> {
    let jobs = ctx.socket(SocketType::Pull)?;
    jobs.connect(JOBS)?;
    let results = ctx.socket(SocketType::Push)?;
    results.connect(RESULTS)?;
    if handshake == Handshake::Ready {
        results.send("ready")?;
    }
    let job = text(&jobs.recv()?);
    results.send(format!("worker {id} did {job}"))?;
    Ok(())
}

/// A one-frame message's text.
fn text(m: &Message) -> String {
    m.frames()
        .iter()
        .map(|f| String::from_utf8_lossy(f.as_slice()))
        .collect()
}
