#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, checks formatting, runs
# swift test (Swift Testing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-test-deps.sh
swift format lint --strict --recursive Sources Tests Benchmarks/Sources Package.swift
swift build --build-tests
swift test --skip-build
