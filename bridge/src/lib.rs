//! Attach an [`inproc`] socket to ZeroMQ's network transports (`tcp://`, `ipc://`), so
//! that real ZeroMQ peers (libzmq, pyzmq, czmq, zmq.rs) reach it: "same code, different
//! endpoint".
//!
//! The wire is not ours: [zmq.rs](https://github.com/zeromq/zmq.rs) (crate `zeromq`,
//! pure Rust, ZMTP 3.0) speaks it. A [`Bridge`] owns one thread with a tokio runtime, one
//! inproc socket and one zmq.rs socket, and forwards whole multipart messages between
//! them until it is stopped, dropped, or the [`inproc::Context`] is shut down.
//!
//! ```no_run
//! use inproc::{Context, SocketType};
//! use inproc_bridge::{Bridge, Side};
//!
//! let ctx = Context::new();
//! // Your program, unchanged: a PULL bound on an inproc name.
//! let pull = ctx.socket(SocketType::Pull)?;
//! pull.bind("inproc://work")?;
//! // Network PUSH peers (libzmq or any other) now reach it on tcp port 5555.
//! let bridge = Bridge::start(&ctx, "inproc://work", "tcp://0.0.0.0:5555", Side::Bind, SocketType::Pull)?;
//! let job = pull.recv()?;
//! # drop(job);
//! ctx.shutdown(); // stops the bridge too
//! bridge.join()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The mapping
//!
//! `kind` is the type of **your** inproc socket. On the network the bridge presents that
//! same pattern, so a network peer sees what it would see if your socket were bound or
//! connected there; on the inproc side it holds the matching peer type:
//!
//! | your socket (`kind`) | bridge's inproc socket | bridge's zmq.rs socket | frames that cross |
//! |---|---|---|---|
//! | PUSH | PULL | PUSH | the message |
//! | PULL | PUSH | PULL | the message |
//! | PUB | XSUB (subscribed to everything) | PUB (filters per subscriber) | the message |
//! | XPUB | XSUB | XPUB | the message; subscriptions (`1`/`0` + prefix) come back to your XPUB |
//! | SUB, XSUB | XPUB | XSUB | the message; your subscriptions go to the network publishers |
//! | REQ | ROUTER | DEALER | `[id, "", body...]`: your REQ's routing id travels, the peer's reply comes back on it |
//! | REP | DEALER | ROUTER | `[peer id, "", body...]`: your REP sees the network peer's id as its envelope |
//! | DEALER | DEALER | DEALER | the message, unchanged |
//! | ROUTER | DEALER | ROUTER | `[peer id, body...]`: your ROUTER sees `[bridge id, peer id, body...]` and replies on both |
//! | PAIR | — | — | not supported: zmq.rs 0.7 has no PAIR socket ([`BridgeError::Unsupported`]) |
//!
//! REQ and ROUTER get zmq_proxy's ROUTER/DEALER treatment: routing ids become envelope
//! frames, so replies find their way back through any number of bridges and brokers.
//!
//! # Back-pressure, peers and shutdown
//!
//! - Each direction takes the next message only after the other side accepted the
//!   previous one. A slow network peer fills zmq.rs's per-peer queue (100,000 messages,
//!   fixed in zmq.rs 0.7) and then the bridge's inproc window (its HWM plus yours), and
//!   your `send` blocks (PUSH, DEALER) or drops (PUB), as with a local slow peer. A slow
//!   inproc reader stops the bridge reading the network, and the network sender's own
//!   HWM applies. The README gives the measured figures.
//! - PUSH and DEALER with no network peer hold the message until one connects; ROUTER
//!   drops replies to peers that are gone; PUB drops when no subscriber matches.
//! - Bound, zmq.rs accepts peers as they come and go. Connected, a lost peer is
//!   reconnected (by zmq.rs for SUB/XSUB, by the bridge for the others, except XPUB; see
//!   the README).
//! - [`inproc::Context::shutdown`] stops every bridge of that context within a
//!   scheduling round: the bridge closes its sockets, and [`inproc::Context::terminate`]
//!   then returns. [`Bridge::stop`] (or dropping the handle) stops one bridge.
#![forbid(unsafe_code)]

mod engine;
mod net;

use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use inproc::{Context, Socket, SocketType};

use crate::engine::{Counters, Plan};
use crate::net::{NetKind, NetSocket};

