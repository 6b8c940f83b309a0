//! The forwarding loops, run on the bridge's runtime.
//!
//! Two directions: **up** (inproc → network: `recv_async` on the bridge's inproc socket,
//! then zmq.rs `send`) and **down** (network → inproc: zmq.rs `recv`, then inproc
//! `try_send`, or `send_async` when the inproc window is full). Each direction awaits
//! the next step before taking another message, so a full side stops the other from
//! reading: back-pressure, not buffering.
//!
//! A *session* is one zmq.rs socket. Bound, the bridge has one session for its whole
//! life and zmq.rs accepts peers as they come. Connected, zmq.rs 0.7 reconnects only
//! SUB/XSUB; for the other types the bridge watches the socket's monitor and, when its
//! one peer disconnects, ends the session and connects a fresh socket (zmq.rs retries a
//! refused connection with its own back-off, 50 ms doubling up to 30 s).
//!
//! A message a direction holds when its session ends (taken from one side, not yet
//! accepted by the other) is kept in a [`Carry`] and goes first in the next session, so
//! a reconnection loses only what zmq.rs had already queued toward the dead peer.
//!
//! Shutdown is not handled here: the caller races the whole future against the stop
//! signal and the context's shutdown, and drops it. Every await point is cancel-safe:
//! inproc's futures take nothing until they complete, zmq.rs's `recv` is cancel-safe,
//! and a message inside a pending zmq.rs `send` is also in the carry.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use inproc::{Error, Message, Socket};
use tokio::sync::watch;
use zeromq::prelude::*;
use zeromq::{SocketEvent, ZmqError, ZmqMessage};

use crate::net::{NetKind, NetSocket, from_zmq, to_zmq};
use crate::{BridgeError, BridgeStats, Side};

/// Counters behind [`crate::Bridge::stats`]. Relaxed everywhere: plain statistics.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    to_net: AtomicU64,
    from_net: AtomicU64,
    dropped: AtomicU64,
    connections: AtomicU64,
    disconnections: AtomicU64,
    net_errors: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn snapshot(&self) -> BridgeStats {
        BridgeStats {
            to_net: self.to_net.load(Ordering::Relaxed),
            from_net: self.from_net.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            connections: self.connections.load(Ordering::Relaxed),
            disconnections: self.disconnections.load(Ordering::Relaxed),
            net_errors: self.net_errors.load(Ordering::Relaxed),
        }
    }
}

/// What the engine needs to know about the network side.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) net_kind: NetKind,
    pub(crate) net_endpoint: String,
    pub(crate) net_side: Side,
    pub(crate) routing_id: Option<Bytes>,
}

/// Why a session ended.
enum End {
    /// The context was shut down: the bridge is done.
    Terminated,
    /// The connected peer went away: connect a fresh socket.
    PeerLost,
    /// An inproc error other than shutdown (a bug or a misuse): the bridge stops with it.
    Fatal(BridgeError),
}

/// Messages in flight between sessions (see the module docs).
#[derive(Default)]
struct Carry {
    up: Option<ZmqMessage>,
    down: Option<Message>,
}

/// What a failed zmq.rs send means for the message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// PUSH, DEALER: load-balanced. With no peer the message waits for one; a peer that
    /// died with it is skipped and the message goes to the next (or waits).
    Balance,
    /// ROUTER: addressed. No such peer (or it died): dropped, as libzmq's ROUTER does.
    Route,
    /// PUB: never blocks, never fails; anything else is dropped.
    Publish,
}

fn end_of(e: Error) -> End {
    match e {
        Error::Terminated => End::Terminated,
        e => End::Fatal(BridgeError::Inproc(e)),
    }
}

