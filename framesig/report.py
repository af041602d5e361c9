"""One self-contained HTML page about one flight: timeline, keyframes, transitions, repeats,
anomalies.

The page needs nothing but itself: the CSS is inline, the timeline is an inline SVG, and the
keyframes are embedded as ``data:`` URIs (a grey placeholder with the state's number where
no keyframe image is at hand). It opens from a mail attachment or an archive as well as
from the folder it was written to, and it makes no network request.

The page reads fully without JavaScript. A short script adds what only helps on screen:
filters for the anomaly kinds (rows and timeline marks), and a click on a band of the
timeline or a row of the transitions table highlights that state's keyframe. When it has
run it sets ``data-ready="1"`` on the ``<html>`` element (the browser test waits for it).

Colours: each state gets a hue by the golden angle (137.5 degrees) from its id, so
neighbouring ids, which are usually neighbouring places, get far-apart hues, and the same
state has the same colour in every band, swatch and keyframe border of the page.

Examples
--------
>>> import numpy as np, framesig
>>> frames = [np.full((64, 64, 3), v, np.uint8) for v in [0] * 10 + [255] * 10]
>>> sig = framesig.summarize(frames, fps=10)
>>> page = render_html(sig)
>>> page.startswith("<!DOCTYPE html>"), page.count('class="run"'), "http" in page
(True, 2, False)
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from framesig.files import write_atomically
from framesig.signature import Signature, State

if TYPE_CHECKING:
    from framesig.anomaly import Anomaly, AnomalyReport
    from framesig.compare import Patrol

__all__ = [
    "state_colour",
    "render_html",
    "write_report",
    "keyframes_from_folder",
    "keyframes_from_video",
    "load_keyframes",
    "source_video",
]

MAX_TRANSITION_ROWS = 500  # a page with more rows is slow to open and no one reads them
THUMB_WIDTH = 240  # embedded keyframes are scaled to this width (a strip, not a viewer)
_W = 1000.0  # the SVG's user units across the flight
_KIND_COLOURS = {
    "new_state": "#d62728",
    "missing_state": "#9467bd",
    "order": "#e377c2",
    "decode_gap": "#7f7f7f",
    "blackout": "#222222",
    "exposure_jump": "#ff9f1c",
    "blur": "#17becf",
}
_KIND_ORDER = {k: i for i, k in enumerate(_KIND_COLOURS)}


def state_colour(state: int) -> str:
    """The colour of a state on the page (CSS ``hsl``): a golden-angle hue from its id.

    Examples
    --------
    >>> state_colour(0), state_colour(1)
    ('hsl(0.0 62% 55%)', 'hsl(137.5 62% 55%)')
    """
    hue = (state * 137.5) % 360.0
    light = (55, 42, 68)[(state // 8) % 3]  # a second cue once hues start to come round
    return f"hsl({hue:.1f} 62% {light}%)"


def _fmt(seconds: float) -> str:
    from framesig.outputs import format_time

    return format_time(seconds)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _image_uri(data: bytes) -> str:
    mime = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


# ------------------------------------------------------------------------- keyframes


def _thumb_jpeg(rgb: object, width: int) -> bytes:
    import cv2
    import numpy as np

    img = np.asarray(rgb)
    if img.shape[1] > width:
        h = max(1, round(img.shape[0] * width / img.shape[1]))
        img = cv2.resize(img, (width, h), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 82]
    )
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 image
        raise ValueError("JPEG encoding failed")
    return bytes(buf)


def keyframes_from_folder(
    sig: Signature, folder: str | os.PathLike[str], *, width: int = THUMB_WIDTH
) -> dict[int, bytes]:
    """The keyframe JPEGs that ``framesig summarize -o`` wrote (``keyframes/state_NNNN.jpg``
    under ``folder``), scaled to ``width``; states without a file are left out."""
    import cv2

    out: dict[int, bytes] = {}
    kdir = Path(folder) / "keyframes"
    for s in sig.states:
        path = kdir / f"state_{s.id:04d}.jpg"
        if not path.is_file():
            continue
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:  # a damaged file: the placeholder says more than a broken image
            continue
        out[s.id] = _thumb_jpeg(bgr[:, :, ::-1], width)
    return out


def keyframes_from_video(
    sig: Signature, video: str | os.PathLike[str], *, width: int = THUMB_WIDTH
) -> dict[int, bytes]:
    """Each state's keyframe read again from the video it was summarized from."""
    from framesig.decode import read_frames_rgb

    by_frame = {s.keyframe: s.id for s in sig.states}
    wanted = [(s.keyframe, s.keyframe_pts) for s in sig.states]
    return {
        by_frame[index]: _thumb_jpeg(rgb, width)
        for index, rgb in read_frames_rgb(video, wanted, fps=sig.settings.get("fps"))
    }


