//! `Stream` and `Sink` over an owned or shared socket (cargo feature `futures`):
//! [`RecvStream`] yields received messages, [`SendSink`] takes messages to send.
//!
//! Both hold their socket by value, through any `S: Borrow<Socket>`: a [`Socket`]
//! itself ([`Socket::into_stream`], [`Socket::into_sink`]), an `Arc<Socket>` (to share
//! one socket between a stream, a sink and other handles) or a `&Socket`. With an owned
//! socket or an `Arc`, they are `'static + Send + Sync + Unpin`, so a task that owns one
//! can be handed to `tokio::spawn` or any other executor; the futures of
//! [`Socket::recv_async`] / [`Socket::send_async`] borrow their socket instead.
//!
//! They are shells over the same non-blocking steps as those futures
//! (`Socket::poll_recv_with` / `Socket::poll_send_with`, `src/future.rs`): one attempt,
//! and if it must wait, the task's waker registered as a watcher of the socket's event
//! count and the count re-checked, so no wake-up is lost (SPEC A-3). The watcher is
//! removed when the operation that waited completes and when the stream or sink drops.
//!
//! Only the traits of `futures-core` and `futures-sink` are used: no runtime, no
//! `futures-util`. The rules are SPEC A-9 to A-14.

use std::borrow::Borrow;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_core::stream::{FusedStream, Stream};
use futures_sink::Sink;

use crate::error::{Error, SendError};
use crate::msg::Message;
use crate::socket::Socket;

/// A watcher registration on a socket's event count, as the futures keep one.
#[derive(Debug, Default)]
struct Watch {
    /// Our watcher id, taken from the socket on the first poll.
    id: Option<u64>,
    /// An operation returned `Pending`, so our waker is (or may be) registered.
    waiting: bool,
}

impl Watch {
    /// Our watcher id.
    fn id(&mut self, socket: &Socket) -> u64 {
        *self.id.get_or_insert_with(|| socket.new_watch_id())
    }

    /// The operation that waited completed: remove the watcher, so that the task is
    /// not woken by events it no longer waits for. (A step that registered and then
    /// found the event count moved completes without `Pending`; its registration stays
    /// until the next wait ends or the owner drops: at most a spurious wake-up.)
    fn done(&mut self, socket: &Socket) {
        if std::mem::take(&mut self.waiting) {
            if let Some(id) = self.id {
                socket.unwatch(id);
            }
        }
    }

    /// The owner drops: remove whatever we may have registered.
    fn release(&mut self, socket: &Socket) {
        if crate::sync::model_unwinding() {
            // A failed model unwinds: leave the watcher registered (`sync::unwind`).
            return;
        }
        if let Some(id) = self.id.take() {
            socket.unwatch(id);
        }
    }
}

impl Socket {
    /// Turns this socket into a [`Stream`] of received messages (feature `futures`);
    /// see [`RecvStream`]. For a socket shared with other handles (a PAIR that also
    /// sends), use `RecvStream::new(Arc::clone(&socket))`.
    pub fn into_stream(self) -> RecvStream<Socket> {
        RecvStream::new(self)
    }

    /// Turns this socket into a [`Sink`] of messages to send (feature `futures`); see
    /// [`SendSink`]. For a socket shared with other handles, use
    /// `SendSink::new(Arc::clone(&socket))`.
    pub fn into_sink(self) -> SendSink<Socket> {
        SendSink::new(self)
    }
}

