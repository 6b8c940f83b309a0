//! Fuzz target `ops`: a single-threaded sequence of context and socket operations, run on
//! the library and on the sequential reference model (`model/reference.rs`, shared with
//! `tests/reference_ops.rs`); any difference, panic or hang is a finding. `Harness::run`
//! runs each input twice: once as is, and once with the readiness checks after every
//! operation (`Socket::readable`/`writable`, a zero-timeout `Poller` over all open
//! sockets, and a pending `recv_async` on each socket that is not readable, which the
//! operation must wake if it makes the socket readable; SPEC W-1, W-2, A-3).
#![no_main]

#[path = "../../model/reference.rs"]
mod reference;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use reference::{Harness, Op};

#[derive(Arbitrary, Debug, Clone, Copy)]
enum FuzzOp {
    Socket(u8),
    Close(u8),
    Bind(u8, u8),
    Unbind(u8, u8),
    Connect(u8, u8),
    Disconnect(u8, u8),
    TrySend(u8, u8),
    TryRecv(u8),
    SetSndHwm(u8, u8),
    SetRcvHwm(u8, u8),
    Shutdown,
    TrySendBatch(u8, u8),
    TryRecvBatch(u8, u8),
}

impl From<FuzzOp> for Op {
    fn from(op: FuzzOp) -> Op {
        match op {
            FuzzOp::Socket(a) => Op::Socket(a),
            FuzzOp::Close(a) => Op::Close(a),
            FuzzOp::Bind(a, b) => Op::Bind(a, b),
            FuzzOp::Unbind(a, b) => Op::Unbind(a, b),
            FuzzOp::Connect(a, b) => Op::Connect(a, b),
            FuzzOp::Disconnect(a, b) => Op::Disconnect(a, b),
            FuzzOp::TrySend(a, b) => Op::TrySend(a, b),
            FuzzOp::TryRecv(a) => Op::TryRecv(a),
            FuzzOp::SetSndHwm(a, b) => Op::SetSndHwm(a, b),
            FuzzOp::SetRcvHwm(a, b) => Op::SetRcvHwm(a, b),
            FuzzOp::Shutdown => Op::Shutdown,
            FuzzOp::TrySendBatch(a, b) => Op::TrySendBatch(a, b),
            FuzzOp::TryRecvBatch(a, b) => Op::TryRecvBatch(a, b),
        }
    }
}

fuzz_target!(|ops: Vec<FuzzOp>| {
    let ops: Vec<Op> = ops.into_iter().take(256).map(Op::from).collect();
    Harness::run(&ops);
});