def source_video(
    sig: Signature, signature_path: str | os.PathLike[str] | None = None
) -> Path | None:
    """Where the flight's video is now: its recorded path, or that path taken from the
    signature's folder (a relative path was relative to where ``summarize`` ran); None when
    neither exists."""
    recorded = Path(sig.source.path)
    if sig.source.kind == "arrays" or not sig.source.path:
        return None
    candidates = [recorded]
    if signature_path is not None and not recorded.is_absolute():
        candidates.append(Path(signature_path).parent / recorded)
    return next((c for c in candidates if c.exists()), None)


def load_keyframes(
    sig: Signature,
    signature_path: str | os.PathLike[str] | None = None,
    *,
    video: str | os.PathLike[str] | None = None,
    width: int = THUMB_WIDTH,
    from_source: bool = True,
) -> dict[int, bytes]:
    """Keyframe images for the report: the JPEGs next to the signature when they are there,
    else frames read again from the video (``video``, or with ``from_source`` the
    signature's source when it still exists); an empty mapping when neither is at hand
    (the page shows placeholders).
    """
    found: dict[int, bytes] = {}
    if signature_path is not None:
        found = keyframes_from_folder(sig, Path(signature_path).parent, width=width)
    if len(found) == len(sig.states):
        return found
    if video is not None:
        src: Path | None = Path(video)
    else:
        src = source_video(sig, signature_path) if from_source else None
    if src is None or not src.exists():
        return found
    return {**keyframes_from_video(sig, src, width=width), **found}


# ------------------------------------------------------------------------------ page

_CSS = """
:root { font-family: system-ui, sans-serif; color: #1d1d1f; background: #fafafa; }
body { margin: 0 auto; max-width: 1200px; padding: 1em 1.5em 3em; }
h1 { font-size: 1.4em; margin: .2em 0; word-break: break-all; }
h2 { font-size: 1.1em; margin: 1.6em 0 .5em; border-bottom: 1px solid #ddd; }
.facts { color: #555; font-size: .9em; }
.facts b { color: #1d1d1f; }
.flag { background: #ffe8a3; border-radius: 3px; padding: 0 .3em; }
svg.timeline { width: 100%; height: auto; background: #fff; border: 1px solid #ddd; }
svg text { font-size: 11px; fill: #444; }
rect.run { stroke: #fff; stroke-width: .3; cursor: pointer; }
rect.run:hover { stroke: #000; stroke-width: 1; }
.strip { display: flex; flex-wrap: wrap; gap: 8px; }
figure { margin: 0; width: 244px; background: #fff; border: 1px solid #ddd; }
figure img, figure .placeholder { display: block; width: 240px; height: 135px;
  object-fit: contain; background: #222; border-left: 4px solid; }
figure .placeholder { background: #ccc; color: #555; font-size: 2em; line-height: 135px;
  text-align: center; }
figure.hl { outline: 3px solid #000; }
figcaption { font-size: .8em; padding: .3em .4em; }
table { border-collapse: collapse; font-size: .85em; background: #fff; }
th, td { border: 1px solid #ddd; padding: .2em .5em; text-align: left; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.sw { display: inline-block; width: .9em; height: .9em; vertical-align: -.1em;
  border-radius: 2px; }
.kind { color: #fff; border-radius: 3px; padding: 0 .4em; white-space: nowrap; }
tr.clickable { cursor: pointer; }
tr.clickable:hover { background: #f4f4ff; }
.none { color: #777; font-style: italic; }
#anomaly-filter label { margin-right: 1em; font-size: .9em; }
#cursor { font-variant-numeric: tabular-nums; color: #555; margin-left: 1em; }
"""