/// The messages a socket receives, as a [`Stream`] (feature `futures`).
///
/// Each item is what [`Socket::recv_async`] would complete with: `Ok(message)`, or an
/// error other than [`Error::Terminated`] ([`Error::NotSupported`] for a PUSH or PUB,
/// [`Error::InvalidState`] for a REQ or REP out of turn, [`Error::HostUnreachable`] for a
/// refused PAIR). Such an error does not end the stream: the next poll tries again.
///
/// - **End**: the stream ends (`None`) when the socket's context is shut down
///   ([`crate::Context::shutdown`] or [`crate::Context::terminate`]), also while it waits,
///   and stays ended: it is a [`FusedStream`]. Messages still queued then are not
///   yielded, as every call after shutdown fails (SPEC K-2).
/// - **Timeouts**: the socket's receive timeout ([`Socket::set_recv_timeout`]) does not
///   apply; the stream waits as long as it takes. Wrap `next()` in your runtime's
///   timeout (dropping it loses nothing).
/// - **Cancellation**: nothing is taken from the socket until `poll_next` returns an
///   item, so dropping a pending `next()` future, or the stream, loses no message: the
///   next receive gets it.
/// - **Order**: the socket's (per connection, in order; fair-queued across connections).
///
/// `'static + Send + Sync + Unpin` when `S` is (an owned [`Socket`], an
/// `Arc<Socket>`), so a task that owns it can be spawned on a multi-threaded runtime.
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
/// use std::future::poll_fn;
/// use std::pin::Pin;
///
/// use futures_core::Stream;
/// use inproc::{Context, SocketType};
///
/// let ctx = Context::new();
/// let pull = ctx.socket(SocketType::Pull).unwrap();
/// pull.bind("inproc://stream-doc").unwrap();
/// let push = ctx.socket(SocketType::Push).unwrap();
/// push.connect("inproc://stream-doc").unwrap();
/// for i in 0..3 {
///     push.send(format!("job {i}")).unwrap();
/// }
/// // Owned by the stream: `'static`, so it could move into a spawned task.
/// let mut jobs = pull.into_stream();
/// let stop = ctx.clone();
/// let got = block_on(async move {
///     let mut got = Vec::new();
///     // `StreamExt::next` without futures-util:
///     while let Some(msg) = poll_fn(|cx| Pin::new(&mut jobs).poll_next(cx)).await {
///         got.push(msg.unwrap());
///         if got.len() == 3 {
///             stop.shutdown(); // ends the stream
///         }
///     }
///     got
/// });
/// assert_eq!(got, ["job 0", "job 1", "job 2"].map(Into::into));
/// ```
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct RecvStream<S: Borrow<Socket>> {
    socket: S,
    watch: Watch,
    /// The context was shut down: the stream has ended.
    ended: bool,
}

impl<S: Borrow<Socket>> RecvStream<S> {
    /// A stream of the messages `socket` receives: an owned [`Socket`], an
    /// `Arc<Socket>`, or a `&Socket`.
    pub fn new(socket: S) -> Self {
        RecvStream {
            socket,
            watch: Watch::default(),
            ended: false,
        }
    }

    /// The socket (for its options, [`Socket::stats`], subscriptions, ...).
    pub fn get_ref(&self) -> &Socket {
        self.socket.borrow()
    }
}

impl<S: Borrow<Socket> + Unpin> Stream for RecvStream<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        let socket = this.socket.borrow();
        let id = this.watch.id(socket);
        let Poll::Ready(result) = socket.poll_recv_with(id, cx.waker()) else {
            this.watch.waiting = true;
            return Poll::Pending;
        };
        this.watch.done(socket);
        match result {
            Err(Error::Terminated) => {
                this.ended = true;
                this.watch.release(socket);
                Poll::Ready(None)
            }
            other => Poll::Ready(Some(other)),
        }
    }
}

impl<S: Borrow<Socket> + Unpin> FusedStream for RecvStream<S> {
    fn is_terminated(&self) -> bool {
        self.ended
    }
}

impl<S: Borrow<Socket>> Drop for RecvStream<S> {
    fn drop(&mut self) {
        self.watch.release(self.socket.borrow());
    }
}

