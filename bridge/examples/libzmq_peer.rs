//! The libzmq program of the two-process example: a plain libzmq REQ client (the `zmq`
//! crate on the system libzmq) that talks to `bridge_worker` over tcp. Nothing in it
//! knows about inproc or the bridge.
//!
//! ```sh
//! cargo run -p inproc-bridge --example bridge_worker -- tcp://127.0.0.1:5555
//! cargo run -p inproc-bridge --example libzmq_peer -- tcp://127.0.0.1:5555 [requests]
//! ```
//!
//! Sends `requests` (default 10) requests, checks every reply, then sends `quit`, which
//! stops the worker program. Gives up (exit code 1) if a reply takes over 10 s.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let endpoint = args
        .next()
        .unwrap_or_else(|| "tcp://127.0.0.1:5555".to_string());
    let requests: usize = args.next().map_or(Ok(10), |n| n.parse())?;
    let ctx = zmq::Context::new();
    let req = ctx.socket(zmq::REQ)?;
    req.set_rcvtimeo(10_000)?;
    req.connect(&endpoint)?;
    let (major, minor, patch) = zmq::version();
    println!("libzmq_peer: libzmq {major}.{minor}.{patch}, REQ connected to {endpoint}");
    for i in 0..requests {
        let request = format!("hello {i}");
        req.send(request.as_bytes(), 0)?;
        let reply = match req.recv_string(0)? {
            Ok(text) => text,
            Err(bytes) => return Err(format!("non-UTF-8 reply {bytes:?}").into()),
        };
        if !reply.starts_with(&request.to_uppercase()) {
            return Err(format!("reply {reply:?} to {request:?}").into());
        }
        if i < 3 || i + 1 == requests {
            println!("libzmq_peer: {request:?} -> {reply:?}");
        }
    }
    println!("libzmq_peer: {requests} round trips OK; sending quit");
    req.send("quit", 0)?;
    // Dropping the context waits (ZMQ_LINGER, default: forever) until `quit` is sent.
    drop(req);
    drop(ctx);
    Ok(())
}
