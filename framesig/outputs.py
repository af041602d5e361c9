"""Files a person looks at: keyframe JPEGs and a contact sheet of them with their times."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from framesig.decode import read_frames_rgb
from framesig.signature import Signature

__all__ = ["write_keyframes", "contact_sheet", "format_time"]


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


def write_keyframes(
    signature: Signature,
    source: str | os.PathLike[str] | Iterable[np.ndarray],
    out_dir: str | os.PathLike[str],
    *,
    thumb_width: int = 240,
) -> list[Path]:
    """Write each state's keyframe as ``keyframes/state_NNNN.jpg`` and a contact sheet.

    The frames are read again from ``source`` (by seeking where the file allows), one at
    a time, so memory holds only small thumbnails for the sheet.

    Returns
    -------
    list of Path
        The keyframe files, then the contact sheet (``contact_sheet.png``).
    """
    import cv2

    out = Path(out_dir)
    kdir = out / "keyframes"
    kdir.mkdir(parents=True, exist_ok=True)
    by_frame = {s.keyframe: s for s in signature.states}
    wanted = [(s.keyframe, s.keyframe_pts) for s in signature.states]
    written: list[Path] = []
    thumbs: dict[int, np.ndarray] = {}
    fps = signature.settings.get("fps")
    for index, rgb in read_frames_rgb(source, wanted, fps=fps):
        state = by_frame[index]
        path = kdir / f"state_{state.id:04d}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        written.append(path)
        h = max(1, round(rgb.shape[0] * thumb_width / rgb.shape[1]))
        thumbs[state.id] = cv2.resize(rgb, (thumb_width, h), interpolation=cv2.INTER_AREA)
    sheet = contact_sheet(signature, thumbs)
    sheet_path = out / "contact_sheet.png"
    cv2.imwrite(str(sheet_path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    written.append(sheet_path)
    return written


def contact_sheet(
    signature: Signature, thumbs: dict[int, np.ndarray], columns: int = 6
) -> np.ndarray:
    """A grid of keyframe thumbnails in order of first appearance, captioned
    ``state  time  (runs, frames)``. Returns an RGB image."""
    import cv2

    states = sorted(signature.states, key=lambda s: s.first_time)
    if not thumbs:
        return np.full((40, 320, 3), 255, np.uint8)
    tw = max(t.shape[1] for t in thumbs.values())
    th = max(t.shape[0] for t in thumbs.values())
    cap = 34
    cols = max(1, min(columns, len(states)))
    rows = (len(states) + cols - 1) // cols
    sheet = np.full((rows * (th + cap) + 4, cols * (tw + 4) + 4, 3), 255, np.uint8)
    for k, st in enumerate(states):
        r, c = divmod(k, cols)
        y, x = 4 + r * (th + cap), 4 + c * (tw + 4)
        img = thumbs.get(st.id)
        if img is not None:
            sheet[y : y + img.shape[0], x : x + img.shape[1]] = img
        text1 = f"state {st.id}  {format_time(st.keyframe_time)}"
        text2 = f"{st.runs} run(s), {st.frames} frames"
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
