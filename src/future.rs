//! Async send and receive: `Socket::send_async` and `Socket::recv_async`, runtime-agnostic
//! futures over the socket's event count.
//!
//! Each future is a thin shell over one non-blocking step, `Socket::poll_send_with` /
//! `Socket::poll_recv_with` (`Socket::poll_op` in `socket/mod.rs`): read the event
//! count's key, attempt the operation, and if it must wait, register `cx.waker()` as a
//! watcher of the socket's [`Notify`](crate::wait::Notify) and re-check the key. This is
//! the blocking wait protocol of `src/wait.rs` with "park" replaced by "return
//! `Pending`": a wake that comes after the key was read either moves the key (so the
//! re-check retries at once) or finds the watcher registered (so the waker fires). Every
//! event that can make a socket readable or writable, shutdown included, already ends in
//! `Notify::wake`, which wakes the watchers.
//!
//! A future takes a watch id (one `fetch_add` on the context's id counter) on its first
//! poll, and removes its watcher when it completes and when it is dropped, so a socket
//! never keeps wakers of futures that are gone. The design follows tokio's and
//! async-io's "register then re-check" readiness futures; only `std::task::Waker` is
//! used, so the futures run on any executor and the crate depends on no runtime.
//!
//! **Cancellation.** Nothing is taken from the socket until the future returns `Ready`:
//! dropping a pending `RecvFuture` loses no message (the next receive gets it), and a
//! pending `SendFuture` still holds its whole message (a message is sent whole or not
//! at all; dropping the future drops the unsent message).
//!
//! **No feature flag.** Async costs nothing when unused: the watcher list of a socket's
//! `Notify` is only locked when a watcher is (or was just) registered, signalled by a
//! bit in the same word as the sequence number, so a socket nobody awaits pays one
//! extra bit test per wake. The methods are therefore always compiled, not behind a
//! cargo feature.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use crate::error::{Error, SendError};
use crate::msg::Message;
use crate::socket::Socket;

impl Socket {
    /// Sends `msg` asynchronously: the returned future completes when the whole message
    /// has been queued to a peer, waiting (without blocking a thread) while no peer can
    /// take it, as [`Socket::send`] with no timeout would.
    ///
    /// The future runs on any executor. Dropping it before it completes sends nothing
    /// (the message is dropped with it). The socket's send timeout does not apply; wrap
    /// the future in your runtime's timeout instead.
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return }
    /// # use std::future::Future;
    /// # use std::sync::Arc;
    /// # use std::task::{Context as Cx, Poll, Wake, Waker};
    /// # struct Unpark(std::thread::Thread);
    /// # impl Wake for Unpark { fn wake(self: Arc<Self>) { self.0.unpark() } }
    /// # fn block_on<F: Future>(fut: F) -> F::Output {
    /// #     let mut fut = std::pin::pin!(fut);
    /// #     let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    /// #     loop {
    /// #         if let Poll::Ready(v) = fut.as_mut().poll(&mut Cx::from_waker(&waker)) {
    /// #             return v;
    /// #         }
    /// #         std::thread::park();
    /// #     }
    /// # }
    /// use inproc::{Context, SocketType};
    /// let ctx = Context::new();
    /// let pull = ctx.socket(SocketType::Pull).unwrap();
    /// pull.bind("inproc://async-send").unwrap();
    /// let push = ctx.socket(SocketType::Push).unwrap();
    /// push.connect("inproc://async-send").unwrap();
    /// block_on(push.send_async("hello")).unwrap();
    /// assert_eq!(pull.recv().unwrap(), "hello".into());
    /// ```
    ///
    /// # Errors
    /// The future's [`SendError`] gives the message back with [`Error::Terminated`] (the
    /// context was shut down, also while waiting), [`Error::NotSupported`] (PULL, SUB),
    /// [`Error::InvalidState`] (REQ/REP out of turn) or [`Error::HostUnreachable`] (a
    /// refused PAIR), as [`Socket::send`].
    pub fn send_async(&self, msg: impl Into<Message>) -> SendFuture<'_> {
        SendFuture {
            socket: self,
            msg: Some(msg.into()),
            watch: None,
        }
    }

    /// Receives a message asynchronously: the returned future completes with the next
    /// message, waiting (without blocking a thread) while none is queued, as
    /// [`Socket::recv`] with no timeout would.
    ///
    /// The future runs on any executor: the example below drives it with a fifteen-line
    /// `block_on` built on [`std::thread::park`]. Dropping it before it completes loses
    /// nothing: no message is taken from the socket until the future returns `Ready`.
    /// The socket's receive timeout does not apply; wrap the future in your runtime's
    /// timeout instead.
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return }
    /// use std::future::Future;
    /// use std::sync::Arc;
    /// use std::task::{Context as Cx, Poll, Wake, Waker};
    ///
    /// use inproc::{Context, SocketType};
    ///
    /// /// Wakes the thread that runs `block_on`.
    /// struct Unpark(std::thread::Thread);
    /// impl Wake for Unpark {
    ///     fn wake(self: Arc<Self>) {
    ///         self.0.unpark()
    ///     }
    /// }
    ///
    /// /// A minimal executor: poll, and park the thread until woken.
    /// fn block_on<F: Future>(fut: F) -> F::Output {
    ///     let mut fut = std::pin::pin!(fut);
    ///     let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    ///     loop {
    ///         if let Poll::Ready(v) = fut.as_mut().poll(&mut Cx::from_waker(&waker)) {
    ///             return v;
    ///         }
    ///         std::thread::park();
    ///     }
    /// }
    ///
    /// let ctx = Context::new();
    /// let pull = ctx.socket(SocketType::Pull).unwrap();
    /// pull.bind("inproc://async-recv").unwrap();
    /// let push = ctx.socket(SocketType::Push).unwrap();
    /// push.connect("inproc://async-recv").unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| push.send("later").unwrap());
    ///     assert_eq!(block_on(pull.recv_async()).unwrap(), "later".into());
    /// });
    /// ```
    ///
    /// # Errors
    /// The future fails with [`Error::Terminated`] (the context was shut down, also
    /// while waiting), [`Error::NotSupported`] (PUSH, PUB), [`Error::InvalidState`]
    /// (REQ/REP out of turn) or [`Error::HostUnreachable`] (a refused PAIR), as
    /// [`Socket::recv`].
    pub fn recv_async(&self) -> RecvFuture<'_> {
        RecvFuture {
            socket: self,
            watch: None,
            done: false,
        }
    }
}

