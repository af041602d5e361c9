"""The commands that use signatures (`find`, `compare`, `anomalies`, `report`) on generated
flights with known routes: a frame finds its own flight and time, an unseen view finds
nothing, a same-route pair ranks above a different-route pair, and exit codes and errors."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import flightgen as fg
import pytest
from conftest import real_clip

from framesig import cli, synthetic
from framesig.use import parse_time, parse_view

# east-a and east-b fly the same route (other poses, brighter); west-a shares only place 5;
# loop-a flies 0 -> 1 -> 2 twice (a patrol).
ROUTES = {
    "east-a": dict(route=(4, 6, 5, 4), seed=11),
    "east-b": dict(route=(4, 6, 5, 4), seed=21, gain=1.05, hover_s=3.0, offset=(5, -4, 3)),
    "west-a": dict(route=(7, 3, 5, 7), seed=12),
    "loop-a": dict(route=(0, 1, 2, 0, 1, 2), seed=13),
}


@pytest.fixture(scope="module")
def flights() -> dict[str, fg.Flight]:
    return {name: fg.flight(name, **kw) for name, kw in ROUTES.items()}  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def sigdir(flights, tmp_path_factory) -> Path:
    """One folder per flight holding its signature.json (as `summarize -o` writes it)."""
    root = tmp_path_factory.mktemp("sigs")
    for name, f in flights.items():
        (root / name).mkdir()
        f.signature.save(root / name / "signature.json")
    return root


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_view_syntax():
    assert parse_view("a.mp4@12.5") == (Path("a.mp4"), 12.5)
    assert parse_view("dir/x@y.mp4@0:01:02") == (Path("dir/x@y.mp4"), 62.0)
    assert parse_view("shot.png") == (Path("shot.png"), None)
    assert parse_time("2:03.25") == 123.25
    assert parse_time("1:59.5") == 119.5 and parse_time("10:00:00") == 36000.0
    for bad in ("", "1:", "abc", "-3", "1:-2", "inf", "nan", "1:99", "1:60", "1_0", "1e3", "0x10"):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_find_a_frame_returns_its_flight_and_time(flights, sigdir, capsys):
    """A frame from the middle of each hover of east-a finds east-a at a range holding that
    time, and exactly the flights that hovered at that place."""
    f = flights["east-a"]
    visited = {name: set(g.route) for name, g in flights.items()}
    for seg in f.truth.hovers():
        place = int(str(seg["place"]))
        lo, hi = f.segment_span(int(str(seg["index"])))
        t = round((lo + hi) / 2, 2)
        got = run_json(capsys, "find", f"{f.video}@{t}", "--in", str(sigdir))
        assert got["query"] == {"video": str(f.video), "time": t}
        hits = got["hits"]
        assert {h["flight"] for h in hits} == {n for n, p in visited.items() if place in p}
        own = [h for h in hits if h["flight"] == "east-a"]
        assert own and any(a <= t < b for a, b in own[0]["ranges"]), (t, own)
        assert [h["score"] for h in hits] == sorted(h["score"] for h in hits)  # ranked
    # the text form, with an M:SS time
    lo, hi = f.hover_spans(6)[0]
    code, out, _ = run(capsys, "find", f"{f.video}@0:{(lo + hi) / 2:04.1f}", "--in", str(sigdir))
    assert code == 0
    assert "match(es) in 2 of 4 flight(s)" in out and "east-a" in out and "east-b" in out
    assert "west-a" not in out


def test_find_an_image_and_an_unseen_view(flights, sigdir, tmp_path, capsys):
    f = flights["west-a"]
    lo, hi = f.hover_spans(3)[0]
    import av

    with av.open(str(f.video)) as c:
        rgb = next(
            fr.to_ndarray(format="rgb24")
            for fr in c.decode(video=0)
            if fr.time is not None and fr.time >= (lo + hi) / 2
        )
    seen = tmp_path / "seen.png"
    cv2.imwrite(str(seen), rgb[:, :, ::-1])
    hits = run_json(capsys, "find", str(seen), "--in", str(sigdir))["hits"]
    assert [h["flight"] for h in hits] == ["west-a"]
    assert any(a <= (lo + hi) / 2 < b for a, b in hits[0]["ranges"])

    # place 8 of the same terrain: no flight went there
    frames, _ = synthetic.render(fg.route_plan((8,)), size=fg.SIZE, seed=5)
    unseen = tmp_path / "unseen.jpg"
    cv2.imwrite(str(unseen), frames[12][:, :, ::-1])
    assert run_json(capsys, "find", str(unseen), "--in", str(sigdir))["hits"] == []
    code, out, _ = run(capsys, "find", str(unseen), "--in", str(sigdir / "east-a"))
    assert code == 0 and "no match in 1 flight(s)" in out


def test_find_in_an_index_file_and_a_catalogue(flights, sigdir, tmp_path, capsys):
    from framesig.catalog import Catalog, settings_hash
    from framesig.index import FlightIndex

    f = flights["east-b"]
    lo, hi = f.hover_spans(6)[0]
    view = f"{f.video}@{(lo + hi) / 2}"
    idx = tmp_path / "all.fsidx"
    FlightIndex.from_signatures([g.signature for g in flights.values()], names=list(flights)).save(
        idx
    )
    from_index = run_json(capsys, "find", view, "--in", str(idx))["hits"]
    db = Catalog(tmp_path / "framesig.db")
    for name in ("east-a", "east-b"):
        sig = flights[name].signature
        db.record(
            path=str(flights[name].video),
            name=name,
            content_hash=name.encode().hex().ljust(32, "0"),
            size=1,
            mtime_ns=1,
            settings_hash=settings_hash(sig.settings),
            signature=sig,
            wall_s=0.1,
        )
    db.close()
    from_db = run_json(capsys, "find", view, "--in", str(tmp_path / "framesig.db"))["hits"]
    assert (
        {h["flight"] for h in from_index}
        == {h["flight"] for h in from_db}
        == {
            "east-a",
            "east-b",
        }
    )
    assert from_db[0]["flight"] == from_index[0]["flight"] == "east-b"


def test_compare_ranks_same_route_above_other_routes(flights, sigdir, capsys):
    def similarity(a: str, b: str) -> float:
        got = run_json(capsys, "compare", str(sigdir / a), str(sigdir / b))
        return float(got["comparison"]["similarity"])

    same = similarity("east-a", "east-b")
    others = [similarity("east-a", "west-a"), similarity("east-a", "loop-a")]
    assert same > 0.7 and all(same > o + 0.3 for o in others), (same, others)
    assert similarity("east-a", "east-a") == 1.0
    # a video is summarized on the way: the same answer as its signature
    got = run_json(capsys, "compare", str(sigdir / "east-a"), str(flights["east-b"].video))
    assert got["comparison"]["similarity"] == same

    code, out, _ = run(capsys, "compare", str(sigdir / "east-a"), str(sigdir / "west-a"))
    assert code == 0
    assert "similarity:" in out and "seen in A, never in B" in out and "repeats in A: none" in out


def test_compare_prints_the_repeats(flights, sigdir, capsys):
    got = run_json(capsys, "compare", str(sigdir / "loop-a"), str(sigdir / "east-a"))
    (patrol,) = [p for p in got["repeats"]["a"] if p["basis"] == "dwells"]
    assert (patrol["period"], patrol["count"]) == (3, 2)
    first = flights["loop-a"].hover_spans(0)
    assert [round(s) for s in patrol["cycle_starts"]] == [round(a) for a, _ in first]
    code, out, _ = run(capsys, "compare", str(sigdir / "loop-a"), str(sigdir / "east-a"))
    assert code == 0 and "2x a cycle of 3" in out and "cycles start" in out


def test_anomalies_against_references(flights, sigdir, tmp_path, capsys):
    got = run_json(
        capsys, "anomalies", str(sigdir / "east-a"), "--reference", str(sigdir / "west-a")
    )
    assert got["profiled"] is True  # the video is where the signature says
    new = [a for a in got["anomalies"] if a["kind"] == "new_state"]
    assert new, got  # places 4 and 6 are not on the west route
    same = run_json(
        capsys,
        "anomalies",
        str(sigdir / "east-a"),
        "--reference",
        str(sigdir / "east-b"),
        "--no-profile",
    )
    assert same["profiled"] is False and not [
        a for a in same["anomalies"] if a["kind"] in ("new_state", "missing_state")
    ]
    other = str(real_clip("drone_gopro_karma_coast_cliffs_480p30.mp4"))  # not this flight's
    code, _, err = run(capsys, "anomalies", str(sigdir / "east-a"), "--video", other)
    assert code == 1 and f"{other}: not this flight's video: " in err
    page = str(tmp_path / "r.html")
    code, _, err = run(
        capsys, "report", str(sigdir / "east-a"), "-o", page, "--video", other, "--no-anomalies"
    )
    assert code == 1 and f"{other}: not this flight's video: 854x480" in err
    own = str(flights["east-a"].video)  # its own video, given by hand, is taken
    assert run(capsys, "report", str(sigdir / "east-a"), "-o", page, "--video", own)[0] == 0
    code, out, _ = run(capsys, "anomalies", str(sigdir / "east-a"), "--no-profile")
    assert code == 0 and "0 anomalies (no reference; video not checked)" in out


def test_report_embeds_keyframes_from_every_source(flights, sigdir, tmp_path, capsys):
    from framesig.outputs import write_keyframes

    f = flights["east-a"]
    n = len(f.signature.states)
    # 1. the keyframe JPEGs of `summarize -o` beside the signature
    folder = tmp_path / "east"
    folder.mkdir()
    f.signature.save(folder / "signature.json")
    write_keyframes(f.signature, f.video, folder)
    out = tmp_path / "a.html"
    code, text, _ = run(
        capsys, "report", str(folder), "-o", str(out), "--reference", str(sigdir / "west-a")
    )
    assert code == 0 and f"wrote {out}" in text
    page = out.read_text(encoding="utf-8")
    assert page.count('<img src="data:image/jpeg;base64,') == n
    assert page.count('class="run"') == len(f.signature.runs)
    assert '<tr class="anomaly" data-kind="new_state"' in page
    # 2. no JPEGs: read again from the video
    code, _, _ = run(capsys, "report", str(sigdir / "east-a"), "-o", str(tmp_path / "b.html"))
    assert code == 0
    assert (tmp_path / "b.html").read_text().count("data:image/jpeg;base64,") == n
    # 3. the video is gone: placeholders, and the anomalies say the video was not checked
    moved = replace(f.signature, source=replace(f.signature.source, path=str(tmp_path / "no.mp4")))
    moved.save(tmp_path / "moved.sig.json")
    out = tmp_path / "c.html"
    code, text, _ = run(capsys, "report", str(tmp_path / "moved.sig.json"), "-o", str(out))
    assert code == 0 and f"{n} keyframe(s) not at hand" in text
    page = out.read_text(encoding="utf-8")
    assert "data:image" not in page and page.count('class="placeholder"') == n
    assert "the video was not at hand" in page


def test_errors_and_exit_codes(flights, sigdir, tmp_path, capsys):
    video = str(flights["east-a"].video)
    code, _, err = run(capsys, "find", f"{video}@soon", "--in", str(sigdir))
    assert code == 2 and "not a time" in err
    code, _, err = run(capsys, "find", video, "--in", str(sigdir))
    assert code == 1 and video in err and "@SECONDS" in err
    code, _, err = run(capsys, "find", str(tmp_path / "none.png"), "--in", str(sigdir))
    assert code == 1 and "none.png: no such file" in err
    code, _, err = run(capsys, "find", f"{video}@1", "--in", str(tmp_path / "nothing"))
    assert code == 1 and "nothing" in err
    code, _, err = run(capsys, "compare", str(sigdir), str(sigdir / "east-a"))
    assert code == 1 and f"{sigdir}: no signature.json and no images in it; its subfolders" in err
    assert "east-a" in err and ": name one" in err
    index_file = tmp_path / "all.fsidx"
    assert run(capsys, "index", str(sigdir), "-o", str(index_file))[0] == 0
    code, _, err = run(capsys, "compare", str(index_file), str(sigdir / "east-a"))
    assert code == 1 and "an index file of many flights, where one flight is wanted" in err
    code, _, err = run(capsys, "find", f"{video}@1:00:00", "--in", str(sigdir))
    assert code == 1 and f"{video}: 3600 s is past the end of the video (" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = run(capsys, "compare", str(bad), str(sigdir / "east-a"))
    assert code == 1 and "bad.json: not a framesig signature" in err
    code, _, err = run(capsys, "report", str(tmp_path / "gone"), "-o", str(tmp_path / "r.html"))
    assert code == 1 and "gone: no such file or folder" in err
    for argv in (
        ["find", f"{video}@1", "--in", str(sigdir), "--max-hash", "99"],
        ["compare", str(sigdir / "east-a"), str(sigdir / "east-b"), "--min-dwell", "-1"],
        ["anomalies", str(sigdir / "east-a"), "--expected-share", "0"],
        ["find", f"{video}@1"],
    ):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 2, argv
    capsys.readouterr()


def test_index_command_writes_what_find_reads(flights, sigdir, tmp_path, capsys):
    f = flights["east-b"]
    lo, hi = f.hover_spans(6)[0]
    view = f"{f.video}@{(lo + hi) / 2}"
    idx = tmp_path / "cli.fsidx"
    code, out, err = run(capsys, "index", str(sigdir), "-o", str(idx))
    assert code == 0 and idx.exists() and f"of {len(flights)} flight(s)" in out, err
    from_file = run_json(capsys, "find", view, "--in", str(idx))["hits"]
    from_sigs = run_json(capsys, "find", view, "--in", str(sigdir))["hits"]
    assert from_file == from_sigs and from_file[0]["flight"] == "east-b"
    code, _, err = run(capsys, "index", str(tmp_path / "nowhere"), "-o", str(idx))
    assert code == 1 and "nowhere" in err


def test_an_index_file_mixes_with_signatures_and_each_flight_counts_once(sigdir, tmp_path):
    from framesig.use import load_index

    names = sorted(p.name for p in sigdir.iterdir())
    one, rest = names[0], names[1:]
    index_file = tmp_path / "rest.fsidx"
    assert cli.main(["index", *(str(sigdir / n) for n in rest), "-o", str(index_file)]) == 0
    mixed = load_index([str(index_file), str(sigdir / one), str(index_file)])
    assert sorted(f.name for f in mixed.flights) == names  # the index file's flights once
    again = load_index([str(sigdir), str(sigdir / one / "signature.json"), str(sigdir / one)])
    assert sorted(f.name for f in again.flights) == names
    assert len(again) == len(mixed)  # the same states either way
    # a flight both in an index file and given as its signature: once
    both = load_index([str(index_file), *(str(sigdir / n) for n in names)])
    assert sorted(f.name for f in both.flights) == names
    # the same video recorded as a path relative to another folder: once
    import dataclasses
    import os

    from framesig import Signature

    sig = Signature.load(sigdir / one / "signature.json")
    (tmp_path / "moved").mkdir()
    relative = os.path.relpath(sig.source.path, tmp_path / "moved")
    moved = dataclasses.replace(sig, source=dataclasses.replace(sig.source, path=relative))
    moved.save(tmp_path / "moved" / "signature.json")
    twice = load_index([str(sigdir / one), str(tmp_path / "moved")])
    assert len(twice.flights) == 1


def test_two_videos_of_one_name_length_and_state_count_are_two_flights(tmp_path):
    """DJI_0001.MP4 from two days: same name, 3 s, 30 frames, one state each; not one."""
    from conftest import ffmpeg

    import framesig
    from framesig.use import load_index

    alike = set()
    for day, src in (("d1", "color=c=red:"), ("d2", "smptebars=")):
        (tmp_path / day).mkdir()
        video = tmp_path / day / "DJI_0001.MP4"
        ffmpeg("-f", "lavfi", "-i", f"{src}size=160x120:rate=10", "-t", "3", str(video))
        sig = framesig.summarize(video)
        sig.save(tmp_path / day / "signature.json")
        alike.add((sig.source.duration, sig.source.frames, len(sig.states)))
    assert len(alike) == 1  # alike in everything but the pictures and the folder
    index = load_index([str(tmp_path / "d1"), str(tmp_path / "d2")])
    assert len(index.flights) == 2
    # an SD card reused: one path, another flight each day; and one of them from an index
    import dataclasses

    for day in ("d1", "d2"):
        sig = framesig.Signature.load(tmp_path / day / "signature.json")
        src = dataclasses.replace(sig.source, path=str(tmp_path / "DJI_0001.MP4"))
        dataclasses.replace(sig, source=src).save(tmp_path / f"{day}.sig.json")
    index_file = tmp_path / "d1.fsidx"
    load_index([str(tmp_path / "d1.sig.json")]).save(index_file)
    both = load_index(
        [str(index_file), str(tmp_path / "d1.sig.json"), str(tmp_path / "d2.sig.json")]
    )
    assert len(both.flights) == 2


def test_report_leaves_out_a_recorded_video_that_is_another_flights_now(tmp_path, capsys):
    """The signature's recorded path holds another video since (replaced, or edited): the
    report says so and shows placeholders rather than that video's frames."""
    import dataclasses

    from conftest import real_clip

    import framesig

    sig = framesig.summarize(real_clip("drone_indoor_takeoff_hover_540p30.mp4"))
    other = str(real_clip("drone_gopro_karma_coast_cliffs_480p30.mp4"))
    moved = dataclasses.replace(sig, source=dataclasses.replace(sig.source, path=other))
    (tmp_path / "sig").mkdir()
    moved.save(tmp_path / "sig" / "signature.json")
    page = tmp_path / "report.html"
    code, out, err = run(capsys, "report", str(tmp_path / "sig"), "-o", str(page))
    assert code == 0 and "not this flight's video" in err and "not used" in err
    assert f"{len(sig.states)} keyframe(s) not at hand" in out
    assert "data:image/jpeg" not in page.read_text()


