"""The speech-sync QC check on a real GRID clip, as recorded and with its audio shifted."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.corpora.qc import QCConfig, clip_qc

CLIP = "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"


@pytest.fixture(scope="module")
def tracked(shared_data):
    from talkinghead.audio.io import load_audio
    from talkinghead.face.landmarks68 import mouth_openness_mesh
    from talkinghead.face.tracking import track_video

    path = shared_data / CLIP
    if not path.is_file():
        pytest.skip(f"shared clip {path} is missing")
    track = track_video(str(path), progress=False)
    y, sr = load_audio(str(path), sr=16000)
    ap = mouth_openness_mesh(np.asarray(track.mesh, dtype=np.float64))
    ap[~np.asarray(track.valid, bool)] = np.nan
    return track, ap, y, sr


def _qc(track, ap, y, sr, **cfg):
    return clip_qc(
        n_faces=track.n_faces,
        valid=track.valid,
        landmarks68=track.landmarks68,
        aperture=ap,
        fps=float(track.fps),
        y=y,
        sr=sr,
        config=QCConfig(**cfg),
    )


def test_synchronous_clip_is_accepted(tracked):
    track, ap, y, sr = tracked
    qc, _, reasons = _qc(track, ap, y, sr)
    assert reasons == []
    assert qc["speech_reliable"] is False or abs(qc["speech_offset_s"]) < 0.1
    assert qc["speech_peak_r"] > 0.5


@pytest.mark.parametrize("shift_s", [-0.32, 0.28])
def test_shifted_audio_is_set_aside(tracked, shift_s):
    """Audio moved by ``shift_s`` (negative: it leads the mouth, as in the spcnz copies)."""
    from talkinghead.evaluate.sync import shift_audio

    track, ap, y, sr = tracked
    shifted = shift_audio(y, sr=sr, offset_s=-shift_s)  # shift_audio undoes a delay
    qc, _, reasons = _qc(track, ap, shifted, sr)
    assert qc["speech_reliable"] is True
    assert abs(qc["speech_offset_s"] - shift_s) <= 0.08  # within two frames at 25 fps
    assert any(r.startswith("audio offset") for r in reasons), reasons
    # the check can be switched off (the envelope-based flags remain)
    _, _, reasons = _qc(track, ap, shifted, sr, speech_sync=False)
    assert not any(r.startswith("audio offset") for r in reasons)
