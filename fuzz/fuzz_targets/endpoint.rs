//! Fuzz target for `inproc::Endpoint::parse`.
//!
//! Builds an address string from structured input, parses it, and checks that:
//! - parsing never panics (nor does displaying the error);
//! - accept/reject and the exact error variant agree with `reference`, an independent
//!   predicate written here from the grammar (split at the first `://`, scheme exactly
//!   `inproc`, name 1..=256 bytes without NUL), which does not call the library;
//! - an accepted endpoint displays as the input string and parses back to an equal value.
#![no_main]

use arbitrary::Arbitrary;
use inproc::{Endpoint, EndpointError};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Scheme {
    Inproc,
    InprocUpper,
    Tcp,
    Ipc,
    Empty,
    Other(String),
}

impl Scheme {
    fn as_str(&self) -> &str {
        match self {
            Scheme::Inproc => "inproc",
            Scheme::InprocUpper => "INPROC",
            Scheme::Tcp => "tcp",
            Scheme::Ipc => "ipc",
            Scheme::Empty => "",
            Scheme::Other(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Sep {
    Full,
    Short,
    None,
}

impl Sep {
    fn as_str(&self) -> &str {
        match self {
            Sep::Full => "://",
            Sep::Short => ":/",
            Sep::None => "",
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Input {
    /// Any string at all.
    Raw(String),
    /// `scheme sep name`.
    Parts {
        scheme: Scheme,
        sep: Sep,
        name: String,
    },
    /// `scheme "://"` followed by `len % 600` copies of one character, to reach the
    /// 256-byte boundary with one-byte (`byte < 0x80`) and two-byte characters.
    Long { scheme: Scheme, byte: u8, len: u16 },
}

impl Input {
    fn build(&self) -> String {
        match self {
            Input::Raw(s) => s.clone(),
            Input::Parts { scheme, sep, name } => {
                format!("{}{}{}", scheme.as_str(), sep.as_str(), name)
            }
            Input::Long { scheme, byte, len } => {
                let c = char::from(*byte);
                let mut s = format!("{}://", scheme.as_str());
                s.extend(std::iter::repeat_n(c, usize::from(*len % 600)));
                s
            }
        }
    }
}

/// The grammar, written independently of the library: `Ok(name)` or the expected error.
fn reference(s: &str) -> Result<String, EndpointError> {
    let b = s.as_bytes();
    // Index of the first "://", by a plain scan.
    let mut sep = None;
    let mut i = 0;
    while i + 3 <= b.len() {
        if b[i] == b':' && b[i + 1] == b'/' && b[i + 2] == b'/' {
            sep = Some(i);
            break;
        }
        i += 1;
    }
    let Some(at) = sep else {
        return Err(EndpointError::MissingScheme);
    };
    let scheme = &b[..at];
    let name = &b[at + 3..];
    if scheme.is_empty() {
        return Err(EndpointError::EmptyScheme);
    }
    if scheme != b"inproc" {
        return Err(EndpointError::UnsupportedTransport(
            String::from_utf8(scheme.to_vec()).unwrap(),
        ));
    }
    if name.is_empty() {
        return Err(EndpointError::EmptyName);
    }
    if name.len() > 256 {
        return Err(EndpointError::NameTooLong(name.len()));
    }
    if name.contains(&0) {
        return Err(EndpointError::NulInName);
    }
    Ok(String::from_utf8(name.to_vec()).unwrap())
}

fuzz_target!(|input: Input| {
    let s = input.build();
    let got = Endpoint::parse(&s);
    let want = reference(&s);
    match (&got, &want) {
        (Ok(ep), Ok(name)) => {
            assert_eq!(ep.name(), name, "wrong name for {s:?}");
            let shown = ep.to_string();
            assert_eq!(shown, s, "Display does not give back the input");
            let again = Endpoint::parse(&shown).expect("Display output must parse");
            assert_eq!(&again, ep, "round trip changed the endpoint");
            assert_eq!(shown.parse::<Endpoint>().as_ref(), Ok(ep));
        }
        (Err(e), Err(w)) => {
            assert_eq!(e, w, "wrong error for {s:?}");
            assert_eq!(
                e.is_unsupported_transport(),
                matches!(w, EndpointError::UnsupportedTransport(_))
            );
            let msg = e.to_string();
            assert!(!msg.is_empty());
        }
        _ => panic!("parse({s:?}) = {got:?}, reference says {want:?}"),
    }
});
