"""Files a person looks at: keyframe JPEGs and a contact sheet of them with their times."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from framesig.decode import read_frames_rgb
from framesig.errors import FramesigError
from framesig.limits import MAX_HASH, MIN_DWELL
from framesig.signature import Signature, State

__all__ = ["write_keyframes", "contact_sheet", "format_time", "sheet_views", "SHEET_VIEWS"]


def format_time(seconds: float) -> str:
    """``H:MM:SS.mmm`` (always valid: the seconds field stays below 60).

    >>> format_time(59.9996), format_time(3600 + 61.5)
    ('0:01:00.000', '1:01:01.500')
    """
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h}:{m:02d}:{s:02d}.{ms:03d}"


SHEET_VIEWS = 3
"""At most this many of a drifting state's views get a cell of their own on the sheet."""


def sheet_views(state: State, limit: int = SHEET_VIEWS) -> list[int]:
    """Positions in ``state.views`` worth a cell on the contact sheet: views that are
    another view by ``find``'s own standard (over ``MAX_HASH`` bits from the state's hash
    and from each other) shown at least ``MIN_DWELL`` seconds from the keyframe and from
    each other, at most ``limit``, spread over the state's time. A burst gets none: its
    views are a blur, not where a flight went.

    Examples
    --------
    >>> from framesig.signature import State
    >>> views = ("f" * 16, "0" * 15 + "f", "f" * 8 + "0" * 8)  # 64, 4 and 32 bits from 0
    >>> st = State(0, "0" * 16, 0, 0.0, 0, 90, 1, 0.0, views=views, view_frames=(30, 50, 80),
    ...            view_times=(3.0, 5.0, 8.0), view_pts=(30, 50, 80))
    >>> sheet_views(st)
    [0, 2]
    """
    if state.burst or len(state.view_pts) != len(state.views) or limit <= 0:
        return []  # (views from before they had PTS cannot be found again)
    picked: list[int] = []
    keys = [int(state.hash, 16)]
    times = [state.keyframe_time]
    for k, text in enumerate(state.views):
        h, t = int(text, 16), state.view_times[k]
        if all((h ^ x).bit_count() > MAX_HASH for x in keys) and all(
            abs(t - u) >= MIN_DWELL for u in times
        ):
            picked.append(k)
            keys.append(h)
            times.append(t)
    if len(picked) > limit:
        step = (len(picked) - 1) / max(limit - 1, 1)
        picked = [picked[round(i * step)] for i in range(limit)]
    return picked


