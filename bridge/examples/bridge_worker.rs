//! The inproc program of the two-process example: a pool of inproc REP workers behind
//! one bridge, reachable by any ZeroMQ REQ (or DEALER) client over tcp.
//!
//! ```sh
//! cargo run -p inproc-bridge --example bridge_worker -- tcp://127.0.0.1:5555
//! cargo run -p inproc-bridge --example libzmq_peer -- tcp://127.0.0.1:5555   # another shell
//! ```
//!
//! The workers are ordinary inproc code: they would run unchanged with the clients in
//! this process. The bridge binds `inproc://workers` (the workers connect) and the tcp
//! endpoint; its DEALER load-balances the requests over the workers, and each reply goes
//! back on its request's envelope to the network client that sent it. A request `quit`
//! shuts the context down, which stops the workers and the bridge.

use inproc::{Context, Error, SocketType};
use inproc_bridge::{Bridge, Side};

const WORKERS: usize = 3;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tcp://127.0.0.1:5555".to_string());
    let ctx = Context::new();
    let bridge = Bridge::builder(SocketType::Rep, "inproc://workers", &endpoint, Side::Bind)
        .inproc_side(Side::Bind)
        .start(&ctx)?;
    println!(
        "bridge_worker: {WORKERS} inproc REP workers on {}",
        bridge.net_endpoint()
    );

    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let ctx = ctx.clone();
            std::thread::spawn(move || -> Result<usize, Error> {
                let rep = ctx.socket(SocketType::Rep)?;
                rep.connect("inproc://workers")?;
                let mut served = 0;
                loop {
                    let request = match rep.recv() {
                        Ok(m) => m,
                        Err(Error::Terminated) => return Ok(served),
                        Err(e) => return Err(e),
                    };
                    let text = request.as_str().unwrap_or("<binary>").to_string();
                    if text == "quit" {
                        println!("bridge_worker: worker {w} got quit");
                        ctx.shutdown();
                        return Ok(served);
                    }
                    match rep.send(format!("{} (worker {w})", text.to_uppercase())) {
                        Ok(()) => served += 1,
                        Err(e) if *e.error() == Error::Terminated => return Ok(served),
                        Err(e) => return Err(e.into()),
                    }
                }
            })
        })
        .collect();
    for (w, t) in workers.into_iter().enumerate() {
        let served = t.join().map_err(|_| "worker panicked")??;
        println!("bridge_worker: worker {w} served {served} requests");
    }
    let stats = bridge.stats();
    bridge.join()?;
    println!(
        "bridge_worker: bridge done: {} requests in, {} replies out, {} connection(s)",
        stats.from_net, stats.to_net, stats.connections
    );
    Ok(())
}