def test_a_video_of_the_same_size_and_length_but_other_pictures_is_not_the_flights(
    tmp_path, capsys
):
    """The recorded path now holds the flight mirrored and negated (same size, length and
    frames): left out with a note. The real video, and the video of a signature cut to
    its first frames (partial), are the flight's."""
    from conftest import ffmpeg, real_clip

    import framesig

    clip = real_clip("drone_gopro_karma_coast_cliffs_480p30.mp4")
    video = tmp_path / "flight.mp4"
    ffmpeg("-i", str(clip), "-t", "4", "-an", "-c:v", "libx264", "-preset", "ultrafast", str(video))
    framesig.summarize(video).save(tmp_path / "sig.json")
    page = tmp_path / "r.html"
    code, _, err = run(capsys, "report", str(tmp_path / "sig.json"), "-o", str(page))
    assert code == 0 and "not this flight's video" not in err
    assert "data:image/jpeg" in page.read_text()
    framesig.summarize(video, max_frames=10).save(tmp_path / "partial.json")
    code, _, err = run(
        capsys, "report", str(tmp_path / "partial.json"), "-o", str(page), "--video", str(video)
    )
    assert code == 0, err
    other = tmp_path / "other.mp4"
    ffmpeg("-i", str(video), "-vf", "negate,hflip", "-c:v", "libx264", "-preset", "ultrafast",
           str(other))  # fmt: skip
    other.replace(video)
    code, out, err = run(capsys, "report", str(tmp_path / "sig.json"), "-o", str(page))
    assert code == 0 and "are not the flight's states; not used" in err, err
    assert "data:image/jpeg" not in page.read_text()


