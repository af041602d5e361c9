"""The HTML report: what the page holds on a generated patrol with a blackout, escaping, and
the page as a real headless browser (Debian's Chromium) renders it: the script runs and
builds the anomaly filters, and a screenshot shows the timeline's colours."""

from __future__ import annotations

import colorsys
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import cv2
import flightgen as fg
import numpy as np
import pytest

import framesig
from framesig import synthetic
from framesig.anomaly import Anomaly, detect, frame_profile
from framesig.compare import repeats
from framesig.report import render_html, state_colour, write_report

FPS = 10.0
BLACK = range(48, 54)  # frames blacked out, inside the hover at place 1 (frames 40-64)


@pytest.fixture(scope="module")
def patrol():
    """0 -> 1 -> 2 flown twice, a blackout in the first hover at place 1; summarized from
    the rendered frames (no encoding), its anomalies and every keyframe as JPEG."""
    frames, _ = synthetic.render(fg.route_plan((0, 1, 2, 0, 1, 2)), size=fg.SIZE, seed=3)
    for k in BLACK:
        frames[k] = (frames[k] * 0.03).astype(np.uint8)
    sig = framesig.summarize(frames, fps=FPS)
    anomalies = detect(sig, profile=frame_profile(frames, fps=FPS))
    keyframes = {
        s.id: bytes(cv2.imencode(".jpg", frames[s.keyframe][:, :, ::-1])[1]) for s in sig.states
    }
    return sig, anomalies, keyframes


def test_the_page_holds_timeline_keyframes_transitions_repeats_anomalies(patrol):
    sig, anomalies, keyframes = patrol
    (black,) = anomalies.of_kind("blackout")
    assert black.start_time == pytest.approx(BLACK.start / FPS)
    page = render_html(sig, anomalies=anomalies, keyframes=keyframes)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count('<rect class="run"') == len(sig.runs)
    assert page.count("<figure") == len(sig.states)
    assert page.count('src="data:image/jpeg;base64,') == len(sig.states)
    assert page.count('<tr class="clickable"') == len(sig.transitions)
    assert page.count('<tr class="anomaly"') == len(anomalies.anomalies)
    assert page.count('<rect class="anomaly" data-kind="blackout"') == 1
    dwell = [p for p in repeats(sig) if p.basis == "dwells"]
    assert [(p.period, p.count) for p in dwell] == [(3, 2)]
    assert page.count('<tr class="repeat"') == len(repeats(sig))
    # self-contained: nothing is fetched, no link leaves the page
    assert not re.search(r'(?:src|href)="(?!data:)', page)
    assert "http" not in page and "@import" not in page
    # each state's colour is the same in the band and its keyframe's border
    s0 = sig.runs[0].state
    assert f'data-state="{s0}"' in page and f"border-color:{state_colour(s0)}" in page


def test_placeholders_without_keyframes_and_no_anomaly_check(patrol):
    sig, _, keyframes = patrol
    some = dict(list(keyframes.items())[:2])
    page = render_html(sig, keyframes=some)
    assert page.count("data:image/jpeg") == 2
    assert page.count('class="placeholder"') == len(sig.states) - 2
    assert "Not checked." in page and '<tr class="anomaly"' not in page
    page = render_html(sig, anomalies=[], patrols=[])
    assert "No anomaly found." in page and "No cycle was flown twice in a row." in page
    assert page.count("its view drifted") == sum(1 for st in sig.states if st.views)


def test_a_drifting_states_caption_says_where_its_view_went(patrol):
    sig, _, keyframes = patrol
    still = [replace(st, views=(), view_times=()) for st in sig.states[1:]]
    st = replace(sig.states[0], views=("0" * 16, "f" * 16), view_times=(12.0, 3.5))
    page = render_html(replace(sig, states=(st, *still)), keyframes=keyframes)
    assert page.count("its view drifted") == 1
    assert "its view drifted: 2 view(s), 0:00:03.500-0:00:12.000" in page


def test_text_from_the_files_is_escaped(patrol, tmp_path):
    sig, _, _ = patrol
    evil = "<script>alert(1)</script>&\"x'.mp4"
    bad = replace(sig, source=replace(sig.source, path=f"/v/{evil}"))
    page = render_html(
        bad, anomalies=[Anomaly("blur", 0.1, 0.2, 0.5, "<img src=x onerror=alert(2)>")]
    )
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;x&#x27;.mp4" in page
    out = write_report(bad, tmp_path / "r.html", title="a & b")
    assert "<h1>a &amp; b</h1>" in out.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temp file left


def test_long_flights_get_hour_ticks_and_a_capped_table(patrol):
    sig, _, _ = patrol
    long = replace(
        sig,
        source=replace(sig.source, duration=7300.0),
        transitions=sig.transitions * 100,
    )
    page = render_html(long, patrols=[])
    assert ">2:00:00</text>" in page and ">0:00:00</text>" in page
    assert page.count('<tr class="clickable"') == 500
    assert f"{len(sig.transitions) * 100 - 500} more transitions" in page


# ------------------------------------------------------------------ a real browser


def _chromium() -> str:
    found = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    found = found or shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(
                "chromium is missing: scripts/test.sh installs it (apt-get install chromium)"
            )
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return found


def _chromium_run(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [
        _chromium(),
        "--headless",
        "--no-sandbox",  # root in a container has no user namespace for the sandbox
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--disable-dev-shm-usage",  # containers often have a 64 MB /dev/shm
        f"--user-data-dir={profile}",
        *extra,
        page.resolve().as_uri(),
    ]
    env = {**os.environ, "HOME": str(profile)}  # nothing written to the real home
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _rgb_of_hsl(css: str) -> np.ndarray:
    h, s, lum = (float(v.rstrip("%")) for v in css[4:-1].split())
    r, g, b = colorsys.hls_to_rgb(h / 360.0, lum / 100.0, s / 100.0)
    return np.array([b, g, r]) * 255.0  # OpenCV reads BGR


def test_the_report_in_headless_chromium(patrol, tmp_path):
    sig, anomalies, keyframes = patrol
    page = write_report(sig, tmp_path / "report.html", anomalies=anomalies, keyframes=keyframes)

    dom = _chromium_run(page, tmp_path / "profile-dom", "--dump-dom").stdout
    assert re.search(r'<html[^>]*data-ready="1"', dom), dom[:500]  # the script ran to its end
    kinds = sorted({a.kind for a in anomalies.anomalies})
    boxes = re.findall(r'<input type="checkbox" data-kind="([a-z_]+)"', dom)
    assert sorted(boxes) == kinds and "blackout" in boxes  # built by the script from the rows
    assert dom.count('<rect class="run"') == len(sig.runs)
    assert dom.count('src="data:image/jpeg;base64,') == len(sig.states)

    shot = tmp_path / "shot.png"
    _chromium_run(page, tmp_path / "profile-shot", "--window-size=1200,900", f"--screenshot={shot}")
    img = cv2.imread(str(shot), cv2.IMREAD_COLOR)
    assert img is not None and img.shape == (900, 1200, 3)
    assert float(img.std()) > 20  # not a blank page
    colours = np.unique(img.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 200  # keyframe photos, not flat boxes
    # the timeline bands are drawn in each state's colour
    top = img[:400].reshape(-1, 3).astype(np.float64)
    for state in {r.state for r in sig.runs if r.end_time - r.start_time >= 1.0}:
        want = _rgb_of_hsl(state_colour(state))
        near = np.abs(top - want).max(axis=1) <= 8
        assert near.sum() > 200, (state, state_colour(state))
