//! `proxy`: moves whole messages between two sockets until shutdown (`zmq_proxy`).

use crate::error::Error;
use crate::poller::{Interest, Poller};
use crate::socket::Socket;

/// Runs a proxy between `frontend` and `backend` on the calling thread, like
/// `zmq_proxy` without a capture socket: whatever `frontend` receives is sent on
/// `backend`, and whatever `backend` receives is sent on `frontend`, whole (every frame
/// of a message together), in the order each side received it. It waits on a
/// [`Poller`] when neither side is readable, and moves at most one message per side per
/// turn, so a busy direction does not starve the other. Sends block as in libzmq (each
/// socket's send timeout applies).
///
/// Typical pairs: ROUTER frontend and DEALER backend (a request/reply broker), XSUB
/// frontend and XPUB backend (a publish/subscribe forwarder: subscriptions travel up
/// from XPUB to XSUB, data down), PULL and PUSH (a streamer).
///
/// # Errors
/// It runs until the context of either socket is shut down and then returns
/// [`Error::Terminated`]: that is its normal way to stop, so it never returns `Ok`. Any
/// other error of a receive or send (for example [`Error::NotSupported`] when a socket
/// cannot send, or [`Error::HostUnreachable`] from a mandatory ROUTER) stops it too and
/// is returned; the message being moved is then dropped.
///
/// ```
/// # if inproc::sync::MODEL_BUILD { return Ok::<(), inproc::Error>(()) }
/// use inproc::{Context, Error, SocketType, proxy};
/// let ctx = Context::new();
/// let (front, back) = (ctx.socket(SocketType::Pull)?, ctx.socket(SocketType::Push)?);
/// front.bind("inproc://proxy-doc-in")?;
/// back.bind("inproc://proxy-doc-out")?;
/// let (src, dst) = (ctx.socket(SocketType::Push)?, ctx.socket(SocketType::Pull)?);
/// src.connect("inproc://proxy-doc-in")?;
/// dst.connect("inproc://proxy-doc-out")?;
/// std::thread::scope(|s| {
///     let p = s.spawn(|| proxy(&front, &back));
///     src.send("through the proxy").unwrap();
///     assert_eq!(dst.recv().unwrap(), "through the proxy".into());
///     ctx.shutdown();
///     assert_eq!(p.join().unwrap(), Err(Error::Terminated));
/// });
/// # Ok::<(), inproc::Error>(())
/// ```
pub fn proxy(frontend: &Socket, backend: &Socket) -> Result<(), Error> {
    let mut poller = Poller::new();
    let front = poller.add(frontend, Interest::READABLE);
    let back = poller.add(backend, Interest::READABLE);
    loop {
        let (mut front_ready, mut back_ready) = (false, false);
        for ev in poller.wait(None)? {
            front_ready |= ev.token == front && ev.readable;
            back_ready |= ev.token == back && ev.readable;
        }
        if front_ready {
            forward(frontend, backend)?;
        }
        if back_ready {
            forward(backend, frontend)?;
        }
    }
}

/// Moves one message from `from` (reported readable) to `to`.
fn forward(from: &Socket, to: &Socket) -> Result<(), Error> {
    match from.try_recv() {
        Ok(msg) => to.send(msg).map_err(Error::from),
        // Someone else received it first (the socket is shared): nothing to move.
        Err(Error::WouldBlock) => Ok(()),
        Err(e) => Err(e),
    }
}
