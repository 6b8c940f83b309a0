//! Errors: one enum with libzmq's errno for each case, and `SendError`, which gives the
//! message back.

use crate::endpoint::EndpointError;
use crate::msg::Message;

/// libzmq's base for its own error numbers (`ZMQ_HAUSNUMERO`).
const HAUSNUMERO: i32 = 156_384_712;

/// What went wrong. Each variant maps to the errno libzmq would set ([`Error::errno`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The endpoint is malformed: no `://`, empty scheme, empty, too long or NUL in the
    /// name (`EINVAL`).
    InvalidEndpoint(EndpointError),
    /// The endpoint names a transport other than `inproc` (`EPROTONOSUPPORT`).
    UnsupportedTransport(String),
    /// The name is already bound in this context (`EADDRINUSE`).
    AddrInUse,
    /// Unbind or disconnect of an endpoint this socket did not bind or connect
    /// (`ENOENT`).
    NoSuchEndpoint,
    /// The operation would block (non-blocking call) (`EAGAIN`).
    WouldBlock,
    /// The operation did not complete before its timeout (`EAGAIN`).
    TimedOut,
    /// The context was shut down (`ETERM`).
    Terminated,
    /// The operation is not valid in the socket's current state (`EFSM`).
    InvalidState,
    /// The message cannot be routed to its peer: for PAIR, the peer refused this
    /// connection because it already has one (`EHOSTUNREACH`).
    HostUnreachable,
    /// The socket type does not support the operation, or the type is not implemented
    /// yet (`ENOTSUP`).
    NotSupported,
    /// An option value is out of range (`EINVAL`).
    InvalidArgument(&'static str),
}

impl Error {
    /// The errno libzmq 4.3 sets for this error on Linux.
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return }
    /// assert_eq!(inproc::Error::AddrInUse.errno(), 98);
    /// assert_eq!(inproc::Error::Terminated.errno(), 156_384_765); // ETERM
    /// ```
    pub fn errno(&self) -> i32 {
        match self {
            Error::InvalidEndpoint(_) | Error::InvalidArgument(_) => 22, // EINVAL
            Error::UnsupportedTransport(_) => 93,                        // EPROTONOSUPPORT
            Error::AddrInUse => 98,                                      // EADDRINUSE
            Error::NoSuchEndpoint => 2,                                  // ENOENT
            Error::WouldBlock | Error::TimedOut => 11,                   // EAGAIN
            Error::Terminated => HAUSNUMERO + 53,                        // ETERM
            Error::InvalidState => HAUSNUMERO + 51,                      // EFSM
            Error::HostUnreachable => 113,                               // EHOSTUNREACH
            Error::NotSupported => 95,                                   // ENOTSUP
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::InvalidEndpoint(e) => write!(f, "invalid endpoint: {e}"),
            Error::UnsupportedTransport(s) => write!(f, "unsupported transport `{s}`"),
            Error::AddrInUse => f.write_str("address already in use"),
            Error::NoSuchEndpoint => f.write_str("no such endpoint"),
            Error::WouldBlock => f.write_str("operation would block"),
            Error::TimedOut => f.write_str("operation timed out"),
            Error::Terminated => f.write_str("context was shut down"),
            Error::InvalidState => f.write_str("operation not valid in the socket's state"),
            Error::HostUnreachable => f.write_str("host unreachable"),
            Error::NotSupported => f.write_str("operation not supported"),
            Error::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InvalidEndpoint(e) => Some(e),
            _ => None,
        }
    }
}

impl From<EndpointError> for Error {
    fn from(e: EndpointError) -> Self {
        match e {
            EndpointError::UnsupportedTransport(s) => Error::UnsupportedTransport(s),
            e => Error::InvalidEndpoint(e),
        }
    }
}

/// A failed send: why, and the message, given back unchanged.
///
/// ```
/// # if inproc::sync::MODEL_BUILD { return }
/// use inproc::{Context, Error, SocketType};
/// let ctx = Context::new();
/// let push = ctx.socket(SocketType::Push).unwrap();
/// // No peer yet: a non-blocking send fails and returns the message.
/// let err = push.try_send("hello").unwrap_err();
/// assert_eq!(err.error(), &Error::WouldBlock);
/// assert_eq!(err.into_message(), "hello".into());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    error: Error,
    message: Message,
}

impl SendError {
    pub(crate) fn new(error: Error, message: Message) -> Self {
        SendError { error, message }
    }

    /// Why the send failed.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The message that was not sent.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// Takes the message back.
    pub fn into_message(self) -> Message {
        self.message
    }

    /// Both parts.
    pub fn into_parts(self) -> (Error, Message) {
        (self.error, self.message)
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "send failed: {}", self.error)
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<SendError> for Error {
    fn from(e: SendError) -> Self {
        e.error
    }
}