/// Whether a side binds its endpoint or connects to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Bind the endpoint (listen, for the network side); peers connect to it.
    Bind,
    /// Connect to the endpoint.
    Connect,
}

/// Why a bridge could not start, or why it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BridgeError {
    /// This socket type cannot be bridged (PAIR: zmq.rs 0.7 has no PAIR socket).
    Unsupported {
        /// The type asked for.
        kind: SocketType,
        /// Why.
        reason: &'static str,
    },
    /// The network endpoint names a transport zmq.rs does not have (it has `tcp://`
    /// and `ipc://`), or an `inproc://` name was given for the network side.
    UnsupportedTransport(String),
    /// The network endpoint is malformed (no port, port out of range, empty path, ...).
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An option value is out of range.
    InvalidArgument(&'static str),
    /// The inproc side failed: bad or taken `inproc://` name, a context already shut
    /// down ([`inproc::Error::Terminated`]), an HWM out of range.
    Inproc(inproc::Error),
    /// zmq.rs could not bind the network endpoint (address in use, no such interface,
    /// permission).
    Net {
        /// The endpoint.
        endpoint: String,
        /// zmq.rs's error, as text.
        message: String,
    },
    /// The bridge's thread or runtime could not be started.
    Runtime(String),
    /// The bridge's thread panicked (a bug; please report it).
    Panicked,
}

impl std::fmt::Display for BridgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BridgeError::Unsupported { kind, reason } => {
                write!(f, "cannot bridge a {kind} socket: {reason}")
            }
            BridgeError::UnsupportedTransport(t) => write!(f, "unsupported transport: {t}"),
            BridgeError::InvalidEndpoint { endpoint, reason } => {
                write!(f, "invalid endpoint `{endpoint}`: {reason}")
            }
            BridgeError::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            BridgeError::Inproc(e) => write!(f, "inproc side: {e}"),
            BridgeError::Net { endpoint, message } => write!(f, "{endpoint}: {message}"),
            BridgeError::Runtime(e) => write!(f, "cannot start the bridge: {e}"),
            BridgeError::Panicked => f.write_str("the bridge's thread panicked"),
        }
    }
}

impl std::error::Error for BridgeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BridgeError::Inproc(e) => Some(e),
            _ => None,
        }
    }
}

impl From<inproc::Error> for BridgeError {
    fn from(e: inproc::Error) -> Self {
        BridgeError::Inproc(e)
    }
}

/// Which sockets a bridge uses for a given `kind` (the table in the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mapping {
    /// Your inproc socket's type (what the bridge serves).
    pub kind: SocketType,
    /// The bridge's own inproc socket, your socket's peer.
    pub inproc: SocketType,
    /// The bridge's zmq.rs socket: what network peers see.
    pub net: SocketType,
}

impl Mapping {
    /// The mapping for `kind`.
    ///
    /// # Errors
    /// [`BridgeError::Unsupported`] for PAIR (and any type added later).
    pub fn of(kind: SocketType) -> Result<Mapping, BridgeError> {
        let (inproc, net) = plan_for(kind)?;
        Ok(Mapping {
            kind,
            inproc,
            net: net.as_socket_type(),
        })
    }
}

fn plan_for(kind: SocketType) -> Result<(SocketType, NetKind), BridgeError> {
    use SocketType as T;
    Ok(match kind {
        T::Push => (T::Pull, NetKind::Push),
        T::Pull => (T::Push, NetKind::Pull),
        T::Pub => (T::XSub, NetKind::Pub),
        T::XPub => (T::XSub, NetKind::XPub),
        T::Sub | T::XSub => (T::XPub, NetKind::XSub),
        T::Req => (T::Router, NetKind::Dealer),
        T::Rep | T::Router => (T::Dealer, NetKind::Router),
        T::Dealer => (T::Dealer, NetKind::Dealer),
        T::Pair => {
            return Err(BridgeError::Unsupported {
                kind,
                reason: "zmq.rs 0.7 has no PAIR socket (zeromq/zmq.rs#41), and a libzmq \
                         PAIR accepts no other type",
            });
        }
        _ => {
            return Err(BridgeError::Unsupported {
                kind,
                reason: "unknown socket type",
            });
        }
    })
}