def test_a_folder_of_images_summarized_at_its_own_rate_is_its_flights_video(tmp_path, capsys):
    """--fps 10 on a folder: report and anomalies read the folder at that rate, and find
    takes --fps for a time in it."""
    from conftest import real_clip

    seq = real_clip("drone_uav123_boat1_10fps_jpgseq")
    out = tmp_path / "sig"
    assert cli.main(["summarize", str(seq), "--fps", "10", "-o", str(out), "-q"]) == 0
    capsys.readouterr()
    page = tmp_path / "r.html"
    code, _, err = run(capsys, "report", str(out), "-o", str(page), "--video", str(seq))
    assert code == 0 and "not this flight" not in err, err
    code, _, err = run(capsys, "anomalies", str(out), "--video", str(seq))
    assert code == 0, err
    hits = run_json(capsys, "find", f"{seq}@6", "--in", str(out), "--fps", "10")
    assert hits["hits"], hits


def test_a_recorded_video_cut_short_since_is_left_out_of_the_report(tmp_path, capsys):
    from conftest import ffmpeg, real_clip

    import framesig

    clip = real_clip("drone_gopro_karma_coast_cliffs_480p30.mp4")
    video = tmp_path / "flight.mp4"
    ffmpeg("-i", str(clip), "-t", "4", "-an", "-c:v", "libx264", "-preset", "ultrafast", str(video))
    framesig.summarize(video).save(tmp_path / "sig.json")
    short = tmp_path / "short.mp4"
    ffmpeg("-i", str(video), "-t", "3.5", "-c", "copy", str(short))
    short.replace(video)  # same start, half a second less: only decoding it all tells
    page = tmp_path / "r.html"
    code, _, err = run(capsys, "report", str(tmp_path / "sig.json"), "-o", str(page))
    assert code == 0 and "frames, the signature has" in err and "not used" in err, err
    assert "data:image/jpeg" not in page.read_text()
    code, _, err = run(capsys, "anomalies", str(tmp_path / "sig.json"), "--video", str(video))
    assert code == 1 and "not this flight's video" in err
