//! A publish/subscribe forwarder: `proxy` between an XSUB frontend and an XPUB backend.
//!
//! ```text
//!  2 × publisher PUB ──► inproc://publishers XSUB ═ proxy ═ XPUB inproc://subscribers ◄── 2 × SUB
//!       (connect)               (binds)          (thread)          (binds)            (connect)
//! ```
//!
//! * Subscriptions flow up: each SUB subscribes to its own topic (`weather`, `sports`);
//!   the XPUB hands the subscription to the proxy, which sends it on the XSUB, which
//!   passes it to every publisher. Data flows down and each SUB gets only its topic.
//! * A PUB drops what nobody has subscribed to yet, so the publishers first repeat a
//!   `sync` message per topic until both subscribers have confirmed (over a channel)
//!   that they hear both publishers; only then does `main` let them publish. The
//!   repetition waits on the confirmation channel between rounds, not on a sleep.
//! * After its updates each publisher sends `<topic> END`; a subscriber stops when it
//!   has an END from both. `main` then shuts the context down and the proxy returns
//!   `Error::Terminated`.
//!
//! Run it with `cargo run --example pubsub_proxy`. No sleeps; the totals are
//! deterministic (the interleaving of the lines is not).

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use inproc::{Context, Error, SocketType, proxy};

const TOPICS: [&str; 2] = ["weather", "sports"];
const PUBLISHERS: usize = 2;
const UPDATES: usize = 3;

fn main() -> Result<(), Error> {
    let ctx = Context::new();
    let frontend = ctx.socket(SocketType::XSub)?;
    frontend.bind("inproc://publishers")?;
    let backend = ctx.socket(SocketType::XPub)?;
    // Unlimited windows toward the subscribers: the sync rounds can never crowd out data.
    backend.set_sndhwm(0)?;
    backend.bind("inproc://subscribers")?;

    let received = thread::scope(|s| -> Result<Vec<(String, usize)>, Error> {
        let forwarder = s.spawn(|| proxy(&frontend, &backend));

        // Subscribers: confirm each publisher once, then count their topic's updates.
        let (confirm_tx, confirm_rx) = mpsc::channel::<(usize, usize)>();
        let mut subscribers = Vec::new();
        for (k, topic) in TOPICS.into_iter().enumerate() {
            let sub = ctx.socket(SocketType::Sub)?;
            sub.set_rcvhwm(0)?;
            sub.connect("inproc://subscribers")?;
            sub.subscribe(topic)?;
            let confirm = confirm_tx.clone();
            subscribers.push(s.spawn(move || -> Result<(String, usize), Error> {
                let (mut heard, mut ended, mut updates) = (BTreeSet::new(), 0, 0);
                while ended < PUBLISHERS {
                    let msg = sub.recv()?;
                    let text = String::from_utf8_lossy(&msg.frames()[0]).into_owned();
                    let mut words = text.split(' ');
                    let (_topic, what) = (words.next(), words.next().unwrap_or(""));
                    match what {
                        "sync" => {
                            let p: usize = words.next().unwrap_or("0").parse().unwrap_or(0);
                            if heard.insert(p) {
                                confirm.send((k, p)).expect("main is listening");
                            }
                        }
                        "END" => ended += 1,
                        _ => {
                            println!("subscriber {k} ({topic}) got: {text}");
                            updates += 1;
                        }
                    }
                }
                Ok((topic.to_string(), updates))
            }));
        }
        drop(confirm_tx);

        // Publishers: sync rounds until released, then the updates.
        let mut go = Vec::new();
        let mut publishers = Vec::new();
        for p in 0..PUBLISHERS {
            let publisher = ctx.socket(SocketType::Pub)?;
            publisher.set_sndhwm(0)?;
            publisher.connect("inproc://publishers")?;
            let (go_tx, go_rx) = mpsc::channel::<()>();
            go.push(go_tx);
            publishers.push(s.spawn(move || -> Result<(), Error> {
                loop {
                    for topic in TOPICS {
                        publisher.send(format!("{topic} sync {p}"))?;
                    }
                    // Wait for the release; repeat the sync if it has not come yet.
                    match go_rx.recv_timeout(Duration::from_millis(1)) {
                        Ok(()) => break,
                        Err(mpsc::RecvTimeoutError::Timeout) => continue,
                        Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
                    }
                }
                for i in 0..UPDATES {
                    for topic in TOPICS {
                        publisher.send(format!("{topic} update {i} from publisher {p}"))?;
                    }
                }
                for topic in TOPICS {
                    publisher.send(format!("{topic} END {p}"))?;
                }
                Ok(())
            }));
        }

        // Every subscriber hears every publisher: the subscriptions are in place.
        for _ in 0..TOPICS.len() * PUBLISHERS {
            confirm_rx.recv().expect("a subscriber confirms");
        }
        for g in &go {
            g.send(()).expect("publisher waits for the release");
        }
        for p in publishers {
            p.join().expect("publisher panicked")?;
        }
        let mut received = Vec::new();
        for sub in subscribers {
            received.push(sub.join().expect("subscriber panicked")?);
        }
        ctx.shutdown();
        assert_eq!(
            forwarder.join().expect("proxy panicked"),
            Err(Error::Terminated)
        );
        Ok(received)
    })?;

    for (topic, n) in &received {
        println!("subscriber to '{topic}' received {n} updates");
        assert_eq!(*n, PUBLISHERS * UPDATES);
    }
    Ok(())
}
