//! What libzmq's two inproc perf tools share: the command line
//! (`<message-size> <count> [pin]`), thread pinning, and error exits.

use std::process::ExitCode;

/// Parsed command line.
pub(crate) struct Args {
    pub(crate) size: usize,
    pub(crate) count: u64,
    pub(crate) pin: bool,
}

/// `<message-size> <count> [pin]`, count at least 1; `None` on anything else.
pub(crate) fn parse_args() -> Option<Args> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pin = match args.len() {
        2 => false,
        3 if args[2] == "pin" => true,
        _ => return None,
    };
    let size = args[0].parse().ok()?;
    let count = args[1].parse().ok().filter(|&c: &u64| c >= 1)?;
    Some(Args { size, count, pin })
}

/// Pins the calling thread to `cpu`; returns whether that worked.
#[cfg(target_os = "linux")]
fn pin_to_cpu(cpu: usize) -> bool {
    unsafe extern "C" {
        /// glibc's wrapper; `pid` 0 is the calling thread.
        fn sched_setaffinity(pid: i32, cpusetsize: usize, mask: *const u64) -> i32;
    }
    // glibc's `cpu_set_t`: 1024 bits.
    let mut mask = [0u64; 16];
    if cpu >= 1024 {
        return false;
    }
    mask[cpu / 64] |= 1 << (cpu % 64);
    // SAFETY: `mask` is a live, initialised buffer of exactly `size_of_val(&mask)` bytes
    // that the call only reads; pid 0 affects only the calling thread.
    let rc = unsafe { sched_setaffinity(0, std::mem::size_of_val(&mask), mask.as_ptr()) };
    rc == 0
}

/// Pinning is only implemented on Linux.
#[cfg(not(target_os = "linux"))]
fn pin_to_cpu(_cpu: usize) -> bool {
    false
}

/// Pins the calling thread to `cpu` if `enabled`, saying so when that fails.
pub(crate) fn pin(enabled: bool, cpu: usize, who: &str) {
    if enabled && !pin_to_cpu(cpu) {
        println!("note: could not pin the {who} thread to CPU {cpu}; running unpinned");
    }
}

/// Prints `what` to stderr; the exit code of a failed run.
pub(crate) fn fail(what: &str) -> ExitCode {
    eprintln!("{what}");
    ExitCode::FAILURE
}
