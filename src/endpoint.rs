//! Endpoint addresses: the `inproc://name` strings that `bind` and `connect` take.
//!
//! An *endpoint* names a rendezvous point inside one process. Its grammar is
//!
//! ```text
//! endpoint = scheme "://" name
//! scheme   = "inproc"                  ; exactly, case-sensitive
//! name     = 1*256 bytes, none of them NUL
//! ```
//!
//! The string is split at its **first** `://`. Everything after it is the name, taken as
//! it is: any UTF-8 text, `/`, spaces, `*` and further `://` are all allowed, and nothing
//! is normalised, so names compare byte for byte (`inproc://a`, `inproc://a/` and
//! `inproc://A` are three different endpoints). The 256-byte limit is the one
//! zmq_inproc(7) documents; here it is enforced.
//!
//! Errors are checked in this order: no `://` at all ([`EndpointError::MissingScheme`]),
//! nothing before it ([`EndpointError::EmptyScheme`]), a scheme other than `inproc`
//! ([`EndpointError::UnsupportedTransport`], libzmq's `EPROTONOSUPPORT`), then an empty
//! name ([`EndpointError::EmptyName`]), a name over [`MAX_NAME_LEN`] bytes
//! ([`EndpointError::NameTooLong`]) and a name holding a NUL ([`EndpointError::NulInName`]),
//! the last four being libzmq's `EINVAL`.

use std::fmt;
use std::str::FromStr;

/// Largest name accepted, in bytes (the zmq_inproc(7) limit, enforced here).
pub const MAX_NAME_LEN: usize = 256;

/// The one scheme this crate implements.
const SCHEME: &str = "inproc";

/// The separator between the scheme and the name.
const SEPARATOR: &str = "://";

/// A parsed, valid `inproc://` endpoint.
///
/// Holds only the name (the part after `inproc://`). Two endpoints are equal when their
/// names are equal byte for byte. [`Display`](fmt::Display) writes the full address back,
/// and parsing that text gives an equal `Endpoint`.
#[derive(Clone)]
pub struct Endpoint {
    name: Name,
}

/// The bytes of a name: inline up to [`INLINE_NAME`] bytes (no allocation, and a lookup
/// compares it without following a pointer to cold memory), else shared, not copied,
/// by clones (the registry keeps a name in its key, its binding and the binder's list).
#[derive(Clone)]
enum Name {
    /// `len <= INLINE_NAME` bytes of `bytes`, copied from a `str`.
    Inline {
        len: u8,
        bytes: [u8; INLINE_NAME],
    },
    Shared(crate::sync::SharedStr),
}

/// Longest name kept inline: an `Endpoint` is 24 bytes either way.
const INLINE_NAME: usize = 22;

impl Name {
    fn new(name: &str) -> Name {
        match u8::try_from(name.len()) {
            Ok(len) if name.len() <= INLINE_NAME => {
                let mut bytes = [0; INLINE_NAME];
                bytes[..name.len()].copy_from_slice(name.as_bytes());
                Name::Inline { len, bytes }
            }
            _ => Name::Shared(name.into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Name::Inline { len, bytes } => {
                let bytes = &bytes[..usize::from(*len)];
                // SAFETY: the bytes are a whole `str`'s, copied in `new`, so valid UTF-8.
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            Name::Shared(s) => s,
        }
    }
}

/// Compared, ordered and hashed as the name's `str` (as when the name was a `String`).
impl PartialEq for Endpoint {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}
impl Eq for Endpoint {}
impl PartialOrd for Endpoint {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Endpoint {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.name().cmp(other.name())
    }
}
impl std::hash::Hash for Endpoint {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}
impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name())
            .finish()
    }
}

impl Endpoint {
    /// Parses an endpoint address such as `"inproc://workers"`.
    ///
    /// The text is split at its first `://`; the part before must be exactly `inproc`, the
    /// part after is the name, which must be 1 to [`MAX_NAME_LEN`] bytes long and hold no
    /// NUL. Nothing is trimmed or normalised.
    ///
    /// # Errors
    ///
    /// Returns the first [`EndpointError`] that applies, in the order the variants are
    /// listed (scheme errors before name errors).
    ///
    /// # Examples
    ///
    /// ```
    /// # if inproc::sync::MODEL_BUILD { return }
    /// use inproc::{Endpoint, EndpointError};
    ///
    /// let ep = Endpoint::parse("inproc://workers").unwrap();
    /// assert_eq!(ep.name(), "workers");
    /// assert_eq!(ep.to_string(), "inproc://workers");
    ///
    /// // Only the first `://` separates; the rest belongs to the name.
    /// assert_eq!(Endpoint::parse("inproc://a://b").unwrap().name(), "a://b");
    ///
    /// assert_eq!(Endpoint::parse("inproc://"), Err(EndpointError::EmptyName));
    /// let err = Endpoint::parse("tcp://127.0.0.1:5555").unwrap_err();
    /// assert!(err.is_unsupported_transport());
    /// ```
    pub fn parse(s: &str) -> Result<Endpoint, EndpointError> {
        let Some((scheme, name)) = s.split_once(SEPARATOR) else {
            return Err(EndpointError::MissingScheme);
        };
        if scheme.is_empty() {
            return Err(EndpointError::EmptyScheme);
        }
        if scheme != SCHEME {
            return Err(EndpointError::UnsupportedTransport(scheme.to_owned()));
        }
        if name.is_empty() {
            return Err(EndpointError::EmptyName);
        }
        if name.len() > MAX_NAME_LEN {
            return Err(EndpointError::NameTooLong(name.len()));
        }
        if name.as_bytes().contains(&0) {
            return Err(EndpointError::NulInName);
        }
        Ok(Endpoint {
            name: Name::new(name),
        })
    }

