#!/usr/bin/env bash
# Set up from scratch and run every check CI runs: lint, types, the test suite.
# Needs Python 3.11+ and pip; installs FFmpeg's command-line tools and Chromium with apt when
# missing (the tests build their own inputs with ffmpeg and count frames with ffprobe; the
# HTML report is checked in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
APT_UPDATED=""
apt_install() {
  [ -n "$APT_UPDATED" ] || { $SUDO apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
  apt_install ffmpeg
fi
# The HTML report is checked in a real headless browser (tests/test_report.py).
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,yaml,spark,notebook]"

.venv/bin/ruff check framesig tests benchmarks
.venv/bin/ruff format --check framesig tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest -q --doctest-modules framesig tests "$@"
