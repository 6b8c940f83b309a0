//! Helpers shared by the integration tests: unique names, libzmq sockets with bounded
//! waits, sequence-numbered payloads.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest any single wait in a test may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn unique(tag: &str) -> String {
    format!(
        "{}-{}-{}",
        tag,
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh `inproc://` name.
pub fn inproc_name(tag: &str) -> String {
    format!("inproc://{}", unique(tag))
}

/// A fresh `ipc://` path under the temporary directory (removed first if stale).
pub fn ipc_endpoint(tag: &str) -> String {
    let path = std::env::temp_dir().join(format!("ib-{}.sock", unique(tag)));
    let _ = std::fs::remove_file(&path);
    format!("ipc://{}", path.display())
}

/// A loopback tcp port that was free a moment ago (for peers that must rebind the
/// same port).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// A libzmq socket whose blocking calls give up after [`WAIT`] (so a broken bridge
/// fails the test instead of hanging it), with linger 0 unless told otherwise.
pub fn zsock(ctx: &zmq::Context, ty: zmq::SocketType) -> zmq::Socket {
    let s = ctx.socket(ty).expect("libzmq socket");
    s.set_rcvtimeo(WAIT.as_millis() as i32).expect("rcvtimeo");
    s.set_sndtimeo(WAIT.as_millis() as i32).expect("sndtimeo");
    s.set_linger(0).expect("linger");
    s
}

/// Binds a libzmq socket on an ephemeral loopback port (or the given endpoint) and
/// returns the endpoint it got (ZMQ_LAST_ENDPOINT).
pub fn zbind(s: &zmq::Socket, endpoint: &str) -> String {
    s.bind(endpoint).expect("libzmq bind");
    s.get_last_endpoint()
        .expect("last endpoint")
        .expect("utf-8 endpoint")
}

/// A payload carrying `seq` in its first 8 bytes, `len` bytes in all (at least 8).
pub fn payload(seq: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0x5a; len.max(8)];
    v[..8].copy_from_slice(&seq.to_be_bytes());
    v
}

/// The sequence number of a [`payload`].
pub fn seq_of(bytes: &[u8]) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(b)
}

/// A deadline `d` from now.
pub fn deadline(d: Duration) -> Instant {
    Instant::now() + d
}

/// Panics if `at` has passed.
pub fn check(at: Instant, what: &str) {
    assert!(Instant::now() < at, "deadline passed: {what}");
}