# Progressive enhancement only: everything above reads without it.
_JS = """
(function () {
  var fmt = function (s) {
    var m = Math.floor(s / 60), r = (s - 60 * m).toFixed(1);
    return m + ":" + (r < 10 ? "0" : "") + r;
  };
  var highlight = function (state) {
    document.querySelectorAll("figure.hl").forEach(function (f) { f.classList.remove("hl"); });
    var fig = document.getElementById("state-" + state);
    if (fig) { fig.classList.add("hl"); fig.scrollIntoView({block: "nearest"}); }
  };
  document.querySelectorAll("[data-state]").forEach(function (el) {
    if (el.tagName === "FIGURE") return;
    el.addEventListener("click", function () { highlight(el.getAttribute("data-state")); });
  });
  var svg = document.querySelector("svg.timeline"), out = document.getElementById("cursor");
  if (svg && out) {
    var dur = parseFloat(svg.getAttribute("data-duration")) || 0;
    svg.addEventListener("mousemove", function (ev) {
      var box = svg.getBoundingClientRect();
      out.textContent = "t = " + fmt(dur * (ev.clientX - box.left) / box.width);
    });
  }
  var filter = document.getElementById("anomaly-filter");
  var kinds = [];
  document.querySelectorAll("tr[data-kind]").forEach(function (tr) {
    var k = tr.getAttribute("data-kind");
    if (kinds.indexOf(k) < 0) kinds.push(k);
  });
  kinds.forEach(function (k) {
    var label = document.createElement("label"), box = document.createElement("input");
    box.type = "checkbox"; box.checked = true; box.setAttribute("data-kind", k);
    box.addEventListener("change", function () {
      document.querySelectorAll('[data-kind="' + k + '"]').forEach(function (el) {
        if (el !== box) el.style.display = box.checked ? "" : "none";
      });
    });
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + k.replace(/_/g, " ")));
    filter.appendChild(label);
  });
  document.documentElement.setAttribute("data-ready", "1");
})();
"""


def _x(t: float, duration: float) -> float:
    return 0.0 if duration <= 0 else round(_W * min(max(t / duration, 0.0), 1.0), 2)


def _tick_label(t: float, duration: float, step: float) -> str:
    """``M:SS`` (``H:MM:SS`` past an hour), with tenths only when the step needs them."""
    whole = step >= 1
    h, rest = divmod(t, 3600.0)
    m, s = divmod(rest, 60.0)
    sec = f"{int(round(s)):02d}" if whole else f"{s:04.1f}"
    return f"{int(h)}:{int(m):02d}:{sec}" if duration >= 3600 else f"{int(m)}:{sec}"


