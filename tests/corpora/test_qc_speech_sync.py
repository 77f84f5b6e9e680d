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
    from talkinghead.corpora.sync import shift_audio

    track, ap, y, sr = tracked
    shifted = shift_audio(y, sr=sr, offset_s=-shift_s)  # shift_audio undoes a delay
    qc, _, reasons = _qc(track, ap, shifted, sr)
    assert qc["speech_reliable"] is True
    assert abs(qc["speech_offset_s"] - shift_s) <= 0.08  # within two frames at 25 fps
    assert any(r.startswith("audio offset") for r in reasons), reasons
    # the check can be switched off (the envelope-based flags remain)
    _, _, reasons = _qc(track, ap, shifted, sr, speech_sync=False)
    assert not any(r.startswith("audio offset") for r in reasons)


def test_sync_verdict_rules():
    from talkinghead.corpora.qc import sync_verdict

    qc = {"speech_offset_s": -0.3, "speech_reliable": True, "speech_peak_r": 0.8,
          "speech_zero_r": 0.2, "av_offset_s": 0.0}  # fmt: skip
    # a 3 s sentence: the speech-sync offset alone rejects
    assert sync_verdict(qc, duration_s=3.0)[1][0].startswith("audio offset=-300 ms")
    # a 1.5 s word: the envelope (0 ms) does not confirm it -> flagged only
    assert sync_verdict(qc, duration_s=1.5) == (["speech_offset"], [])
    # ... unless it agrees within 120 ms
    assert sync_verdict({**qc, "av_offset_s": -0.36}, duration_s=1.5)[1]
    # small or unreliable offsets pass
    assert sync_verdict({**qc, "speech_offset_s": 0.12}, duration_s=3.0) == ([], [])
    assert sync_verdict({**qc, "speech_reliable": False}, duration_s=3.0) == ([], [])


def test_requalify_rewrites_status(tmp_path):
    import json

    from talkinghead.corpora.manifest import write_jsonl
    from talkinghead.corpora.pipeline import requalify

    base = {"speech_reliable": True, "speech_peak_r": 0.8, "speech_zero_r": 0.2,
            "av_offset_s": 0.0, "valid_fraction": 1.0}  # fmt: skip
    clips = [
        # rejected by an older rule, a 1.5 s word: now only flagged
        {"id": "a", "recording": "a", "path": "arrays/a.npz", "n_frames": 38, "fps": 25.0,
         "qc": {**base, "speech_offset_s": -0.38}, "flags": [], "status": "rejected",
         "reasons": ["audio offset -380 ms (old)"]},
        # a 3 s sentence offset by 300 ms: rejected
        {"id": "b", "recording": "b", "path": "arrays/b.npz", "n_frames": 75, "fps": 25.0,
         "qc": {**base, "speech_offset_s": 0.3}, "flags": [], "status": "ok", "reasons": []},
        # no face: stays rejected
        {"id": "c", "recording": "c", "path": None, "n_frames": 75, "fps": 25.0,
         "qc": {**base, "speech_offset_s": 0.0}, "flags": [], "status": "rejected",
         "reasons": ["no face found in any frame"]},
    ]  # fmt: skip
    write_jsonl(tmp_path / "clips.jsonl", clips)
    write_jsonl(tmp_path / "recordings.jsonl", [{"id": k, "video": k} for k in "abc"])
    assert requalify(tmp_path) == {"clips": 3, "changed": 2, "rejected": 2}
    got = {c["id"]: c for c in map(json.loads, open(tmp_path / "clips.jsonl"))}
    assert got["a"]["status"] == "ok" and got["a"]["flags"] == ["speech_offset"]
    assert got["b"]["status"] == "rejected" and got["b"]["reasons"][0].startswith("audio offset")
    assert got["c"]["reasons"] == ["no face found in any frame"]
    assert (tmp_path / "qc_summary.txt").is_file() and (tmp_path / "rejected.jsonl").is_file()
