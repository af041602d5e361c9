#!/usr/bin/env bash
# Set up from scratch and run every check CI runs: lint, types, the test suite.
# Needs Python 3.11+ and pip; installs FFmpeg's command-line tools with apt when missing
# (the tests build their own inputs with ffmpeg and count frames with ffprobe).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ffmpeg >/dev/null
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,yaml,spark]"

.venv/bin/ruff check framesig tests benchmarks
.venv/bin/ruff format --check framesig tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest -q --doctest-modules framesig tests "$@"