/// A socket's sends, as a [`Sink`] of [`Message`]s (feature `futures`).
///
/// `start_send` makes one non-blocking send attempt ([`Socket::try_send`]). If the
/// socket cannot take the message now (every window full, no peer yet), the sink keeps
/// it in its one slot and reports ready again only once that message has gone:
/// `poll_ready`, `poll_flush` and `poll_close` send the slot's message, waiting (the
/// task's waker registered, no thread blocked) until the socket has room. So the sink
/// follows the high-water marks: at most one message beyond the socket's windows, and
/// none is lost or reordered.
///
/// - **Errors** are [`SendError`]s, which give the message back: `start_send` returns
///   the error of its attempt at once ([`Error::Terminated`], [`Error::NotSupported`],
///   [`Error::InvalidState`], [`Error::HostUnreachable`], as [`Socket::send`]), and
///   [`Error::WouldBlock`] if called while the slot is full (without `poll_ready`
///   returning `Ready` first). A slot message that fails later (the context shut down
///   while it waited) comes back in the error of `poll_ready`, `poll_flush` or
///   `poll_close`.
/// - **Timeouts**: the socket's send timeout ([`Socket::set_send_timeout`]) does not
///   apply: `start_send` never waits, and the polls wait as long as it takes. Wrap them
///   in your runtime's timeout; dropping such a future leaves the message in the slot.
/// - **Flush and close**: a message is flushed once the socket took it (it is queued
///   to a peer). `poll_close` flushes; the socket itself closes when the sink and every
///   other handle of it are dropped.
/// - **Drop**: a sink dropped with a message in its slot makes one last non-blocking
///   attempt to send it; if the socket still cannot take it, the message is dropped
///   with the sink, and not counted in [`Socket::stats`] (the socket never accepted it),
///   as for a dropped [`Socket::send_async`] future. Flush before dropping, or take the
///   message back with [`SendSink::take_buffered`].
///
/// `'static + Send + Sync + Unpin` when `S` is (an owned [`Socket`], an
/// `Arc<Socket>`).
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
/// use std::future::poll_fn;
/// use std::pin::Pin;
///
/// use futures_sink::Sink;
/// use inproc::{Context, Message, SendError, SendSink, Socket, SocketType};
///
/// /// `SinkExt::send` without futures-util: wait for room, hand over, flush.
/// async fn send(sink: &mut SendSink<Socket>, msg: Message) -> Result<(), SendError> {
///     poll_fn(|cx| Pin::new(&mut *sink).poll_ready(cx)).await?;
///     Pin::new(&mut *sink).start_send(msg)?;
///     poll_fn(|cx| Pin::new(&mut *sink).poll_flush(cx)).await
/// }
///
/// let ctx = Context::new();
/// let pull = ctx.socket(SocketType::Pull).unwrap();
/// pull.set_rcvhwm(1).unwrap();
/// pull.bind("inproc://sink-doc").unwrap();
/// let push = ctx.socket(SocketType::Push).unwrap();
/// push.set_sndhwm(1).unwrap();
/// push.connect("inproc://sink-doc").unwrap();
/// let mut sink = push.into_sink(); // owned: `'static`
/// std::thread::scope(|s| {
///     // A window of 2: the third send waits until the reader makes room.
///     s.spawn(|| {
///         block_on(async {
///             for i in 0..5 {
///                 send(&mut sink, format!("job {i}").into()).await.unwrap();
///             }
///         })
///     });
///     for i in 0..5 {
///         assert_eq!(pull.recv().unwrap(), format!("job {i}").into());
///     }
/// });
/// ```
#[derive(Debug)]
#[must_use = "sinks do nothing unless polled"]
pub struct SendSink<S: Borrow<Socket>> {
    socket: S,
    /// The message `start_send` accepted that the socket could not take yet; sent by the
    /// next `poll_ready`, `poll_flush` or `poll_close`.
    slot: Option<Message>,
    watch: Watch,
}

impl<S: Borrow<Socket>> SendSink<S> {
    /// A sink that sends on `socket`: an owned [`Socket`], an `Arc<Socket>`, or a
    /// `&Socket`.
    pub fn new(socket: S) -> Self {
        SendSink {
            socket,
            slot: None,
            watch: Watch::default(),
        }
    }

    /// The socket (for its options, [`Socket::stats`], ...).
    pub fn get_ref(&self) -> &Socket {
        self.socket.borrow()
    }

    /// Takes back the message the sink accepted but the socket could not take yet (at
    /// most one), if any: it will not be sent. Use it before dropping a sink that may
    /// hold one, instead of flushing.
    pub fn take_buffered(&mut self) -> Option<Message> {
        self.slot.take()
    }

    /// Sends the slot's message, if any, waiting for room.
    fn poll_slot(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        if self.slot.is_none() {
            return Poll::Ready(Ok(()));
        }
        let socket = self.socket.borrow();
        let id = self.watch.id(socket);
        let Poll::Ready(result) = socket.poll_send_with(id, cx.waker(), &mut self.slot) else {
            self.watch.waiting = true;
            return Poll::Pending;
        };
        self.watch.done(socket);
        Poll::Ready(result.map_err(|e| {
            // The step leaves the message in the slot on every error: give it back.
            SendError::new(e, self.slot.take().unwrap_or_default())
        }))
    }
}

impl<S: Borrow<Socket> + Unpin> Sink<Message> for SendSink<S> {
    type Error = SendError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        self.get_mut().poll_slot(cx)
    }

    fn start_send(self: Pin<&mut Self>, msg: Message) -> Result<(), SendError> {
        let this = self.get_mut();
        if this.slot.is_some() {
            // `poll_ready` did not return `Ready` first: refuse rather than reorder or
            // drop.
            return Err(SendError::new(Error::WouldBlock, msg));
        }
        match this.socket.borrow().try_send(msg) {
            Ok(()) => Ok(()),
            Err(e) if *e.error() == Error::WouldBlock => {
                this.slot = Some(e.into_message());
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        self.get_mut().poll_slot(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        self.get_mut().poll_slot(cx)
    }
}

impl<S: Borrow<Socket>> Drop for SendSink<S> {
    fn drop(&mut self) {
        let socket = self.socket.borrow();
        if crate::sync::model_unwinding() {
            // A failed model unwinds: no socket call (`sync::unwind`).
            return;
        }
        if let Some(msg) = self.slot.take() {
            // One last attempt; if it fails the message goes with the sink.
            let _ = socket.try_send(msg);
        }
        self.watch.release(socket);
    }
}
