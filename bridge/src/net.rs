//! The network side: zmq.rs sockets behind one enum, endpoint checks, and the message
//! conversions between inproc's `Message` and zmq.rs's `ZmqMessage`.

use std::collections::VecDeque;
use std::str::FromStr;

use bytes::Bytes;
use inproc::Message;
use zeromq::prelude::*;
use zeromq::{
    DealerSocket, PubSocket, PullSocket, PushSocket, RouterSocket, SocketEvent, SocketOptions,
    XPubSocket, XSubSocket, ZmqMessage, ZmqResult,
};

use crate::{BridgeError, Side};

/// The zmq.rs socket types the bridge uses on the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NetKind {
    Push,
    Pull,
    Pub,
    XPub,
    XSub,
    Dealer,
    Router,
}

impl NetKind {
    /// The same type in inproc's vocabulary (for [`crate::Mapping`]).
    pub(crate) fn as_socket_type(self) -> inproc::SocketType {
        use inproc::SocketType as T;
        match self {
            NetKind::Push => T::Push,
            NetKind::Pull => T::Pull,
            NetKind::Pub => T::Pub,
            NetKind::XPub => T::XPub,
            NetKind::XSub => T::XSub,
            NetKind::Dealer => T::Dealer,
            NetKind::Router => T::Router,
        }
    }

    /// Does the bridge replace a lost connection itself (a new socket, connected again)?
    /// zmq.rs 0.7 reconnects SUB/XSUB on its own and nothing else; XPUB reports no
    /// disconnections to its monitor, so the bridge cannot see them (README "Limits").
    pub(crate) fn bridge_reconnects(self) -> bool {
        !matches!(self, NetKind::XSub | NetKind::XPub)
    }
}

/// One zmq.rs socket of any of the types the bridge uses.
pub(crate) enum NetSocket {
    Push(PushSocket),
    Pull(PullSocket),
    Pub(PubSocket),
    XPub(XPubSocket),
    XSub(XSubSocket),
    Dealer(DealerSocket),
    Router(RouterSocket),
}

macro_rules! each {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            NetSocket::Push($s) => $body,
            NetSocket::Pull($s) => $body,
            NetSocket::Pub($s) => $body,
            NetSocket::XPub($s) => $body,
            NetSocket::XSub($s) => $body,
            NetSocket::Dealer($s) => $body,
            NetSocket::Router($s) => $body,
        }
    };
}

impl NetSocket {
    /// A new socket. Must run inside the bridge's tokio runtime (zmq.rs's PUB spawns
    /// its fan-out task at construction).
    pub(crate) fn new(kind: NetKind, routing_id: Option<&Bytes>) -> Result<Self, BridgeError> {
        let mut options = SocketOptions::default();
        // Connecting retries (with zmq.rs's back-off) until the bridge stops.
        options.no_connect_timeout();
        if let Some(id) = routing_id {
            let id = zeromq::util::PeerIdentity::try_from(id.clone()).map_err(|_| {
                BridgeError::InvalidArgument("the network routing id must be 1 to 255 bytes")
            })?;
            options.peer_identity(id);
        }
        Ok(match kind {
            NetKind::Push => NetSocket::Push(PushSocket::with_options(options)),
            NetKind::Pull => NetSocket::Pull(PullSocket::with_options(options)),
            NetKind::Pub => NetSocket::Pub(PubSocket::with_options(options)),
            NetKind::XPub => NetSocket::XPub(XPubSocket::with_options(options)),
            NetKind::XSub => NetSocket::XSub(XSubSocket::with_options(options)),
            NetKind::Dealer => NetSocket::Dealer(DealerSocket::with_options(options)),
            NetKind::Router => NetSocket::Router(RouterSocket::with_options(options)),
        })
    }

    /// Binds; returns the endpoint actually bound (port 0 resolved).
    pub(crate) async fn bind(&mut self, endpoint: &str) -> ZmqResult<String> {
        let ep = each!(self, s => s.bind(endpoint).await)?;
        Ok(ep.to_string())
    }

    /// Connects, waiting (retrying refused connections) until the peer answers.
    pub(crate) async fn connect(&mut self, endpoint: &str) -> ZmqResult<()> {
        each!(self, s => s.connect(endpoint).await)
    }

    /// A fresh monitor channel (replaces any earlier one).
    pub(crate) fn monitor(&mut self) -> futures::channel::mpsc::Receiver<SocketEvent> {
        each!(self, s => s.monitor())
    }
}

/// Checks a network endpoint and returns it as zmq.rs should see it: `tcp://host:port`
/// or `ipc://path`. `tcp://*:port` (libzmq's "all interfaces") becomes
/// `tcp://0.0.0.0:port` for a bind.
pub(crate) fn check_endpoint(endpoint: &str, side: Side) -> Result<String, BridgeError> {
    let bad = |reason: &str| BridgeError::InvalidEndpoint {
        endpoint: endpoint.to_string(),
        reason: reason.to_string(),
    };
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return Err(bad("expected transport://address"));
    };
    match scheme {
        "tcp" => {
            let Some((host, port)) = rest.rsplit_once(':') else {
                return Err(bad("expected tcp://host:port"));
            };
            let port: u16 = port
                .parse()
                .map_err(|_| bad("the port must be a number from 0 to 65535"))?;
            if host.is_empty() {
                return Err(bad("empty host"));
            }
            let host = match (host, side) {
                ("*", Side::Bind) => "0.0.0.0",
                ("*", Side::Connect) => return Err(bad("cannot connect to `*`")),
                (h, _) => h,
            };
            if port == 0 && side == Side::Connect {
                return Err(bad("cannot connect to port 0"));
            }
            let normal = format!("tcp://{host}:{port}");
            zeromq::Endpoint::from_str(&normal).map_err(|e| bad(&e.to_string()))?;
            Ok(normal)
        }
        "ipc" => {
            if rest.is_empty() {
                return Err(bad("empty ipc path"));
            }
            if rest == "*" {
                // zmq.rs 0.7 has no wildcard ipc bind (it would panic: `todo!`).
                return Err(bad("wildcard ipc paths are not supported by zmq.rs"));
            }
            if rest.contains('\0') {
                return Err(bad("NUL in the ipc path"));
            }
            zeromq::Endpoint::from_str(endpoint).map_err(|e| bad(&e.to_string()))?;
            Ok(endpoint.to_string())
        }
        "inproc" => Err(BridgeError::UnsupportedTransport(format!(
            "{endpoint}: the network side takes tcp:// or ipc://; inproc names go to the \
             inproc side"
        ))),
        other => Err(BridgeError::UnsupportedTransport(format!(
            "{other}:// (zmq.rs 0.7 has tcp:// and ipc://)"
        ))),
    }
}

/// inproc → zmq.rs. `None` only for a message without frames, which inproc never makes.
pub(crate) fn to_zmq(msg: Message) -> Option<ZmqMessage> {
    let frames: VecDeque<Bytes> = msg.into_iter().map(Bytes::from).collect();
    ZmqMessage::try_from(frames).ok()
}

/// zmq.rs → inproc, without copying frames (each `Bytes` is taken over).
pub(crate) fn from_zmq(msg: ZmqMessage) -> Message {
    Message::from_frames(msg.into_vecdeque())
}
