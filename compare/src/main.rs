//! inproc against crossbeam-channel and libzmq (the system's, over `inproc://`) on the
//! same workloads in the same run: PUSH→PULL throughput at 1 B to 64 KiB, REQ/REP
//! latency, 4 → 1 fan-in and 1 → 4 PUB/SUB fan-out. Prints a markdown table of medians.
//!
//! ```text
//! cargo run --release -p inproc-compare -- [--quick] [--runs N] [nopin]
//! ```
//!
//! Receiving threads are pinned to CPU 0 and sending threads to CPU 1 (Linux), unless
//! `nopin`. `--quick` sends fewer messages and takes the median of 3 runs instead of 5.
//! See compare/README.md for how each side is set up.

mod crossbeam_side;
mod harness;
mod inproc_side;
mod ring;
mod table;
mod workload;
mod zmq_side;

use std::process::ExitCode;
use std::time::Duration;

use crate::table::Figure;
use crate::workload::{Side, Workload};

/// Printed with a command-line error.
const USAGE: &str =
    "usage: inproc-compare [--quick] [--runs N] [nopin] [--only LABEL-PREFIX] [--subs N]";

/// The command line.
#[derive(Debug, Clone)]
struct Options {
    /// Fewer messages per run.
    quick: bool,
    /// Runs per figure (its median is shown).
    runs: usize,
    /// Pin receivers to CPU 0 and senders to CPU 1.
    pin: bool,
    /// Run only the workloads whose label starts with this (`--only fan-out`).
    only: Option<String>,
}

/// Parses `[--quick] [--runs N] [nopin] [--only PREFIX] [--subs N]`, in any order.
fn parse_options() -> Result<Options, String> {
    let mut quick = false;
    let mut runs = None;
    let mut pin = true;
    let mut only = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "nopin" => pin = false,
            "--runs" => {
                let n = args.next().and_then(|n| n.parse().ok()).filter(|&n| n >= 1);
                runs = Some(n.ok_or("--runs takes a number of at least 1")?);
            }
            "--only" => only = Some(args.next().ok_or("--only takes a workload label prefix")?),
            "--subs" => {
                let n = args.next().and_then(|n| n.parse().ok()).filter(|&n| n >= 1);
                workload::set_fan_out_subs(n.ok_or("--subs takes a number of at least 1")?);
            }
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    let runs = runs.unwrap_or(if quick { 3 } else { 5 });
    Ok(Options {
        quick,
        runs,
        pin,
        only,
    })
}

/// Messages per run (round trips for latency; the total for fan-in; per subscriber for
/// fan-out), full and with `--quick`. 64 KiB messages keep more than a tenth in quick
/// runs: their first 2000 (the window, 128 MiB) fault in fresh memory.
fn message_count(workload: Workload, quick: bool) -> u64 {
    let (full, quick_count) = match workload {
        Workload::Throughput { size } if size >= 65536 => (200_000, 40_000),
        Workload::Throughput { .. } | Workload::FanIn | Workload::Batch { .. } => {
            (2_000_000, 200_000)
        }
        Workload::FanOut => (500_000, 50_000),
        Workload::Latency { .. } | Workload::PairLatency { .. } => (50_000, 10_000),
    };
    if quick { quick_count } else { full }
}

/// The CPU model from /proc/cpuinfo, and how many CPUs this process may use.
fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    format!("{model}, {cores} cores")
}

fn main() -> ExitCode {
    let opts = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let (major, minor, patch) = zmq::version();
    let pinning = if opts.pin {
        "receivers on CPU 0, senders on CPU 1"
    } else {
        "threads not pinned"
    };
    println!(
        "machine: {}; libzmq {major}.{minor}.{patch}; median of {} runs{}; {pinning}",
        machine(),
        opts.runs,
        if opts.quick { " (--quick)" } else { "" },
    );
    println!();

    // The table's column order.
    let sides: [&dyn Side; 3] = [
        &inproc_side::Inproc,
        &crossbeam_side::Crossbeam,
        &zmq_side::Zmq,
    ];
    let mut rows = Vec::new();
    for workload in Workload::ALL {
        if opts
            .only
            .as_ref()
            .is_some_and(|o| !workload.label().starts_with(o.as_str()))
        {
            continue;
        }
        let count = message_count(workload, opts.quick);
        eprintln!("running: {} ({count} messages)", workload.label());
        let mut times: [Vec<Duration>; 3] = Default::default();
        // Runs interleave the sides, so that a slow moment of the machine hits all three.
        for _ in 0..opts.runs {
            for (side, times) in sides.iter().zip(&mut times) {
                times.push(workload.run(*side, count, opts.pin));
            }
        }
        let figures = times.map(|t| Figure::from_runs(workload, count, &t));
        rows.push((workload, figures));
    }
    table::print(&rows);
    println!();
    ring::print_floor(
        message_count(Workload::Throughput { size: 1 }, opts.quick),
        opts,
    );
    ExitCode::SUCCESS
}
