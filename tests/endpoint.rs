#![cfg(not(any(loom, shuttle)))]
//! Integration tests of the public endpoint parser (`inproc::Endpoint`), one or more per
//! SPEC rule E-1 to E-5.

use inproc::{Endpoint, EndpointError};

fn parse(s: &str) -> Result<Endpoint, EndpointError> {
    Endpoint::parse(s)
}

fn name_of(s: &str) -> String {
    parse(s)
        .unwrap_or_else(|e| panic!("{s:?} should parse, got {e:?}"))
        .name()
        .to_owned()
}

/// E-1: "The address is split at the first `://`; the text before it is the scheme, the
/// text after it the name."
#[test]
fn e1_splits_at_first_separator() {
    assert_eq!(name_of("inproc://x"), "x");
    assert_eq!(name_of("inproc://a://b"), "a://b");
    assert_eq!(name_of("inproc://://"), "://");
    assert_eq!(name_of("inproc://inproc://x"), "inproc://x");
}

/// E-1: "An address without `://` is invalid (MissingScheme, EINVAL)."
#[test]
fn e1_missing_separator_is_invalid() {
    for s in [
        "",
        "abc",
        "inproc",
        "inproc:",
        "inproc:/x",
        "inproc:x",
        "inproc//x",
        ":/",
    ] {
        let e = parse(s).unwrap_err();
        assert_eq!(e, EndpointError::MissingScheme, "{s:?}");
        assert!(!e.is_unsupported_transport());
    }
}

/// E-1: "An empty scheme is invalid (EmptyScheme, EINVAL)."
#[test]
fn e1_empty_scheme_is_invalid() {
    for s in ["://", "://x", "://inproc://x"] {
        let e = parse(s).unwrap_err();
        assert_eq!(e, EndpointError::EmptyScheme, "{s:?}");
        assert!(!e.is_unsupported_transport());
    }
}

/// E-2: "The scheme must be exactly `inproc`; any other scheme is UnsupportedTransport
/// (EPROTONOSUPPORT)."
#[test]
fn e2_other_schemes_are_unsupported() {
    for scheme in [
        "tcp", "ipc", "pgm", "epgm", "vmci", "udp", "x", "inproc2", "in proc",
    ] {
        let e = parse(&format!("{scheme}://name")).unwrap_err();
        assert_eq!(e, EndpointError::UnsupportedTransport(scheme.to_owned()));
        assert!(e.is_unsupported_transport(), "{e:?}");
    }
}

/// E-2: "The scheme comparison is case-sensitive: `INPROC` is unsupported."
#[test]
fn e2_scheme_is_case_sensitive() {
    for scheme in [
        "INPROC", "Inproc", "inProc", "inprоc", /* Cyrillic о */
    ] {
        let e = parse(&format!("{scheme}://name")).unwrap_err();
        assert_eq!(e, EndpointError::UnsupportedTransport(scheme.to_owned()));
    }
}

/// E-2: "The scheme is not trimmed: surrounding spaces make it a different, unsupported
/// scheme."
#[test]
fn e2_scheme_is_not_trimmed() {
    for scheme in [" inproc", "inproc ", "inproc:", "\tinproc"] {
        let e = parse(&format!("{scheme}://name")).unwrap_err();
        assert_eq!(e, EndpointError::UnsupportedTransport(scheme.to_owned()));
    }
}

/// E-2: "The scheme is checked before the name: an unsupported scheme is reported even
/// when the name is also invalid."
#[test]
fn e2_scheme_checked_before_name() {
    assert_eq!(
        parse("tcp://").unwrap_err(),
        EndpointError::UnsupportedTransport("tcp".into())
    );
    assert_eq!(
        parse(&format!("tcp://{}", "x".repeat(1000))).unwrap_err(),
        EndpointError::UnsupportedTransport("tcp".into())
    );
    assert_eq!(
        parse("tcp://a\0b").unwrap_err(),
        EndpointError::UnsupportedTransport("tcp".into())
    );
}

/// E-3: "The name is 1 to 256 bytes; an empty name is invalid (EmptyName, EINVAL)."
#[test]
fn e3_empty_name_is_invalid() {
    let e = parse("inproc://").unwrap_err();
    assert_eq!(e, EndpointError::EmptyName);
    assert!(!e.is_unsupported_transport());
}

/// E-3: "The name is 1 to 256 bytes": 1 and 256 ASCII bytes are accepted, 257 refused
/// with NameTooLong(257).
#[test]
fn e3_length_boundaries_ascii() {
    assert_eq!(name_of("inproc://x"), "x");
    let max = "n".repeat(256);
    assert_eq!(name_of(&format!("inproc://{max}")), max);
    assert_eq!(
        parse(&format!("inproc://{}", "n".repeat(257))).unwrap_err(),
        EndpointError::NameTooLong(257)
    );
    assert_eq!(
        parse(&format!("inproc://{}", "n".repeat(10_000))).unwrap_err(),
        EndpointError::NameTooLong(10_000)
    );
}

/// E-3: "The limit is 256 bytes, not characters": 128 × "é" (256 bytes) is accepted,
/// 129 × "é" (258 bytes) refused.
#[test]
fn e3_length_counts_bytes_not_chars() {
    let max = "é".repeat(128);
    assert_eq!(max.len(), 256);
    assert_eq!(name_of(&format!("inproc://{max}")), max);
    assert_eq!(
        parse(&format!("inproc://{}", "é".repeat(129))).unwrap_err(),
        EndpointError::NameTooLong(258)
    );
    // 85 three-byte characters (255 bytes) plus one more byte is 256: accepted.
    let mixed = format!("{}x", "€".repeat(85));
    assert_eq!(mixed.len(), 256);
    assert_eq!(name_of(&format!("inproc://{mixed}")), mixed);
    // A 4-byte character crossing the limit is refused.
    let over = format!("{}😀", "x".repeat(253));
    assert_eq!(over.len(), 257);
    assert_eq!(
        parse(&format!("inproc://{over}")).unwrap_err(),
        EndpointError::NameTooLong(257)
    );
}