/// The future returned by [`Socket::send_async`].
///
/// `Send` (it borrows a `Sync` socket and owns the message) and `Unpin`. Completes with
/// `Ok(())` once the whole message is queued, or with a [`SendError`] that gives the
/// message back.
///
/// # Panics
/// Polling it again after it completed panics.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<'a> {
    socket: &'a Socket,
    /// The message, until it is sent (`None` afterwards: the future completed).
    msg: Option<Message>,
    /// Our watcher id on the socket's `Notify`, taken on the first poll and released on
    /// completion or drop.
    watch: Option<u64>,
}

/// The future returned by [`Socket::recv_async`].
///
/// `Send` (it borrows a `Sync` socket) and `Unpin`. Completes with the next message or
/// an [`Error`].
///
/// # Panics
/// Polling it again after it completed panics.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct RecvFuture<'a> {
    socket: &'a Socket,
    /// Our watcher id on the socket's `Notify`, as in [`SendFuture`].
    watch: Option<u64>,
    /// The future returned `Ready`.
    done: bool,
}

/// Our watcher id, taken from the socket on first use.
fn watch_id(socket: &Socket, watch: &mut Option<u64>) -> u64 {
    *watch.get_or_insert_with(|| socket.new_watch_id())
}

/// Removes our watcher, if we registered one.
fn release(socket: &Socket, watch: &mut Option<u64>) {
    if let Some(id) = watch.take() {
        socket.unwatch(id);
    }
}

impl Future for SendFuture<'_> {
    type Output = Result<(), SendError>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(this.msg.is_some(), "`SendFuture` polled after completion");
        let id = watch_id(this.socket, &mut this.watch);
        let result = match this.socket.poll_send_with(id, cx.waker(), &mut this.msg) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(())) => Ok(()),
            Poll::Ready(Err(e)) => {
                // The step leaves the message in the slot on every error.
                Err(SendError::new(e, this.msg.take().unwrap_or_default()))
            }
        };
        this.msg = None;
        release(this.socket, &mut this.watch);
        Poll::Ready(result)
    }
}

impl Future for RecvFuture<'_> {
    type Output = Result<Message, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.done, "`RecvFuture` polled after completion");
        let id = watch_id(this.socket, &mut this.watch);
        let result = std::task::ready!(this.socket.poll_recv_with(id, cx.waker()));
        this.done = true;
        release(this.socket, &mut this.watch);
        Poll::Ready(result)
    }
}

impl Drop for SendFuture<'_> {
    fn drop(&mut self) {
        if crate::sync::model_unwinding() {
            // A failed model unwinds: leave the watcher registered (`sync::unwind`).
            return;
        }
        release(self.socket, &mut self.watch);
    }
}

impl Drop for RecvFuture<'_> {
    fn drop(&mut self) {
        if crate::sync::model_unwinding() {
            // A failed model unwinds: leave the watcher registered (`sync::unwind`).
            return;
        }
        release(self.socket, &mut self.watch);
    }
}