/// Runs the bridge until the context shuts down (or a fatal error). `first` is the
/// session-0 socket, already bound when the network side binds.
pub(crate) async fn run(
    inproc: &Socket,
    plan: &Plan,
    first: NetSocket,
    counters: &Counters,
) -> Result<(), BridgeError> {
    let mut carry = Carry::default();
    let mut next = Some(first);
    let reconnects = plan.net_side == Side::Connect && plan.net_kind.bridge_reconnects();
    loop {
        let mut net = match next.take() {
            Some(n) => n,
            None => NetSocket::new(plan.net_kind, plan.routing_id.as_ref())?,
        };
        let monitor = net.monitor();
        if plan.net_side == Side::Connect {
            connect(&mut net, &plan.net_endpoint, counters).await;
        }
        match session(inproc, net, monitor, reconnects, &mut carry, counters).await {
            End::PeerLost => continue,
            End::Terminated => return Ok(()),
            End::Fatal(e) => return Err(e),
        }
    }
}

/// Connects, retrying failed handshakes (an incompatible or misbehaving peer) with a
/// back-off of its own; refused connections are retried inside zmq.rs's `connect`.
async fn connect(net: &mut NetSocket, endpoint: &str, counters: &Counters) {
    let mut delay = Duration::from_millis(100);
    while net.connect(endpoint).await.is_err() {
        bump(&counters.net_errors);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

async fn session(
    inproc: &Socket,
    net: NetSocket,
    monitor: futures::channel::mpsc::Receiver<SocketEvent>,
    reconnects: bool,
    carry: &mut Carry,
    c: &Counters,
) -> End {
    let (peers_tx, peers_rx) = watch::channel(0u64);
    let watcher = watch_events(monitor, peers_tx, reconnects, c);
    let work = async {
        match net {
            NetSocket::Push(mut s) => {
                up(
                    inproc,
                    &mut s,
                    Policy::Balance,
                    reconnects,
                    peers_rx,
                    &mut carry.up,
                    c,
                )
                .await
            }
            NetSocket::Pub(mut s) => {
                up(
                    inproc,
                    &mut s,
                    Policy::Publish,
                    reconnects,
                    peers_rx,
                    &mut carry.up,
                    c,
                )
                .await
            }
            NetSocket::Pull(mut s) => down(inproc, &mut s, &mut carry.down, c).await,
            NetSocket::Dealer(s) => {
                let (mut tx, mut rx) = s.split();
                tokio::select! {
                    e = up(inproc, &mut tx, Policy::Balance, reconnects, peers_rx, &mut carry.up, c) => e,
                    e = down(inproc, &mut rx, &mut carry.down, c) => e,
                }
            }
            NetSocket::Router(s) => {
                let (mut tx, mut rx) = s.split();
                tokio::select! {
                    e = up(inproc, &mut tx, Policy::Route, reconnects, peers_rx, &mut carry.up, c) => e,
                    e = down(inproc, &mut rx, &mut carry.down, c) => e,
                }
            }
            NetSocket::XPub(mut s) => both(inproc, &mut s, c).await,
            NetSocket::XSub(mut s) => both(inproc, &mut s, c).await,
        }
    };
    tokio::select! {
        e = watcher => e,
        e = work => e,
    }
}

/// Counts connections (and tells `up` that a peer arrived); in reconnecting mode, ends
/// the session when the peer disconnects. Otherwise never ends.
async fn watch_events(
    mut monitor: futures::channel::mpsc::Receiver<SocketEvent>,
    peers: watch::Sender<u64>,
    reconnects: bool,
    c: &Counters,
) -> End {
    while let Some(ev) = monitor.next().await {
        match ev {
            SocketEvent::Connected(..) | SocketEvent::Accepted(..) => {
                bump(&c.connections);
                peers.send_modify(|n| *n += 1);
            }
            SocketEvent::Disconnected(_) => {
                bump(&c.disconnections);
                if reconnects {
                    return End::PeerLost;
                }
            }
            SocketEvent::AcceptFailed(_) => bump(&c.net_errors),
            _ => {}
        }
    }
    std::future::pending().await
}

/// inproc → network.
async fn up<S: SocketSend>(
    inproc: &Socket,
    net: &mut S,
    policy: Policy,
    keep: bool,
    mut peers: watch::Receiver<u64>,
    carry: &mut Option<ZmqMessage>,
    c: &Counters,
) -> End {
    loop {
        let msg = match carry.take() {
            Some(m) => m,
            None => match inproc.recv_async().await {
                Ok(m) => match to_zmq(m) {
                    Some(z) => z,
                    None => continue,
                },
                Err(e) => return end_of(e),
            },
        };
        // Anything that connects from now on wakes the wait below.
        peers.mark_unchanged();
        let keep = keep && policy == Policy::Balance;
        if keep {
            // Reconnecting: kept until zmq.rs took it, so that a send cancelled with its
            // session, or failed because its peer died, is retried in the next session
            // (frames are shared, not copied). Bound, sessions never end while the
            // bridge runs; there a message whose peer died under it is dropped (as the
            // rest of that peer's queue is).
            *carry = Some(msg.clone());
        }
        match net.send(msg).await {
            Ok(()) => {
                *carry = None;
                bump(&c.to_net);
            }
            Err(ZmqError::ReturnToSender { message, .. }) if policy == Policy::Balance => {
                // No peer: hold it until one connects (PUSH and DEALER block, they do
                // not drop). A closed channel cannot happen while the session runs.
                *carry = Some(message);
                if peers.changed().await.is_err() {
                    return std::future::pending().await;
                }
            }
            Err(_) if keep => {
                // The peer it was queued to died (zmq.rs removed it): the next attempt
                // waits for the session to reconnect; the carry still holds it.
                bump(&c.net_errors);
            }
            Err(_) => {
                // ROUTER without that peer, PUB, or (bound) a peer that died under it:
                // dropped.
                *carry = None;
                bump(&c.dropped);
            }
        }
    }
}

/// network → inproc.
async fn down<R: SocketRecv>(
    inproc: &Socket,
    net: &mut R,
    carry: &mut Option<Message>,
    c: &Counters,
) -> End {
    loop {
        if let Some(m) = carry.take()
            && let Err(end) = deliver(inproc, m, carry).await
        {
            return end;
        }
        match net.recv().await {
            Ok(m) => {
                bump(&c.from_net);
                *carry = Some(from_zmq(m));
            }
            // A peer's stream failed (zmq.rs dropped that peer); the others go on.
            Err(_) => bump(&c.net_errors),
        }
    }
}

/// Both directions on a socket zmq.rs cannot split (XPUB, XSUB): one step at a time.
async fn both<N: SocketSend + SocketRecv>(inproc: &Socket, net: &mut N, c: &Counters) -> End {
    enum Ev {
        Up(Result<Message, Error>),
        Down(zeromq::ZmqResult<ZmqMessage>),
    }
    loop {
        let ev = tokio::select! {
            r = inproc.recv_async() => Ev::Up(r),
            r = net.recv() => Ev::Down(r),
        };
        match ev {
            Ev::Up(Ok(m)) => {
                if let Some(z) = to_zmq(m) {
                    match net.send(z).await {
                        Ok(()) => bump(&c.to_net),
                        Err(_) => {
                            bump(&c.net_errors);
                            bump(&c.dropped);
                        }
                    }
                }
            }
            Ev::Up(Err(e)) => return end_of(e),
            Ev::Down(Ok(m)) => {
                bump(&c.from_net);
                let mut slot = None;
                if let Err(end) = deliver(inproc, from_zmq(m), &mut slot).await {
                    return end;
                }
            }
            Ev::Down(Err(_)) => bump(&c.net_errors),
        }
    }
}

/// Hands `msg` to the bridge's inproc socket: at once if the window has room, else
/// waiting for room (the back-pressure into the network). While it waits, `carry`
/// holds a copy (frames shared), so a cancelled wait loses nothing.
async fn deliver(inproc: &Socket, msg: Message, carry: &mut Option<Message>) -> Result<(), End> {
    match inproc.try_send(msg) {
        Ok(()) => Ok(()),
        Err(e) if *e.error() == Error::WouldBlock => {
            let msg = e.into_message();
            *carry = Some(msg.clone());
            let r = inproc.send_async(msg).await;
            *carry = None;
            r.map_err(|e| end_of(e.into_parts().0))
        }
        Err(e) => Err(end_of(e.into_parts().0)),
    }
}