/// E-3: "The name must not contain NUL (NulInName, EINVAL)."
#[test]
fn e3_nul_is_invalid() {
    for name in ["\0", "a\0", "\0a", "a\0b"] {
        let e = parse(&format!("inproc://{name}")).unwrap_err();
        assert_eq!(e, EndpointError::NulInName, "{name:?}");
        assert!(!e.is_unsupported_transport());
    }
}

/// E-3: "Anything else is allowed in the name": any UTF-8, `/`, spaces, `*`, `:`,
/// further `://`, control characters other than NUL.
#[test]
fn e3_anything_else_is_allowed() {
    for name in [
        "/",
        "//",
        " ",
        "  leading and trailing  ",
        "*",
        "a*b",
        "tcp://127.0.0.1:5555",
        ":",
        "a://b",
        "日本語",
        "é",
        "😀",
        "\t\n\r",
        "\u{7f}",
        "%00",
        "..",
        "#?&=",
    ] {
        assert_eq!(name_of(&format!("inproc://{name}")), name);
    }
}

/// E-4: "Names compare byte for byte: `inproc://a` ≠ `inproc://a/` ≠ `inproc://A`."
#[test]
fn e4_names_compare_byte_for_byte() {
    let a = parse("inproc://a").unwrap();
    let a_slash = parse("inproc://a/").unwrap();
    let upper = parse("inproc://A").unwrap();
    assert_ne!(a, a_slash);
    assert_ne!(a_slash, upper);
    assert_ne!(a, upper);
    assert_eq!(a, parse("inproc://a").unwrap());
}

/// E-4: "No normalisation": spaces, case, and Unicode composition are kept as given.
#[test]
fn e4_no_normalisation() {
    assert_ne!(parse("inproc://a").unwrap(), parse("inproc:// a").unwrap());
    assert_ne!(parse("inproc://a").unwrap(), parse("inproc://a ").unwrap());
    // Precomposed "é" (U+00E9) versus "e" + combining acute (U+0065 U+0301).
    let composed = parse("inproc://\u{e9}").unwrap();
    let decomposed = parse("inproc://e\u{301}").unwrap();
    assert_ne!(composed, decomposed);
    assert_eq!(decomposed.name(), "e\u{301}");
}

/// E-4: "Names compare byte for byte": equal endpoints hash equal, and ordering follows
/// the names' bytes.
#[test]
fn e4_hash_and_order_follow_bytes() {
    use std::collections::HashSet;
    let set: HashSet<Endpoint> = ["inproc://a", "inproc://a/", "inproc://A", "inproc://a"]
        .into_iter()
        .map(|s| parse(s).unwrap())
        .collect();
    assert_eq!(set.len(), 3);
    assert!(parse("inproc://A").unwrap() < parse("inproc://a").unwrap());
    assert!(parse("inproc://a").unwrap() < parse("inproc://a/").unwrap());
}

/// E-5: "Display writes `inproc://` + name, and parsing it gives back an equal endpoint."
#[test]
fn e5_display_round_trips() {
    let max = "z".repeat(256);
    let max_multi = "é".repeat(128);
    for s in [
        "inproc://x".to_owned(),
        "inproc://a://b".to_owned(),
        "inproc:// sp ace ".to_owned(),
        "inproc://日本".to_owned(),
        format!("inproc://{max}"),
        format!("inproc://{max_multi}"),
    ] {
        let ep = parse(&s).unwrap();
        let shown = ep.to_string();
        assert_eq!(shown, s);
        assert_eq!(shown, format!("inproc://{}", ep.name()));
        assert_eq!(parse(&shown), Ok(ep.clone()));
        assert_eq!(shown.parse::<Endpoint>(), Ok(ep));
    }
}

/// E-5: "`FromStr` is the same parser": `str::parse` gives the same results, errors
/// included.
#[test]
fn e5_from_str_matches_parse() {
    for s in [
        "inproc://x",
        "abc",
        "://x",
        "tcp://x",
        "inproc://",
        "inproc://a\0",
    ] {
        assert_eq!(s.parse::<Endpoint>(), Endpoint::parse(s), "{s:?}");
    }
}

/// E-1..E-3: "Errors display as lower-case messages and are `std::error::Error`s."
#[test]
fn e1_to_e3_errors_display_and_are_std_errors() {
    let errs = [
        parse("abc").unwrap_err(),
        parse("://x").unwrap_err(),
        parse("tcp://x").unwrap_err(),
        parse("inproc://").unwrap_err(),
        parse(&format!("inproc://{}", "x".repeat(300))).unwrap_err(),
        parse("inproc://\0").unwrap_err(),
    ];
    for e in errs {
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e.clone());
        let msg = boxed.to_string();
        assert!(!msg.is_empty());
        assert!(msg.starts_with(|c: char| c.is_lowercase()), "{msg}");
    }
    assert!(parse("tcp://x").unwrap_err().to_string().contains("tcp"));
    assert!(
        parse(&format!("inproc://{}", "x".repeat(300)))
            .unwrap_err()
            .to_string()
            .contains("300")
    );
}
