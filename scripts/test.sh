#!/usr/bin/env bash
# The whole test suite, from a clean clone: formatting, lints, every test of every crate.
# Installs nothing beyond the Rust toolchain the machine has; add install steps here when a test
# needs more (CI runs exactly this script).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
