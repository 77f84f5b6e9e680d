from __future__ import annotations

import math

import numpy as np
import pytest
from export_fixtures import make_anim

from talkinghead.errors import InvalidArgumentError, MediaError
from talkinghead.export.arkit_csv import (
    LIVE_LINK_HEADER,
    format_timecode,
    parse_timecode,
    read_arkit_csv,
    write_arkit_csv,
)
from talkinghead.face.head3d import BlendshapeAnimation


def test_header_layout():
    assert len(LIVE_LINK_HEADER) == 63
    assert LIVE_LINK_HEADER[:3] == ("Timecode", "BlendShapeCount", "EyeBlinkLeft")
    assert LIVE_LINK_HEADER[2 + 17] == "JawOpen"
    assert LIVE_LINK_HEADER[53] == "TongueOut"
    assert LIVE_LINK_HEADER[54:57] == ("HeadYaw", "HeadPitch", "HeadRoll")
    assert LIVE_LINK_HEADER[-1] == "RightEyeRoll"


def test_timecode_known_answers():
    assert format_timecode(0.0, rate=60) == "00:00:00:00.000"
    assert format_timecode(1.5, rate=25) == "00:00:01:12.500"
    assert format_timecode(3723.04, rate=25) == "01:02:03:01.000"
    assert format_timecode(1 / 120, rate=60) == "00:00:00:00.500"
    assert parse_timecode("14:03:52:28.207", rate=60) == pytest.approx(
        14 * 3600 + 3 * 60 + 52 + 28.207 / 60
    )
    assert parse_timecode("00:00:01:12.500", rate=25) == pytest.approx(1.5)
    with pytest.raises(InvalidArgumentError):
        parse_timecode("1.5", rate=25)


def test_file_rows(tmp_path, anim):
    p = write_arkit_csv(tmp_path / "a.csv", anim)
    lines = p.read_text().splitlines()
    assert lines[0] == ",".join(LIVE_LINK_HEADER)
    assert len(lines) == anim.n_frames + 1
    f1 = lines[1].split(",")
    assert f1[:2] == ["00:00:00:00.000", "61"] and len(f1) == 63
    assert lines[26].split(",")[0] == "00:00:01:00.000"  # frame 25 at 25 fps
    assert lines[2].split(",")[0] == "00:00:00:02.400"  # 60 fps timecode, sub-frames
    assert float(f1[2 + 17]) == pytest.approx(anim.weights[0, 17], abs=5e-7)
    yaw = anim.euler()[0][0]
    assert float(f1[54]) == pytest.approx(yaw / math.pi, abs=5e-7)
    # eye yaw from eyeLookOutLeft - eyeLookInLeft, 1 = 30 degrees, / 180 degrees
    w = dict(zip(anim.names, anim.weights[0], strict=True))
    left_yaw = (w["eyeLookOutLeft"] - w["eyeLookInLeft"]) * 30 / 180
    right_pitch = (w["eyeLookDownRight"] - w["eyeLookUpRight"]) * 30 / 180
    assert float(f1[57]) == pytest.approx(left_yaw, abs=1e-6)
    assert float(f1[61]) == pytest.approx(right_pitch, abs=1e-6)
    assert f1[59] == f1[62] == "0.000000"  # eye roll


def _parse_live_link_face(text: str) -> tuple[list[str], list[float], np.ndarray]:
    """A Live Link Face CSV parser written from the format's description (not ours):
    header ``Timecode,BlendShapeCount,<61 names>``; each row ``HH:MM:SS:FF.mmm`` with FF
    counted at 60 per second and mmm thousandths of a frame, the count 61, 61 values."""
    import re

    rows = [r.split(",") for r in text.strip().split("\n")]
    header, body = rows[0], rows[1:]
    assert header[:2] == ["Timecode", "BlendShapeCount"] and len(header) == 63
    times = []
    for r in body:
        m = re.fullmatch(r"(\d\d):(\d\d):(\d\d):(\d\d)\.(\d\d\d)", r[0])
        assert m, r[0]
        h, mi, sec, ff, sub = (int(g) for g in m.groups())
        assert mi < 60 and sec < 60 and ff < 60 and int(r[1]) == 61
        times.append(h * 3600 + mi * 60 + sec + (ff + sub / 1000) / 60)
    return header[2:], times, np.array([[float(x) for x in r[2:]] for r in body])


@pytest.mark.parametrize("fps", [25.0, 30.0, 29.97, 60.0])
def test_live_link_face_timecode_at_60_read_by_an_independent_parser(tmp_path, fps):
    a = make_anim(n_frames=130, fps=fps)
    names, times, values = _parse_live_link_face(write_arkit_csv(tmp_path / "a.csv", a).read_text())
    assert names[:2] == ["EyeBlinkLeft", "EyeLookDownLeft"] and names[-1] == "RightEyeRoll"
    # every frame's timecode is its time k / fps to the thousandth of a 60 fps frame
    np.testing.assert_allclose(times, np.arange(130) / fps, atol=0.5 / 60000 + 1e-12)
    np.testing.assert_allclose(values[:, :52], a.weights, atol=5e-7)
    assert read_arkit_csv(tmp_path / "a.csv").fps == fps  # and ours reads it back


@pytest.mark.parametrize("fps", [25.0, 30.0, 22.131])
def test_round_trip(tmp_path, fps):
    a = make_anim(n_frames=80, fps=fps)
    p = write_arkit_csv(tmp_path / "a.csv", a)
    b = read_arkit_csv(p)
    assert b.fps == fps
    assert b.names == a.names
    expect = np.round(a.weights.astype(np.float64), 6).astype(np.float32)
    np.testing.assert_array_equal(b.weights, expect)
    for got, want in zip(b.euler(), a.euler(), strict=True):
        np.testing.assert_allclose(got, np.round(want / math.pi, 6) * math.pi, atol=1e-9)


def test_subset_names_and_errors(tmp_path):
    names = ("jawOpen", "EyeBlinkLeft")
    a = BlendshapeAnimation(fps=30, weights=np.full((3, 2), 0.25), names=names)
    b = read_arkit_csv(write_arkit_csv(tmp_path / "s.csv", a), fps=30)
    assert b.column("jawOpen").tolist() == [0.25] * 3
    assert b.column("eyeBlinkLeft").tolist() == [0.25] * 3
    assert b.weights.sum() == pytest.approx(1.5)
    bad = BlendshapeAnimation(fps=30, weights=np.zeros((3, 1)), names=("viseme_aa",))
    with pytest.raises(InvalidArgumentError, match="ARKit"):
        write_arkit_csv(tmp_path / "bad.csv", bad)
    (tmp_path / "x.csv").write_text("frame,jawOpen\n0,1\n")
    with pytest.raises(MediaError, match="Timecode"):
        read_arkit_csv(tmp_path / "x.csv")
    with pytest.raises(MediaError, match="does not exist"):
        read_arkit_csv(tmp_path / "missing.csv")