def write_keyframes(
    signature: Signature,
    source: str | os.PathLike[str] | Iterable[np.ndarray],
    out_dir: str | os.PathLike[str],
    *,
    thumb_width: int = 240,
) -> list[Path]:
    """Write each state's keyframe as ``keyframes/state_NNNN.jpg`` (removing an earlier
    run's ``state_*.jpg`` of states this signature does not have) and a contact sheet;
    the sheet also shows where drifting states went (:func:`sheet_views`).

    The frames are read again from ``source`` (by seeking where the file allows), one at
    a time, so memory holds only small thumbnails for the sheet.

    Returns
    -------
    list of Path
        The keyframe files, then the contact sheet (``contact_sheet.png``).

    Raises
    ------
    FramesigError
        When ``source`` lacks some keyframes (another or a shortened video), after writing
        the rest.
    """
    import cv2

    out = Path(out_dir)
    kdir = out / "keyframes"
    kdir.mkdir(parents=True, exist_ok=True)
    current = {f"state_{st.id:04d}.jpg" for st in signature.states}
    for old in kdir.glob("state_*.jpg"):  # an earlier run's states that this one lacks
        if old.name not in current:
            old.unlink()
    # each wanted frame's roles: (state, None) for a keyframe, (state, k) for view k
    roles: dict[int, list[tuple[State, int | None]]] = {}
    wanted = []
    for st in signature.states:
        roles.setdefault(st.keyframe, []).append((st, None))
        wanted.append((st.keyframe, st.keyframe_pts))
        for k in sheet_views(st):
            roles.setdefault(st.view_frames[k], []).append((st, k))
            wanted.append((st.view_frames[k], st.view_pts[k]))
    written: list[Path] = []
    thumbs: dict[tuple[int, int | None], np.ndarray] = {}
    fps = signature.settings.get("fps")
    for index, rgb in read_frames_rgb(source, wanted, fps=fps):
        h = max(1, round(rgb.shape[0] * thumb_width / rgb.shape[1]))
        thumb = cv2.resize(rgb, (thumb_width, h), interpolation=cv2.INTER_AREA)
        for state, view in roles[index]:
            thumbs[(state.id, view)] = thumb
            if view is None:
                path = kdir / f"state_{state.id:04d}.jpg"
                bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
                cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
                written.append(path)
    missing = [st.id for st in signature.states if (st.id, None) not in thumbs]
    for sid in missing:  # an earlier run's picture is not this signature's
        (kdir / f"state_{sid:04d}.jpg").unlink(missing_ok=True)
    sheet = contact_sheet(signature, thumbs)
    sheet_path = out / "contact_sheet.png"
    cv2.imwrite(str(sheet_path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    written.append(sheet_path)
    if missing:
        name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "frames"
        raise FramesigError(
            name,
            f"the keyframes of {len(missing)} state(s) ({_ids(missing)}) are not in it: it is "
            "not the video the signature was made from, or it was cut short since "
            "(the others and the contact sheet are written)",
        )
    return written


def _ids(ids: list[int], most: int = 5) -> str:
    shown = ", ".join(str(i) for i in ids[:most])
    return shown + (f" and {len(ids) - most} more" if len(ids) > most else "")


def contact_sheet(
    signature: Signature,
    thumbs: dict[int, np.ndarray] | dict[tuple[int, int | None], np.ndarray],
    columns: int = 6,
) -> np.ndarray:
    """A grid of keyframe thumbnails in order of first appearance, captioned
    ``state  time  (runs, frames[, burst])``, each followed by the views of
    :func:`sheet_views` that ``thumbs`` holds. ``thumbs`` is keyed by state id (keyframes
    only) or by ``(state id, None)`` for a keyframe and ``(state id, k)`` for view ``k``.
    Returns an RGB image."""
    import cv2

    cells: dict[tuple[int, int | None], np.ndarray] = {
        (k, None) if isinstance(k, int) else k: v for k, v in thumbs.items()
    }
    order: list[tuple[State, int | None]] = []
    for st in sorted(signature.states, key=lambda s: s.first_time):
        order.append((st, None))
        order += [(st, k) for k in sheet_views(st) if (st.id, k) in cells]
    if not cells:
        return np.full((40, 320, 3), 255, np.uint8)
    tw = max(t.shape[1] for t in cells.values())
    th = max(t.shape[0] for t in cells.values())
    cap = 34
    cols = max(1, min(columns, len(order)))
    rows = (len(order) + cols - 1) // cols
    sheet = np.full((rows * (th + cap) + 4, cols * (tw + 4) + 4, 3), 255, np.uint8)
    for n, (st, view) in enumerate(order):
        r, c = divmod(n, cols)
        y, x = 4 + r * (th + cap), 4 + c * (tw + 4)
        img = cells.get((st.id, view))
        if img is not None:
            sheet[y : y + img.shape[0], x : x + img.shape[1]] = img
        if view is None:
            text1 = f"state {st.id}  {format_time(st.keyframe_time)}"
            text2 = f"{st.runs} run(s), {st.frames} frames" + (", burst" if st.burst else "")
        else:
            text1 = f"state {st.id}  {format_time(st.view_times[view])}"
            text2 = "where its view went"
        cv2.putText(
            sheet, text1, (x, y + th + 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA
        )
        cv2.putText(
            sheet,
            text2,
            (x, y + th + 27),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.35,
            (90, 90, 90),
            1,
            cv2.LINE_AA,
        )
    return sheet