/// Message counts of a bridge ([`Bridge::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct BridgeStats {
    /// Messages handed to zmq.rs for the network (accepted into a peer's queue, or
    /// published).
    pub to_net: u64,
    /// Messages received from the network.
    pub from_net: u64,
    /// Messages dropped by the bridge: ROUTER replies to a peer that is gone (or
    /// malformed: no routing id), XPUB sends that failed.
    pub dropped: u64,
    /// Network connections made or accepted (zmq.rs's monitor events).
    pub connections: u64,
    /// Network connections lost.
    pub disconnections: u64,
    /// Network errors seen (failed connects, failed peer streams); each is retried
    /// or the peer dropped, the bridge goes on.
    pub net_errors: u64,
}

/// How to start a bridge: [`Bridge::builder`] or [`BridgeBuilder::new`], options, then
/// [`BridgeBuilder::start`].
#[derive(Debug, Clone)]
pub struct BridgeBuilder {
    kind: SocketType,
    inproc_endpoint: String,
    inproc_side: Side,
    net_endpoint: String,
    net_side: Side,
    sndhwm: Option<usize>,
    rcvhwm: Option<usize>,
    routing_id: Option<Bytes>,
    worker_threads: usize,
}

impl BridgeBuilder {
    /// A bridge for your inproc socket of type `kind` at `inproc_endpoint`, reachable
    /// on the network at `net_endpoint` (bound or connected as `net_side` says).
    pub fn new(
        kind: SocketType,
        inproc_endpoint: impl Into<String>,
        net_endpoint: impl Into<String>,
        net_side: Side,
    ) -> Self {
        BridgeBuilder {
            kind,
            inproc_endpoint: inproc_endpoint.into(),
            inproc_side: Side::Connect,
            net_endpoint: net_endpoint.into(),
            net_side,
            sndhwm: None,
            rcvhwm: None,
            routing_id: None,
            worker_threads: 0,
        }
    }

    /// Whether the bridge's inproc socket connects to `inproc_endpoint` (the default:
    /// your socket binds it, before or after the bridge starts) or binds it (your
    /// socket connects).
    pub fn inproc_side(mut self, side: Side) -> Self {
        self.inproc_side = side;
        self
    }

    /// SNDHWM of the bridge's inproc socket (default 1000, 0 = unlimited): with your
    /// socket's RCVHWM, how many network messages may wait for your program.
    pub fn sndhwm(mut self, hwm: usize) -> Self {
        self.sndhwm = Some(hwm);
        self
    }

    /// RCVHWM of the bridge's inproc socket (default 1000, 0 = unlimited): with your
    /// socket's SNDHWM, how many of your messages may wait for the network.
    pub fn rcvhwm(mut self, hwm: usize) -> Self {
        self.rcvhwm = Some(hwm);
        self
    }

    /// The routing id (ZMTP `Identity`, 1 to 255 bytes) the network socket announces: a
    /// libzmq ROUTER peer sees it as this bridge's id. Default: none (the peer makes one).
    pub fn net_routing_id(mut self, id: impl Into<Bytes>) -> Self {
        self.routing_id = Some(id.into());
        self
    }