    /// The name: everything after `inproc://`, exactly as it was given.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }
}

impl fmt::Display for Endpoint {
    /// Writes `inproc://` followed by the name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SCHEME)?;
        f.write_str(SEPARATOR)?;
        f.write_str(self.name())
    }
}

impl FromStr for Endpoint {
    type Err = EndpointError;

    /// Same as [`Endpoint::parse`].
    fn from_str(s: &str) -> Result<Endpoint, EndpointError> {
        Endpoint::parse(s)
    }
}

/// Why a string is not a valid endpoint.
///
/// [`UnsupportedTransport`](EndpointError::UnsupportedTransport) corresponds to libzmq's
/// `EPROTONOSUPPORT`; every other variant to `EINVAL`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointError {
    /// The string has no `://` anywhere (for example `"inproc:/x"` or `"abc"`).
    MissingScheme,
    /// Nothing comes before the first `://` (for example `"://x"`).
    EmptyScheme,
    /// The scheme (the text before the first `://`) is not exactly `inproc`. The
    /// comparison is case-sensitive, so `"INPROC"` is unsupported as well as `"tcp"`.
    /// Holds the scheme as given.
    UnsupportedTransport(String),
    /// Nothing comes after `inproc://`.
    EmptyName,
    /// The name is longer than [`MAX_NAME_LEN`] bytes. Holds its length in bytes.
    NameTooLong(usize),
    /// The name contains a NUL character.
    NulInName,
}

impl EndpointError {
    /// `true` for [`EndpointError::UnsupportedTransport`] (libzmq's `EPROTONOSUPPORT`),
    /// `false` for the errors that libzmq reports as `EINVAL`.
    pub fn is_unsupported_transport(&self) -> bool {
        matches!(self, EndpointError::UnsupportedTransport(_))
    }
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointError::MissingScheme => f.write_str("endpoint has no `://`"),
            EndpointError::EmptyScheme => f.write_str("endpoint has an empty transport scheme"),
            EndpointError::UnsupportedTransport(scheme) => {
                write!(
                    f,
                    "unsupported transport `{scheme}` (only `inproc` is supported)"
                )
            }
            EndpointError::EmptyName => f.write_str("endpoint name is empty"),
            EndpointError::NameTooLong(len) => write!(
                f,
                "endpoint name is {len} bytes long (at most {MAX_NAME_LEN} allowed)"
            ),
            EndpointError::NulInName => f.write_str("endpoint name contains a nul character"),
        }
    }
}

