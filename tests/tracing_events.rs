//! `tracing` events (feature `tracing`; SPEC S-6), collected by a minimal hand-written
//! `Subscriber` (no tracing-subscriber). inproc builds `tracing` without its `std`
//! feature, so the collector is the global default (scoped subscribers need `std`), and
//! this file holds one test, so that no other test's events mix in. Plain `cargo test`
//! at the root runs this file (the `benches/` member turns the feature on).
#![cfg(all(feature = "tracing", not(any(loom, shuttle))))]

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use common::ep;
use inproc::{Context, SocketType};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// One event: its fields by name, as text.
type Fields = BTreeMap<String, String>;

/// Collects every event's fields.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<Fields>>>);

struct FieldText<'a>(&'a mut Fields);

impl Visit for FieldText<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl Subscriber for Collector {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        assert_eq!(event.metadata().target(), "inproc");
        let mut fields = Fields::new();
        event.record(&mut FieldText(&mut fields));
        self.0.lock().unwrap().push(fields);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

impl Collector {
    /// Takes the events seen so far, as `(event, socket_type, endpoint or reason and
    /// count)`.
    fn take(&self) -> Vec<(String, String, String)> {
        let get = |f: &Fields, k: &str| f.get(k).cloned().unwrap_or_default();
        std::mem::take(&mut *self.0.lock().unwrap())
            .iter()
            .map(|f| {
                let detail = match get(f, "event").as_str() {
                    "dropped" => format!("{} {}", get(f, "reason"), get(f, "count")),
                    "connected" => format!("{} pending={}", get(f, "endpoint"), get(f, "pending")),
                    _ => get(f, "endpoint"),
                };
                (get(f, "event"), get(f, "socket_type"), detail)
            })
            .collect()
    }
}

fn ev(event: &str, ty: &str, detail: &str) -> (String, String, String) {
    (event.to_owned(), ty.to_owned(), detail.to_owned())
}

/// S-6: "With the `tracing` feature, bind, connect (waiting for the name, then adopted
/// by the bind; or handed over to a binder), unbind, disconnect, close and every drop
/// (the routing's, and a zero-linger close's) are `tracing` events with target
/// `inproc`."
#[test]
fn s6_tracing_reports_bind_connect_close_and_drops() {
    let collector = Collector::default();
    tracing::subscriber::set_global_default(collector.clone()).unwrap();

    let name = ep("s6-trace");
    let ctx = Context::new();
    // Connect before bind: pending; the bind adopts it.
    let early = ctx.socket(SocketType::Push).unwrap();
    early.connect(&name).unwrap();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    pull.bind(&name).unwrap();
    // Connect after bind: handed over, adopted at the binder's next call.
    let late = ctx.socket(SocketType::Push).unwrap();
    late.connect(&name).unwrap();
    assert_eq!(pull.connection_count(), 2);
    late.disconnect(&name).unwrap();
    pull.unbind(&name).unwrap();
    // A PUB with no subscriber drops (no-route).
    let publisher = ctx.socket(SocketType::Pub).unwrap();
    publisher.send("nobody").unwrap();
    publisher.send("listens").unwrap();
    drop(publisher);
    drop(late);
    drop(pull);
    drop(early);
    assert_eq!(
        collector.take(),
        [
            ev("connected", "PUSH", &format!("{name} pending=true")),
            ev("bound", "PULL", &name),
            ev("accepted", "PULL", &name),
            ev("connected", "PUSH", &format!("{name} pending=false")),
            ev("accepted", "PULL", ""),
            ev("disconnected", "PUSH", &name),
            ev("unbound", "PULL", &name),
            ev("dropped", "PUB", "no-route 1"),
            ev("dropped", "PUB", "no-route 1"),
            ev("closed", "PUB", ""),
            ev("closed", "PUSH", &name),
            ev("closed", "PULL", &name),
            ev("closed", "PUSH", &name),
        ]
    );

    // A zero-linger close drops what waited for a binder: `dropped` (linger), then
    // `closed`.
    let name = ep("s6-linger");
    let push = ctx.socket(SocketType::Push).unwrap();
    push.set_linger(Some(std::time::Duration::ZERO)).unwrap();
    push.connect(&name).unwrap();
    push.send("a").unwrap();
    push.send("b").unwrap();
    drop(push);
    assert_eq!(
        collector.take(),
        [
            ev("connected", "PUSH", &format!("{name} pending=true")),
            ev("dropped", "PUSH", "linger 2"),
            ev("closed", "PUSH", &name),
        ]
    );
}
