//! A request/reply broker: `proxy` between a ROUTER frontend and a DEALER backend.
//!
//! ```text
//!  3 × client REQ ──► inproc://frontend ROUTER ═ proxy ═ DEALER inproc://backend ◄── 2 × worker REP
//!     (connect)            (binds)             (thread)         (binds)               (connect)
//! ```
//!
//! * The ROUTER prefixes each request with the client's routing id; the DEALER
//!   load-balances the requests over the workers; each REP answers on the envelope it
//!   received, so the reply finds its way back through the DEALER and the ROUTER to the
//!   client that asked.
//! * `proxy` waits on a `Poller` and moves whole messages both ways until the context
//!   is shut down. `main` shuts it down once every client has all its replies: the proxy
//!   returns `Error::Terminated`, and the workers, blocked in `recv`, get it too.
//!
//! Run it with `cargo run --example broker`. No sleeps; the totals are deterministic
//! (which worker answers which request, and the order of the lines, are not).

use std::thread;

use inproc::{Context, Error, SocketType, proxy};

const CLIENTS: usize = 3;
const WORKERS: usize = 2;
const REQUESTS: usize = 4;

fn main() -> Result<(), Error> {
    let ctx = Context::new();
    let frontend = ctx.socket(SocketType::Router)?;
    frontend.bind("inproc://frontend")?;
    let backend = ctx.socket(SocketType::Dealer)?;
    backend.bind("inproc://backend")?;

    let (answered, served) = thread::scope(|s| -> Result<(usize, Vec<usize>), Error> {
        let broker = s.spawn(|| proxy(&frontend, &backend));

        let mut workers = Vec::new();
        for w in 0..WORKERS {
            let rep = ctx.socket(SocketType::Rep)?;
            rep.connect("inproc://backend")?;
            workers.push(s.spawn(move || -> Result<usize, Error> {
                let mut served = 0;
                loop {
                    let request = match rep.recv() {
                        Ok(m) => m,
                        Err(Error::Terminated) => return Ok(served),
                        Err(e) => return Err(e),
                    };
                    let text = String::from_utf8_lossy(&request.frames()[0]).into_owned();
                    rep.send(format!("worker {w} answers '{text}'"))?;
                    served += 1;
                }
            }));
        }

        let mut clients = Vec::new();
        for c in 0..CLIENTS {
            let req = ctx.socket(SocketType::Req)?;
            req.connect("inproc://frontend")?;
            clients.push(s.spawn(move || -> Result<usize, Error> {
                for i in 0..REQUESTS {
                    req.send(format!("client {c} request {i}"))?;
                    let reply = req.recv()?;
                    println!(
                        "client {c}: request {i} -> {}",
                        String::from_utf8_lossy(&reply.frames()[0])
                    );
                }
                Ok(REQUESTS)
            }));
        }

        let mut answered = 0;
        for c in clients {
            answered += c.join().expect("client panicked")?;
        }
        // Every reply is in: stop the broker and the workers.
        ctx.shutdown();
        assert_eq!(
            broker.join().expect("proxy panicked"),
            Err(Error::Terminated)
        );
        let mut served = Vec::new();
        for w in workers {
            served.push(w.join().expect("worker panicked")?);
        }
        Ok((answered, served))
    })?;

    println!(
        "{answered} requests from {CLIENTS} clients answered by {WORKERS} workers; \
         the workers served {} in all",
        served.iter().sum::<usize>()
    );
    assert_eq!(answered, CLIENTS * REQUESTS);
    assert_eq!(served.iter().sum::<usize>(), CLIENTS * REQUESTS);
    Ok(())
}