    /// Runtime threads: 0 (the default) runs the bridge on one thread of its own with a
    /// current-thread tokio runtime; `n > 0` gives it a multi-thread runtime with `n`
    /// workers (zmq.rs's per-connection reader and writer tasks then run in parallel
    /// with the forwarding).
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n;
        self
    }

    /// Starts the bridge. When this returns `Ok`, a bound network endpoint is listening
    /// ([`Bridge::net_endpoint`] has the port chosen for `:0`) and the inproc side is
    /// attached; a connecting network side keeps trying in the background.
    ///
    /// # Errors
    /// [`BridgeError::Unsupported`] (PAIR), [`BridgeError::UnsupportedTransport`],
    /// [`BridgeError::InvalidEndpoint`], [`BridgeError::InvalidArgument`],
    /// [`BridgeError::Inproc`] (bad or taken inproc name, context shut down, bad HWM),
    /// [`BridgeError::Net`] (the bind failed), [`BridgeError::Runtime`].
    pub fn start(self, ctx: &Context) -> Result<Bridge, BridgeError> {
        let (inproc_kind, net_kind) = plan_for(self.kind)?;
        let net_endpoint = net::check_endpoint(&self.net_endpoint, self.net_side)?;
        if let Some(id) = &self.routing_id
            && (id.is_empty() || id.len() > 255)
        {
            return Err(BridgeError::InvalidArgument(
                "the network routing id must be 1 to 255 bytes",
            ));
        }
        let plan = Plan {
            net_kind,
            net_endpoint,
            net_side: self.net_side,
            routing_id: self.routing_id.clone(),
        };
        let counters = Arc::new(Counters::default());
        let done = Arc::new(Done::default());
        let (ready_tx, ready_rx) = sync_channel(1);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let job = Job {
            ctx: ctx.clone(),
            inproc_kind,
            inproc_endpoint: self.inproc_endpoint.clone(),
            inproc_side: self.inproc_side,
            sndhwm: self.sndhwm,
            rcvhwm: self.rcvhwm,
            subscribe_all: self.kind == SocketType::Pub,
            plan,
            worker_threads: self.worker_threads,
            counters: counters.clone(),
        };
        let thread_done = done.clone();
        let thread = std::thread::Builder::new()
            .name(format!("inproc-bridge {}", self.kind))
            .spawn(move || {
                let r = job.run(ready_tx, stop_rx);
                thread_done.set();
                r
            })
            .map_err(|e| BridgeError::Runtime(e.to_string()))?;
        match ready_rx.recv() {
            Ok(Ok(net_endpoint)) => Ok(Bridge {
                stop: Some(stop_tx),
                thread: Some(thread),
                done,
                counters,
                kind: self.kind,
                inproc_endpoint: self.inproc_endpoint,
                net_endpoint,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(BridgeError::Panicked)
            }
        }
    }
}

/// Set when the bridge's thread is about to end.
#[derive(Debug, Default)]
struct Done {
    flag: Mutex<bool>,
    cv: Condvar,
}

impl Done {
    fn set(&self) {
        *self.flag.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.cv.notify_all();
    }

    fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut done = self.flag.lock().unwrap_or_else(|p| p.into_inner());
        while !*done {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            done = match self.cv.wait_timeout(done, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }
}

/// Everything the bridge's thread needs.
struct Job {
    ctx: Context,
    inproc_kind: SocketType,
    inproc_endpoint: String,
    inproc_side: Side,
    sndhwm: Option<usize>,
    rcvhwm: Option<usize>,
    subscribe_all: bool,
    plan: Plan,
    worker_threads: usize,
    counters: Arc<Counters>,
}

impl Job {
    fn run(
        self,
        ready: SyncSender<Result<String, BridgeError>>,
        stop: tokio::sync::oneshot::Receiver<()>,
    ) -> Result<(), BridgeError> {
        // Built here, on the bridge's own thread, so that it is never created or dropped
        // inside the caller's async context.
        let runtime = if self.worker_threads == 0 {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(self.worker_threads)
                .thread_name("inproc-bridge-worker")
                .enable_all()
                .build()
        };
        let runtime = match runtime {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready.send(Err(BridgeError::Runtime(e.to_string())));
                return Ok(());
            }
        };
        let mut bound = false;
        let result = runtime.block_on(async {
            let (watcher, inproc, net, endpoint) = match self.setup().await {
                Ok(parts) => parts,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return Ok(());
                }
            };
            bound = self.plan.net_side == Side::Bind;
            let _ = ready.send(Ok(endpoint));
            tokio::select! {
                biased;
                _ = stop => Ok(()),
                // Never receives (nothing can connect to it): completes with
                // `Terminated` when the context shuts down.
                _ = watcher.recv_async() => Ok(()),
                r = engine::run(&inproc, &self.plan, net, &self.counters) => r,
            }
        });
        // zmq.rs's tasks (accept loops, per-peer writers) go with the runtime; nothing
        // here waits for them.
        runtime.shutdown_background();
        if bound && let Some(path) = self.plan.net_endpoint.strip_prefix("ipc://") {
            // libzmq removes its ipc socket file on close; zmq.rs leaves it.
            let _ = std::fs::remove_file(path);
        }
        result
    }

    /// Creates and attaches the sockets; returns the shutdown watcher, the inproc
    /// socket, the first network socket and the network endpoint (resolved if bound).
    async fn setup(&self) -> Result<(Socket, Socket, NetSocket, String), BridgeError> {
        let watcher = self.ctx.socket(SocketType::Pull)?;
        let inproc = self.ctx.socket(self.inproc_kind)?;
        if let Some(h) = self.sndhwm {
            inproc.set_sndhwm(h)?;
        }
        if let Some(h) = self.rcvhwm {
            inproc.set_rcvhwm(h)?;
        }
        if self.subscribe_all {
            // Your PUB sends everything to the bridge; zmq.rs's PUB filters per
            // network subscriber.
            inproc.try_send(&[1u8][..]).map_err(|e| e.into_parts().0)?;
        }
        let mut net = NetSocket::new(self.plan.net_kind, self.plan.routing_id.as_ref())?;
        let endpoint = match self.plan.net_side {
            Side::Bind => {
                net.bind(&self.plan.net_endpoint)
                    .await
                    .map_err(|e| BridgeError::Net {
                        endpoint: self.plan.net_endpoint.clone(),
                        message: e.to_string(),
                    })?
            }
            Side::Connect => self.plan.net_endpoint.clone(),
        };
        match self.inproc_side {
            Side::Bind => inproc.bind(&self.inproc_endpoint)?,
            Side::Connect => inproc.connect(&self.inproc_endpoint)?,
        }
        Ok((watcher, inproc, net, endpoint))
    }
}

