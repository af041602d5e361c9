"""Shared fixtures: real clips from ../shared and small inputs built inside the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "framesig",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("framesig")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FRAMESIG_SHARED", REPO.parent / "shared"))
REAL = SHARED / "data" / "real"


def real_clip(name: str) -> Path:
    path = REAL / name
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must have ../shared beside the checkout")
        pytest.skip(f"{path} is not here (needs ../shared/data/real)")
    return path


def real_videos() -> list[str]:
    if not REAL.exists():
        return []
    return sorted(
        p.name
        for p in REAL.iterdir()
        if p.suffix.lower() in {".mp4", ".mkv", ".webm", ".h264", ".mov"} or p.is_dir()
    )


def ffmpeg(*args: str) -> None:
    exe = shutil.which("ffmpeg")
    if exe is None:
        pytest.fail("ffmpeg is not installed (.ci/run installs it)")
    subprocess.run([exe, "-v", "error", "-y", *args], check=True, timeout=120)


def ffprobe_frames(path: Path) -> int:
    exe = shutil.which("ffprobe")
    assert exe is not None, "ffprobe is not installed"
    out = subprocess.run(
        [
            exe,
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return int(out.strip().split(",")[0])


@pytest.fixture(scope="session")
def sample_flight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo flight (the README's first command makes the same one)."""
    from framesig import synthetic

    path = tmp_path_factory.mktemp("demo") / "sample_flight.mp4"
    synthetic.write_flight(path)
    return path


@pytest.fixture(scope="session")
def base_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CASES.md BASE: 4 s testsrc at 30 fps, H.264, GOP 30, faststart."""
    path = tmp_path_factory.mktemp("base") / "base.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=30",
        "-t",
        "4",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "30",
        "-movflags",
        "+faststart",
        str(path),
    )
    return path


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
