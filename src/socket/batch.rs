//! Batches: many whole messages per call, with one publication per pipe and at most one
//! wake-up per reader (SPEC 5g, B-rules).
//!
//! A send batch runs the pattern's ordinary send for each message (routing, filtering,
//! HWM and every rule of the type apply message by message), but the pipes only *push*
//! what they are given; when the attempt ends, each pipe that took messages publishes
//! them with one compare-and-swap and wakes its reader at most once (ypipe's
//! `write(incomplete)` then `flush`). A receive batch takes up to `max` queued messages in
//! one entry into the socket; a pipe's reader claims everything published with one
//! compare-and-swap and reads the rest without touching a shared word.

use std::fmt;

use super::{Attempt, Deadline, SendBlock, Socket, decode_timeout};
use crate::error::{Error, SendError};
use crate::msg::Message;
use crate::sync::atomic::Ordering;

/// A batch send that stopped early: how many messages went out before it stopped, why,
/// and the message that was not sent. Messages after it were not taken from the
/// iterator (pass `iter.by_ref()` to keep them).
///
/// ```
/// # if inproc::sync::MODEL_BUILD { return Ok(()); }
/// use inproc::{Context, Error, SocketType};
/// let ctx = Context::new();
/// let push = ctx.socket(SocketType::Push)?;
/// push.set_sndhwm(2)?;
/// push.connect("inproc://batch-doc")?; // pending: a window of SNDHWM = 2
/// let mut msgs = ["a", "b", "c", "d"].into_iter();
/// let err = push.try_send_batch(msgs.by_ref()).unwrap_err();
/// assert_eq!(err.sent(), 2);
/// assert_eq!(err.error(), &Error::WouldBlock);
/// assert_eq!(err.into_message(), "c".into());
/// assert_eq!(msgs.next(), Some("d")); // never taken
/// # Ok::<(), inproc::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSendError {
    sent: usize,
    failed: SendError,
}

impl BatchSendError {
    /// Messages sent before the batch stopped.
    pub fn sent(&self) -> usize {
        self.sent
    }

    /// Why it stopped.
    pub fn error(&self) -> &Error {
        self.failed.error()
    }

    /// The message that was not sent.
    pub fn message(&self) -> &Message {
        self.failed.message()
    }

    /// Takes the message back.
    pub fn into_message(self) -> Message {
        self.failed.into_message()
    }

    /// The failure as a plain [`SendError`] (the error and the message).
    pub fn into_send_error(self) -> SendError {
        self.failed
    }
}

impl fmt::Display for BatchSendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "batch send stopped after {} message(s): {}",
            self.sent,
            self.failed.error()
        )
    }
}

impl std::error::Error for BatchSendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.failed.error())
    }
}