impl std::error::Error for EndpointError {}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    /// Names up to 22 bytes live inline, longer ones are shared; either way an endpoint
    /// is 24 bytes and compares, orders and hashes as its name's `str`.
    #[test]
    fn short_names_inline_long_names_shared_same_behaviour() {
        use std::hash::BuildHasher;
        assert_eq!(std::mem::size_of::<Endpoint>(), 24);
        let h = std::collections::hash_map::RandomState::new();
        for len in [1, 21, 22, 23, 200, MAX_NAME_LEN - 1] {
            let name = "é".repeat(len / 2) + &"x".repeat(len % 2);
            let ep = Endpoint::parse(&format!("inproc://{name}")).unwrap();
            assert_eq!(ep.name(), name);
            assert!(matches!(ep.name, Name::Inline { .. }) == (name.len() <= INLINE_NAME));
            assert_eq!(ep.clone(), ep);
            assert_eq!(h.hash_one(&ep), h.hash_one(name.as_str()));
            let longer = Endpoint::parse(&format!("inproc://{name}~")).unwrap();
            assert!(ep < longer && ep != longer);
            assert_eq!(format!("{ep}"), format!("inproc://{name}"));
        }
    }

    fn err(s: &str) -> EndpointError {
        Endpoint::parse(s).unwrap_err()
    }

    #[test]
    fn accepts_simple_name() {
        let ep = Endpoint::parse("inproc://abc").unwrap();
        assert_eq!(ep.name(), "abc");
        assert_eq!(ep.to_string(), "inproc://abc");
        assert_eq!("inproc://abc".parse::<Endpoint>(), Ok(ep));
    }

    #[test]
    fn missing_scheme() {
        assert_eq!(err("abc"), EndpointError::MissingScheme);
        assert_eq!(err("inproc:/x"), EndpointError::MissingScheme);
        assert_eq!(err("inproc:"), EndpointError::MissingScheme);
        assert_eq!(err(""), EndpointError::MissingScheme);
        assert_eq!(err(":/"), EndpointError::MissingScheme);
    }

    #[test]
    fn empty_scheme() {
        assert_eq!(err("://x"), EndpointError::EmptyScheme);
        assert_eq!(err("://"), EndpointError::EmptyScheme);
        // The empty-scheme check comes before the name checks.
        assert_eq!(err("://inproc://x"), EndpointError::EmptyScheme);
    }

    #[test]
    fn unsupported_transport() {
        for scheme in [
            "tcp", "ipc", "INPROC", "Inproc", " inproc", "inproc ", "inproc:",
        ] {
            let e = err(&format!("{scheme}://x"));
            assert_eq!(e, EndpointError::UnsupportedTransport(scheme.to_owned()));
            assert!(e.is_unsupported_transport());
        }
        // Scheme errors come before name errors.
        assert_eq!(
            err("tcp://"),
            EndpointError::UnsupportedTransport("tcp".into())
        );
    }

    #[test]
    fn empty_name() {
        assert_eq!(err("inproc://"), EndpointError::EmptyName);
        assert!(!EndpointError::EmptyName.is_unsupported_transport());
    }

    #[test]
    fn name_boundary_ascii() {
        let ok = "x".repeat(MAX_NAME_LEN);
        assert_eq!(
            Endpoint::parse(&format!("inproc://{ok}")).unwrap().name(),
            ok
        );
        let long = "x".repeat(MAX_NAME_LEN + 1);
        assert_eq!(
            err(&format!("inproc://{long}")),
            EndpointError::NameTooLong(257)
        );
    }

    #[test]
    fn name_boundary_multibyte() {
        // "é" is two bytes: 128 of them are exactly 256 bytes.
        let ok = "é".repeat(128);
        assert_eq!(ok.len(), 256);
        assert_eq!(
            Endpoint::parse(&format!("inproc://{ok}")).unwrap().name(),
            ok
        );
        let long = "é".repeat(129);
        assert_eq!(
            err(&format!("inproc://{long}")),
            EndpointError::NameTooLong(258)
        );
    }

    #[test]
    fn nul_in_name() {
        assert_eq!(err("inproc://a\0b"), EndpointError::NulInName);
        assert_eq!(err("inproc://\0"), EndpointError::NulInName);
        // Length is checked before NUL.
        let long = format!("inproc://\0{}", "x".repeat(MAX_NAME_LEN));
        assert_eq!(err(&long), EndpointError::NameTooLong(257));
    }

    #[test]
    fn name_is_taken_verbatim() {
        for name in ["a://b", "/", " ", "*", "a b/c*", "日本", "inproc://x", ":"] {
            let ep = Endpoint::parse(&format!("inproc://{name}")).unwrap();
            assert_eq!(ep.name(), name);
            assert_eq!(Endpoint::parse(&ep.to_string()), Ok(ep.clone()));
        }
    }

    #[test]
    fn names_compare_byte_for_byte() {
        let a = Endpoint::parse("inproc://a").unwrap();
        assert_ne!(a, Endpoint::parse("inproc://a/").unwrap());
        assert_ne!(a, Endpoint::parse("inproc://A").unwrap());
        assert_ne!(a, Endpoint::parse("inproc:// a").unwrap());
        assert_eq!(a, Endpoint::parse("inproc://a").unwrap());
    }

    #[test]
    fn error_messages_are_lower_case() {
        let all = [
            EndpointError::MissingScheme,
            EndpointError::EmptyScheme,
            EndpointError::UnsupportedTransport("tcp".into()),
            EndpointError::EmptyName,
            EndpointError::NameTooLong(300),
            EndpointError::NulInName,
        ];
        for e in all {
            let msg = e.to_string();
            assert!(msg.starts_with(|c: char| c.is_lowercase()), "{msg}");
            assert!(!msg.ends_with('.'), "{msg}");
        }
        assert_eq!(
            EndpointError::MissingScheme.to_string(),
            "endpoint has no `://`"
        );
    }
}