/// A running bridge. Stops on [`Bridge::stop`], on drop, or when its context is shut
/// down (then [`Bridge::join`] returns).
#[derive(Debug)]
pub struct Bridge {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), BridgeError>>>,
    done: Arc<Done>,
    counters: Arc<Counters>,
    kind: SocketType,
    inproc_endpoint: String,
    net_endpoint: String,
}

impl Bridge {
    /// Starts a bridge with the default options: see [`BridgeBuilder::new`] and
    /// [`BridgeBuilder::start`]. The bridge's inproc socket connects to
    /// `inproc_endpoint` (bind your socket there, before or after).
    ///
    /// # Errors
    /// As [`BridgeBuilder::start`].
    pub fn start(
        ctx: &Context,
        inproc_endpoint: &str,
        net_endpoint: &str,
        net_side: Side,
        kind: SocketType,
    ) -> Result<Bridge, BridgeError> {
        BridgeBuilder::new(kind, inproc_endpoint, net_endpoint, net_side).start(ctx)
    }

    /// A builder for a bridge with options ([`BridgeBuilder::new`]).
    pub fn builder(
        kind: SocketType,
        inproc_endpoint: impl Into<String>,
        net_endpoint: impl Into<String>,
        net_side: Side,
    ) -> BridgeBuilder {
        BridgeBuilder::new(kind, inproc_endpoint, net_endpoint, net_side)
    }

    /// The network endpoint: as bound (a `:0` port resolved, `*` as `0.0.0.0`), or as
    /// given for a connecting bridge.
    pub fn net_endpoint(&self) -> &str {
        &self.net_endpoint
    }

    /// The inproc endpoint.
    pub fn inproc_endpoint(&self) -> &str {
        &self.inproc_endpoint
    }

    /// The type of the inproc socket this bridge serves.
    pub fn kind(&self) -> SocketType {
        self.kind
    }

    /// Message and connection counts so far.
    pub fn stats(&self) -> BridgeStats {
        self.counters.snapshot()
    }

    /// Has the bridge stopped (context shut down, or a fatal error)?
    pub fn is_finished(&self) -> bool {
        self.done.wait(Duration::ZERO)
    }

    /// Waits up to `timeout` for the bridge to stop by itself; `true` if it has.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.done.wait(timeout)
    }

    /// Stops the bridge and waits for its thread: both sockets are closed when this
    /// returns. Messages inside the bridge (taken from one side, not yet accepted by
    /// the other, or queued in zmq.rs) are dropped.
    ///
    /// # Errors
    /// The error that had already stopped the bridge, if any; [`BridgeError::Panicked`].
    pub fn stop(mut self) -> Result<(), BridgeError> {
        self.finish(true)
    }

    /// Waits until the bridge stops by itself (its context is shut down).
    ///
    /// # Errors
    /// As [`Bridge::stop`].
    pub fn join(mut self) -> Result<(), BridgeError> {
        self.finish(false)
    }

    fn finish(&mut self, stop: bool) -> Result<(), BridgeError> {
        // Joining keeps the sender: dropping it would stop the bridge too.
        if stop && let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match self.thread.take() {
            Some(t) => t.join().unwrap_or(Err(BridgeError::Panicked)),
            None => Ok(()),
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.finish(true);
    }
}