impl Socket {
    /// Sends every message of `msgs`, in order, as [`Socket::send`] would send each one
    /// (the same routing, filtering, HWM and per-type rules), but publishes each pipe's
    /// share with **one publication and at most one wake-up of its reader** per attempt.
    /// Waits, like `send`, while no peer can take the next message, up to the send
    /// timeout ([`Socket::set_send_timeout`]) for the batch as a whole. Returns the number
    /// of messages sent.
    ///
    /// Per type: PUSH and DEALER spread the batch over their peers round-robin; PUB and
    /// XPUB filter it per subscriber; ROUTER routes each message by its first frame;
    /// PAIR and XSUB send to their peer(s); REQ and REP alternate with receives, so a
    /// batch of more than one message stops at the second with
    /// [`Error::InvalidState`]; PULL and SUB fail with [`Error::NotSupported`].
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return Ok(()); }
    /// use inproc::{Context, SocketType};
    /// let ctx = Context::new();
    /// let pull = ctx.socket(SocketType::Pull)?;
    /// pull.bind("inproc://batch")?;
    /// let push = ctx.socket(SocketType::Push)?;
    /// push.connect("inproc://batch")?;
    /// assert_eq!(push.send_batch((0..64u8).map(|i| vec![i])).unwrap(), 64);
    /// let mut got = Vec::new();
    /// assert_eq!(pull.recv_batch(&mut got, 100)?, 64);
    /// assert_eq!(got[63], vec![63u8].into());
    /// # Ok::<(), inproc::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Socket::send`], with the count of messages sent before the failure and the
    /// message that failed ([`BatchSendError`]).
    pub fn send_batch<I>(&self, msgs: I) -> Result<usize, BatchSendError>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        // Relaxed: a plain option value.
        let t = decode_timeout(self.send_timeout.load(Ordering::Relaxed));
        self.send_batch_until(msgs, Deadline::after(t))
    }

    /// Sends as much of `msgs` as fits now, without waiting; see [`Socket::send_batch`].
    ///
    /// # Errors
    /// As [`Socket::send_batch`]; [`Error::WouldBlock`] at the first message no peer can
    /// take now.
    pub fn try_send_batch<I>(&self, msgs: I) -> Result<usize, BatchSendError>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        self.send_batch_until(msgs, Deadline::Now)
    }

    fn send_batch_until<I>(&self, msgs: I, deadline: Deadline) -> Result<usize, BatchSendError>
    where
        I: IntoIterator,
        I::Item: Into<Message>,
    {
        let mut msgs = msgs.into_iter().map(Into::into);
        // The next message to send. Taken before the first attempt, so that a call that
        // fails before sending anything (shutdown, a timeout) gives back the message it
        // stopped at, as one that fails later does; an empty batch succeeds at once.
        let mut held: Option<Message> = msgs.next();
        if held.is_none() {
            return Ok(0);
        }
        let mut sent = 0;
        let result = self.block_on(deadline, false, |st| {
            st.pipes.set_defer(true);
            // The iterator is the caller's code and may panic: the batch must end (its
            // pushed messages published, the pipes out of batch mode) either way, or
            // later sends on this socket would stay unpublished.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                sent += st.send_run(&mut held, || msgs.next());
                loop {
                    let Some(m) = held.take().or_else(|| msgs.next()) else {
                        break Attempt::Ready(());
                    };
                    match st.send(m) {
                        Ok(()) => sent += 1,
                        Err(SendBlock::Blocked(m)) => {
                            held = Some(m);
                            break Attempt::Blocked;
                        }
                        Err(SendBlock::Failed(e, m)) => {
                            held = Some(m);
                            break Attempt::Failed(e);
                        }
                    }
                }
            }));
            // Publishes each pipe's share: one publication, at most one wake-up.
            st.pipes.set_defer(false);
            outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        match result {
            Ok(()) => Ok(sent),
            Err(error) => Err(BatchSendError {
                sent,
                failed: SendError::new(error, held.unwrap_or_default()),
            }),
        }
    }

    /// Receives up to `max` messages into `out` (appended): waits, like
    /// [`Socket::recv`], until at least one is there (up to the receive timeout), then
    /// takes what is queued without waiting more. Returns how many it appended (0 only
    /// for `max == 0`, which returns at once). Messages come in the order `recv` would
    /// give them (fair-queued across peers where the type does that); REQ takes its one
    /// reply, REP one request.
    ///
    /// # Errors
    /// As [`Socket::recv`], when not even one message came.
    pub fn recv_batch(&self, out: &mut Vec<Message>, max: usize) -> Result<usize, Error> {
        // Relaxed: a plain option value.
        let t = decode_timeout(self.recv_timeout.load(Ordering::Relaxed));
        self.recv_batch_until(out, max, Deadline::after(t))
    }

    /// Takes up to `max` queued messages into `out` without waiting; see
    /// [`Socket::recv_batch`].
    ///
    /// # Errors
    /// As [`Socket::recv_batch`]; [`Error::WouldBlock`] when nothing is queued.
    pub fn try_recv_batch(&self, out: &mut Vec<Message>, max: usize) -> Result<usize, Error> {
        self.recv_batch_until(out, max, Deadline::Now)
    }

    fn recv_batch_until(
        &self,
        out: &mut Vec<Message>,
        max: usize,
        deadline: Deadline,
    ) -> Result<usize, Error> {
        if max == 0 {
            return Ok(0);
        }
        self.block_on(deadline, true, |st| st.recv_many(out, max))
    }
}
