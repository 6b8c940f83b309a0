//! Fuzz target `route`: long random sequences of routing-policy operations (the round
//! robins of PULL, PUSH and DEALER over up to 8 pipes, `Mtrie`, `TopicCounts`), each step
//! compared with the trivially correct references of `src/route/check/` (the exhaustive
//! unit tests run the same models on every short sequence). The first byte picks the
//! model; each further byte picks one of the operations applicable at that point.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    inproc::route_check::run(data);
});