def _ticks(duration: float) -> list[float]:
    """Round tick times, 5 to 12 across the flight."""
    if duration <= 0:
        return [0.0]
    for step in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200):
        if duration / step <= 12:
            break
    n = int(duration // step)
    return [k * step for k in range(n + 1)]


def _timeline(sig: Signature, anomalies: Sequence[Anomaly], patrols: Sequence[Patrol]) -> str:
    dur = float(sig.source.duration)
    lanes = [("states", 12, 40)]
    y = 58
    if sig.transients:
        lanes.append(("transients", y, 8))
        y += 14
    if patrols:
        lanes.append(("repeats", y, 14 * len(patrols)))
        y += 14 * len(patrols) + 6
    # one row per anomaly kind: a long new_state stretch would hide a blackout inside it
    kinds = sorted({a.kind for a in anomalies}, key=lambda k: (_KIND_ORDER.get(k, 99), k))
    for kind in kinds:
        lanes.append((kind, y, 12))
        y += 15
    axis_y = y + 4
    height = axis_y + 18
    parts = [
        f'<svg class="timeline" viewBox="-90 0 {_W + 100:.0f} {height}" role="img" '
        f'aria-label="timeline of states" data-duration="{dur:.6f}">'
    ]
    for name, ly, _ in lanes:
        label = name.replace("_", " ")
        parts.append(f'<text x="-86" y="{ly + 10}">{_e(label)}</text>')
    for r in sig.runs:
        x0, x1 = _x(r.start_time, dur), _x(r.end_time, dur)
        parts.append(
            f'<rect class="run" data-state="{r.state}" x="{x0}" y="12" '
            f'width="{max(x1 - x0, 0.4):.2f}" height="40" fill="{state_colour(r.state)}">'
            f"<title>state {r.state}: {_fmt(r.start_time)} to {_fmt(r.end_time)} "
            f"({r.frames} frames)</title></rect>"
        )
    for name, ly, _ in lanes:
        if name == "transients":
            for tr in sig.transients:
                x0 = _x(tr.start_time, dur)
                w = max(_x(tr.end_time, dur) - x0, 1.5)
                parts.append(
                    f'<rect class="transient" x="{x0}" y="{ly}" width="{w:.2f}" height="8" '
                    f'fill="#555"><title>transient {_fmt(tr.start_time)} to '
                    f"{_fmt(tr.end_time)}</title></rect>"
                )
        elif name == "repeats":
            for k, p in enumerate(patrols):
                py = ly + 14 * k
                x0, x1 = _x(p.start_time, dur), _x(p.end_time, dur)
                parts.append(
                    f'<rect class="repeat" x="{x0}" y="{py + 2}" width="{max(x1 - x0, 1):.2f}" '
                    f'height="9" fill="#b9c8e6"><title>{p.count}x a cycle of {p.period} '
                    f"place(s), {_fmt(p.start_time)} to {_fmt(p.end_time)}</title></rect>"
                )
                for s in p.cycle_starts:
                    cx = _x(s, dur)
                    parts.append(
                        f'<line x1="{cx}" x2="{cx}" y1="{py}" y2="{py + 13}" stroke="#2b4c8c" '
                        'stroke-width="1.5"/>'
                    )
        elif name in kinds:
            for a in anomalies:
                if a.kind != name:
                    continue
                x0 = _x(a.start_time, dur)
                w = max(_x(a.end_time, dur) - x0, 2.0)
                colour = _KIND_COLOURS.get(a.kind, "#d62728")
                parts.append(
                    f'<rect class="anomaly" data-kind="{_e(a.kind)}" x="{x0}" y="{ly}" '
                    f'width="{w:.2f}" height="12" fill="{colour}" '
                    f'fill-opacity="{0.35 + 0.65 * a.score:.2f}">'
                    f"<title>{_e(a.kind)} {_fmt(a.start_time)} to {_fmt(a.end_time)}, "
                    f"score {a.score:.2f}: {_e(a.detail)}</title></rect>"
                )
    parts.append(f'<line x1="0" x2="{_W}" y1="{axis_y}" y2="{axis_y}" stroke="#888"/>')
    ticks = _ticks(dur)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    for t in ticks:
        x = _x(t, dur)
        parts.append(
            f'<line x1="{x}" x2="{x}" y1="{axis_y}" y2="{axis_y + 4}" stroke="#888"/>'
            f'<text x="{x}" y="{axis_y + 15}" text-anchor="middle">'
            f"{_tick_label(t, dur, step)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _swatch(state: int) -> str:
    return f'<span class="sw" style="background:{state_colour(state)}"></span> {state}'


def _strip(sig: Signature, keyframes: Mapping[int, bytes]) -> str:
    seconds: dict[int, float] = {}
    for r in sig.runs:
        seconds[r.state] = seconds.get(r.state, 0.0) + r.end_time - r.start_time
    figs = []
    for s in sorted(sig.states, key=lambda s: s.first_time):
        colour = state_colour(s.id)
        data = keyframes.get(s.id)
        if data:
            img = (
                f'<img src="{_image_uri(data)}" alt="keyframe of state {s.id}" '
                f'style="border-color:{colour}">'
            )
        else:
            img = (
                f'<div class="placeholder" style="border-color:{colour}" '
                f'title="no keyframe image at hand">{s.id}</div>'
            )
        figs.append(
            f'<figure id="state-{s.id}" data-state="{s.id}">{img}<figcaption>'
            f"<b>state {s.id}</b> at {_fmt(s.keyframe_time)}<br>"
            f"{s.runs} run(s), {s.frames} frames, {seconds.get(s.id, 0.0):.1f} s"
            f"{'<br>a burst of views (no place)' if s.burst else ''}"
            f"{_drift(s)}</figcaption></figure>"
        )
    return f'<div class="strip">{"".join(figs)}</div>'


def _drift(state: State) -> str:
    """Where a drifting state's view went (its views: ``find`` matches them too)."""
    if not state.views:
        return ""
    span = f"{_fmt(min(state.view_times))}-{_fmt(max(state.view_times))}"
    return f"<br>its view drifted: {len(state.views)} view(s), {span}"


def _transitions(sig: Signature) -> str:
    if not sig.transitions:
        return '<p class="none">No transitions: the flight showed one state.</p>'
    rows = []
    for t in sig.transitions[:MAX_TRANSITION_ROWS]:
        rows.append(
            f'<tr class="clickable" data-state="{t.to_state}"><td class="num">{_fmt(t.time)}</td>'
            f'<td class="num">{t.frame}</td><td>{_swatch(t.from_state)}</td>'
            f"<td>{_swatch(t.to_state)}</td><td>{_e(t.kind)}</td>"
            f"<td>{'back to a known state' if t.revisit else 'new'}</td>"
            f'<td class="num">{t.hash_distance}</td>'
            f'<td class="num">{t.hist_distance:.3f}</td></tr>'
        )
    more = len(sig.transitions) - MAX_TRANSITION_ROWS
    note = f'<p class="none">... and {more} more transitions.</p>' if more > 0 else ""
    return (
        '<table class="transitions"><thead><tr><th>time</th><th>frame</th><th>from</th>'
        "<th>to</th><th>kind</th><th>state</th><th>hash bits</th><th>histogram</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{note}"
    )


def _repeats(sig: Signature, patrols: Sequence[Patrol]) -> str:
    parts = []
    if patrols:
        rows = [
            f'<tr class="repeat"><td class="num">{p.period}</td><td class="num">{p.count}</td>'
            f"<td>{' '.join(_swatch(s) for s in p.pattern)}</td>"
            f'<td class="num">{_fmt(p.start_time)}</td><td class="num">{_fmt(p.end_time)}</td>'
            f'<td class="num">{p.cycle_seconds:.1f} s</td>'
            f"<td>{', '.join(_fmt(s) for s in p.cycle_starts)}</td><td>{_e(p.basis)}</td></tr>"
            for p in patrols
        ]
        parts.append(
            '<table class="repeats"><thead><tr><th>period</th><th>count</th><th>cycle</th>'
            "<th>from</th><th>to</th><th>one cycle</th><th>cycle starts</th><th>found on</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
    else:
        parts.append('<p class="none">No cycle was flown twice in a row.</p>')
    if sig.recurrences:
        items = "".join(
            f"<li>{len(r.pattern)} run(s) first flown at {_fmt(r.first_time)}, "
            f"again at {_fmt(r.later_time)}</li>"
            for r in sig.recurrences[:50]
        )
        parts.append(f"<p>Stretches flown again later:</p><ul>{items}</ul>")
    return "".join(parts)


def _anomalies(anomalies: Sequence[Anomaly] | None, note: str) -> str:
    if anomalies is None:
        return '<p class="none">Not checked.</p>'
    head = (
        f'<div id="anomaly-filter"></div><p class="facts">{_e(note)}</p>'
        if note
        else ('<div id="anomaly-filter"></div>')
    )
    if not anomalies:
        return head + '<p class="none">No anomaly found.</p>'
    rows = []
    for a in anomalies:
        colour = _KIND_COLOURS.get(a.kind, "#d62728")
        states = " ".join(_swatch(s) for s in a.states)
        rows.append(
            f'<tr class="anomaly" data-kind="{_e(a.kind)}"><td>'
            f'<span class="kind" style="background:{colour}">{_e(a.kind)}</span></td>'
            f'<td class="num">{_fmt(a.start_time)}</td><td class="num">{_fmt(a.end_time)}</td>'
            f'<td class="num">{a.score:.2f}</td><td>{_e(a.detail)}</td><td>{states}</td></tr>'
        )
    return (
        head + '<table class="anomalies"><thead><tr><th>kind</th><th>from</th><th>to</th>'
        "<th>score</th><th>what</th><th>states</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def render_html(
    sig: Signature,
    *,
    anomalies: AnomalyReport | Sequence[Anomaly] | None = None,
    keyframes: Mapping[int, bytes] | None = None,
    patrols: Sequence[Patrol] | None = None,
    title: str | None = None,
) -> str:
    """The report page of one flight, as a string of HTML.

    Parameters
    ----------
    sig : Signature
        The flight.
    anomalies : AnomalyReport or sequence of Anomaly, optional
        What :func:`framesig.anomaly.detect` found; None says "not checked" on the page.
    keyframes : mapping of int to bytes, optional
        JPEG or PNG bytes of each state's keyframe (see :func:`load_keyframes`); states
        without one get a placeholder.
    patrols : sequence of Patrol, optional
        The repeats to show; by default :func:`framesig.compare.repeats` of ``sig``.
    title : str, optional
        The page's heading; by default the video's file name.

    Returns
    -------
    str
        A complete HTML document with no external reference.

    Examples
    --------
    >>> import numpy as np, framesig
    >>> from framesig.anomaly import Anomaly
    >>> frames = [np.full((64, 64, 3), v, np.uint8) for v in [0] * 10 + [255] * 10]
    >>> sig = framesig.summarize(frames, fps=10)
    >>> page = render_html(sig, anomalies=[Anomaly("blur", 0.5, 0.8, 0.7, "soft")])
    >>> page.count('class="run"'), page.count('<tr class="anomaly"'), page.count("<figure")
    (2, 1, 2)
    """
    from framesig.anomaly import AnomalyReport
    from framesig.compare import repeats

    found = list(repeats(sig)) if patrols is None else list(patrols)
    note = ""
    items: list[Anomaly] | None
    if anomalies is None:
        items = None
    elif isinstance(anomalies, AnomalyReport):
        items = list(anomalies.anomalies)
        refs = len(anomalies.references)
        note = (
            f"Checked against {refs} reference flight(s)" if refs else "No reference flight"
        ) + (
            "; the video was decoded again for blackouts, blur, exposure and gaps."
            if anomalies.profiled
            else "; the video was not at hand, so blackouts, blur and gaps were not checked."
        )
    else:
        items = list(anomalies)
    src = sig.source
    name = title if title is not None else (Path(src.path).name or src.path or "flight")
    flags = [n for n in ("truncated", "estimated_timestamps", "partial") if getattr(src, n)]
    if src.skipped_packets:
        flags.append(f"{src.skipped_packets} skipped packets")
    flag_html = "".join(f' <span class="flag">{_e(f)}</span>' for f in flags)
    facts = (
        f"<b>{_e(src.codec)}</b> {src.display_width}x{src.display_height}"
        f"{f', rotated {src.rotation}' if src.rotation else ''}, {src.fps:.3g} fps, "
        f"<b>{src.frames}</b> frames, <b>{_fmt(src.duration)}</b>; "
        f"<b>{len(sig.states)}</b> states, {len(sig.runs)} runs, "
        f"{len(sig.transitions)} transitions, {len(sig.transients)} transients, "
        f"{len(found)} repeats, "
        + (f"<b>{len(items)}</b> anomalies" if items is not None else "anomalies not checked")
        + flag_html
    )
    meta = json.dumps(
        {"framesig_version": sig.framesig_version, "schema_version": sig.schema_version}
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="framesig {_e(sig.framesig_version)}">'
        f"<title>{_e(name)}: flight report</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(name)}</h1>"
        f'<p class="facts">{_e(src.path)}</p><p class="facts">{facts}</p>'
        f'<h2>Timeline <output id="cursor"></output></h2>{_timeline(sig, items or [], found)}'
        f"<h2>Keyframes</h2>{_strip(sig, keyframes or {})}"
        f"<h2>Anomalies</h2>{_anomalies(items, note)}"
        f"<h2>Repeats</h2>{_repeats(sig, found)}"
        f"<h2>Transitions</h2>{_transitions(sig)}"
        f'<script type="application/json" id="framesig-meta">{meta}</script>'
        f"<script>{_JS}</script></body></html>\n"
    )


def write_report(
    sig: Signature,
    path: str | os.PathLike[str],
    *,
    anomalies: AnomalyReport | Sequence[Anomaly] | None = None,
    keyframes: Mapping[int, bytes] | None = None,
    patrols: Sequence[Patrol] | None = None,
    title: str | None = None,
) -> Path:
    """Write :func:`render_html` to ``path`` (atomically: a temp file renamed into place).

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import numpy as np, framesig, tempfile
    >>> sig = framesig.summarize([np.zeros((64, 64, 3), np.uint8)] * 5, fps=10)
    >>> out = write_report(sig, Path(tempfile.mkdtemp()) / "report.html")
    >>> out.read_text(encoding="utf-8").count("<figure")
    1
    """
    target = Path(path)
    page = render_html(sig, anomalies=anomalies, keyframes=keyframes, patrols=patrols, title=title)
    write_atomically(target, lambda file: file.write_text(page, encoding="utf-8"))
    return target
