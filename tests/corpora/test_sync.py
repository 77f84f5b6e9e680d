"""A/V offset of real clips measured with the speech animator (known answers)."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.corpora.sync import shift_audio
from talkinghead.errors import InvalidArgumentError

GRID = "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"


def test_shift_audio_known_answer():
    y = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(
        shift_audio(y, sr=10, offset_s=0.3), [3, 4, 5, 6, 7, 8, 9, 0, 0, 0]
    )
    np.testing.assert_array_equal(
        shift_audio(y, sr=10, offset_s=-0.2), [0, 0, 0, 1, 2, 3, 4, 5, 6, 7]
    )
    assert shift_audio(y, sr=10, offset_s=0.0) is y
    # a delay undone: shifting late audio back gives the original (up to the cut tail)
    late = shift_audio(y, sr=10, offset_s=-0.4)
    np.testing.assert_array_equal(shift_audio(late, sr=10, offset_s=0.4)[:6], y[:6])


@pytest.fixture(scope="module")
def grid_clip(shared_data):
    from talkinghead.audio.io import load_audio
    from talkinghead.face.landmarks68 import mouth_openness_68
    from talkinghead.face.tracking import track_frames
    from talkinghead.video.io import read_video

    v = read_video(shared_data / GRID)
    tr = track_frames(v.frames, fps=v.fps)
    y, sr = load_audio(shared_data / GRID, sr=16000)
    return y, sr, v.fps, mouth_openness_68(tr.landmarks68), tr.valid


def test_in_sync_clip_and_a_known_delay(grid_clip):
    from talkinghead.corpora.sync import speech_sync_offset

    y, sr, fps, mouth, valid = grid_clip
    est = speech_sync_offset(y=y, sr=sr, fps=fps, mouth_open=mouth, valid=valid)
    assert abs(est.measured_s) < 0.02 and est.offset_s == 0.0 and est.r_peak > 0.6
    # delay the audio by 200 ms (silence in front): the estimate finds it, and it is reliable
    late = shift_audio(y, sr=sr, offset_s=-0.2)
    est = speech_sync_offset(y=late, sr=sr, fps=fps, mouth_open=mouth, valid=valid)
    assert est.reliable and est.offset_s == pytest.approx(0.2, abs=0.025)
    assert est.r_peak > est.r_zero + 0.3
    # and 120 ms early
    early = shift_audio(y, sr=sr, offset_s=0.12)
    est = speech_sync_offset(y=early, sr=sr, fps=fps, mouth_open=mouth, valid=valid)
    assert est.reliable and est.offset_s == pytest.approx(-0.12, abs=0.025)
    d = est.to_dict()
    assert set(d) == {"offset_s", "measured_s", "r_peak", "r_zero", "reliable"}
    with pytest.raises(InvalidArgumentError, match="mouth_open"):
        speech_sync_offset(y=y, sr=sr, fps=fps, mouth_open=mouth[:5])
