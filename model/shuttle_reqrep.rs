//! Placeholder until the issue-4 patterns land; replaced by the pattern work.
#![cfg(shuttle)]
