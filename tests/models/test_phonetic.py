"""Rule-based phonetic animator: coarticulation, closures, rest, landmarks, real speech."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from talkinghead.audio import phones as phones_mod
from talkinghead.audio.io import load_audio
from talkinghead.audio.phones import SIL, AlignmentError, Phone
from talkinghead.errors import InvalidArgumentError
from talkinghead.face.landmarks68 import mouth_openness_68
from talkinghead.face.visemes import JAW_OPEN, LIP_CLOSE, LIP_ROUND, LIP_WIDTH
from talkinghead.models.phonetic import (
    DEFAULT_NEUTRAL_68,
    PhoneticAnimator,
    PhoneticConfig,
    PhoneticResult,
    animate_phones,
    articulation_to_landmarks,
)

TRANSCRIPT = (
    "Hello there. My name is Pat, and I can talk. "
    "Maybe we can build a better talking face, one word at a time."
)
GRID_CLIP = "rizkiarm__LipNet/evaluation/samples/GRID/bbaf2n.mpg"
IOD = float(np.linalg.norm(DEFAULT_NEUTRAL_68[45] - DEFAULT_NEUTRAL_68[36]))


def _seq(*spec):
    """Phones from (label, duration) pairs, back to back from 0."""
    out, t = [], 0.0
    for lab, d in spec:
        out.append(Phone(lab, t, t + d))
        t += d
    return out


def _frame(t: float, fps: float) -> int:
    return int(round(t * fps))


@pytest.fixture(scope="module")
def speech(example_speech):
    return load_audio(example_speech, sr=None)


@pytest.fixture(scope="module")
def result(speech) -> PhoneticResult:
    y, sr = speech
    return PhoneticAnimator()(y=y, sr=sr, fps=25, transcript=TRANSCRIPT)


# ----------------------------------------------------------------- synthetic phones


def test_open_vowel_opens_more_than_close_vowel():
    fps, cfg = 100.0, PhoneticConfig(lead=0.0)
    peaks = {}
    for v in ("AA", "IY", "UW"):
        art = animate_phones(
            _seq((SIL, 0.5), (v, 0.2), (SIL, 0.5)), n_frames=120, fps=fps, config=cfg
        )
        peaks[v] = art[:, JAW_OPEN].max()
        assert abs(int(np.argmax(art[:, JAW_OPEN])) - 60) <= 2  # peak at the vowel centre
        if v == "IY":
            assert art[60, LIP_WIDTH] > 0.05
        if v == "UW":
            assert art[60, LIP_ROUND] > 0.8
    assert peaks["AA"] > 2.5 * peaks["IY"]
    assert peaks["AA"] == pytest.approx(0.28, abs=0.03)  # reaches the OPEN target


def test_lead_anticipates_by_the_configured_time():
    fps = 100.0
    ph = _seq((SIL, 0.5), ("AA", 0.2), (SIL, 0.5))
    a0 = animate_phones(ph, n_frames=120, fps=fps, config=PhoneticConfig(lead=0.0))
    a8 = animate_phones(ph, n_frames=120, fps=fps, config=PhoneticConfig(lead=0.08))
    assert np.argmax(a0[:, JAW_OPEN]) - np.argmax(a8[:, JAW_OPEN]) == 8
    # the default lead is 60 ms: the mouth is already opening at the acoustic onset
    assert PhoneticConfig().lead == pytest.approx(0.06)
    ad = animate_phones(ph, n_frames=120, fps=fps)
    assert ad[50, JAW_OPEN] > 0.3 * ad[:, JAW_OPEN].max()
    assert ad[44, JAW_OPEN] > a0[44, JAW_OPEN] + 0.02


def test_bilabial_closes_between_open_vowels():
    ph = _seq((SIL, 0.3), ("AA", 0.15), ("M", 0.07), ("AA", 0.15), (SIL, 0.3))
    fps, lead = 100.0, 0.06
    centre = 0.3 + 0.15 + 0.035 - lead
    for force in (True, False):
        cfg = PhoneticConfig(force_bilabial_closure=force)
        art = animate_phones(ph, n_frames=100, fps=fps, config=cfg)
        lm = articulation_to_landmarks(art)
        mo = mouth_openness_68(lm)
        k = _frame(centre, fps)
        assert art[k, LIP_CLOSE] >= (1.0 if force else 0.95)
        assert mo[k] < 0.02
        # ...while the vowels on both sides are open
        assert mo[_frame(0.375 - lead, fps)] > 0.15 and mo[_frame(0.595 - lead, fps)] > 0.15


def test_short_bilabial_is_closed_at_25fps():
    # a 30 ms /p/ between two vowels: no frame falls inside it, the nearest one closes
    ph = _seq((SIL, 0.3), ("AE", 0.12), ("P", 0.03), ("AE", 0.12), (SIL, 0.3))
    art = animate_phones(ph, n_frames=25, fps=25)
    assert art[_frame(0.435 - 0.06, 25), LIP_CLOSE] == 1.0


def test_rest_in_long_silence_and_rest_pose():
    ph = _seq((SIL, 0.2), ("AA", 0.15), (SIL, 1.0), ("AA", 0.15), (SIL, 0.2))
    art = animate_phones(ph, n_frames=43, fps=25)
    mid = art[_frame(0.35 + 0.15, 25) : _frame(1.35 - 0.2, 25)]  # inside the pause
    np.testing.assert_allclose(mid, np.tile([0, 0, 0, 1.0], (len(mid), 1)), atol=0.02)
    # no phones at all: rest pose, and the rest pose is the neutral face
    rest = animate_phones([], n_frames=3, fps=25)
    np.testing.assert_array_equal(rest, np.tile([0, 0, 0, 1.0], (3, 1)))
    np.testing.assert_allclose(articulation_to_landmarks(rest)[1], DEFAULT_NEUTRAL_68, atol=1e-6)


def test_very_long_silence_is_stable():
    ph = _seq((SIL, 120.0), ("AA", 0.2), (SIL, 0.5))
    art = animate_phones(ph, n_frames=3020, fps=25)
    assert np.all(np.isfinite(art))
    np.testing.assert_allclose(art[:2990], np.tile([0, 0, 0, 1.0], (2990, 1)), atol=1e-3)
    assert art[3000:3006, JAW_OPEN].max() > 0.2


def test_animate_phones_errors():
    ph = _seq((SIL, 0.2))
    with pytest.raises(InvalidArgumentError, match="n_frames"):
        animate_phones(ph, n_frames=-1, fps=25)
    with pytest.raises(InvalidArgumentError, match="fps"):
        animate_phones(ph, n_frames=10, fps=0)
    with pytest.raises(InvalidArgumentError, match="ARPAbet"):
        animate_phones([Phone("QQ", 0, 1)], n_frames=10, fps=25)
    with pytest.raises(InvalidArgumentError, match="start <= end"):
        animate_phones([Phone("AA", 1, 0)], n_frames=10, fps=25)
    with pytest.raises(InvalidArgumentError, match="lead"):
        PhoneticConfig(lead=2.0)
    with pytest.raises(InvalidArgumentError, match="theta_before"):
        PhoneticConfig(theta_before=0)
    assert animate_phones(ph, n_frames=0, fps=25).shape == (0, 4)


# ----------------------------------------------------------------- landmarks


def test_jaw_open_moves_lower_lip_and_chin_only():
    lm = articulation_to_landmarks(np.array([0.2, 0.0, 0.0, 0.0]))
    d = lm - DEFAULT_NEUTRAL_68
    assert mouth_openness_68(lm) == pytest.approx(0.2, abs=1e-6)  # units of |p36-p45|
    assert d[8, 1] == pytest.approx(0.2 * IOD, rel=1e-5)  # chin drops
    assert d[57, 1] == pytest.approx(0.2 * IOD, rel=1e-5)
    assert 0 < d[4, 1] < d[6, 1] < d[8, 1] and d[12, 1] == pytest.approx(d[4, 1])
    still = [*range(0, 3), *range(14, 48), 49, 50, 51, 52, 53, 61, 62, 63]
    np.testing.assert_allclose(d[still], 0.0, atol=1e-6)
    np.testing.assert_allclose(d[:, 0], 0.0, atol=1e-6)  # jaw only moves vertically


def test_lip_close_makes_inner_lips_coincide():
    lm = articulation_to_landmarks(np.array([[0.3, 0.05, 0.3, 1.0], [0.3, 0.05, 0.3, 0.5]]))
    np.testing.assert_allclose(lm[0, [61, 62, 63]], lm[0, [67, 66, 65]], atol=1e-6)
    assert mouth_openness_68(lm)[0] == pytest.approx(0.0, abs=1e-6)
    assert mouth_openness_68(lm)[1] == pytest.approx(0.15, abs=1e-3)  # gap scaled by 1 - c


def test_width_and_rounding_change_mouth_width():
    def width(a):
        lm = articulation_to_landmarks(np.array(a, dtype=float))
        return np.linalg.norm(lm[54] - lm[48])

    w0 = width([0, 0, 0, 0])
    assert width([0, 0.1, 0, 0]) == pytest.approx(1.1 * w0)
    assert width([0, 0, 1.0, 0]) == pytest.approx(0.65 * w0)
    # rounding pouts the lips: taller outer contour
    lm0 = articulation_to_landmarks(np.array([0.1, 0, 0, 0.0]))
    lm1 = articulation_to_landmarks(np.array([0.1, 0, 1.0, 0.0]))
    assert lm1[57, 1] - lm1[51, 1] > lm0[57, 1] - lm0[51, 1]


def test_landmarks_follow_any_similarity_transform_of_the_neutral():
    rng = np.random.default_rng(0)
    art = np.c_[rng.uniform(0, 0.3, 20), rng.uniform(-0.1, 0.1, 20), rng.uniform(0, 1, (20, 2))]
    ang, s, off = 0.3, 120.0, np.array([200.0, 150.0])
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    neutral = s * DEFAULT_NEUTRAL_68 @ rot.T + off
    a = articulation_to_landmarks(art)
    b = articulation_to_landmarks(art, neutral=neutral)
    np.testing.assert_allclose(b, s * a @ rot.T + off, atol=1e-3)
    # a y-up neutral (mirrored) works too: the mouth still opens away from the eyes
    up = DEFAULT_NEUTRAL_68 * [1, -1]
    c = articulation_to_landmarks(np.array([0.2, 0, 0, 0]), neutral=up)
    assert c[66, 1] < up[66, 1]


def test_landmark_errors():
    with pytest.raises(InvalidArgumentError, match="articulation"):
        articulation_to_landmarks(np.zeros((5, 3)))
    with pytest.raises(InvalidArgumentError, match="neutral"):
        articulation_to_landmarks(np.zeros((5, 4)), neutral=np.zeros((5, 2)))
    with pytest.raises(InvalidArgumentError, match="eye corners"):
        articulation_to_landmarks(np.zeros((5, 4)), neutral=np.zeros((68, 2)))


# ----------------------------------------------------------------- real speech


def test_result_shapes(result, speech):
    y, sr = speech
    n = int(round(len(y) / sr * 25))
    assert result.n_frames == n and result.fps == 25
    assert result.articulation.shape == (n, 4)
    assert result.landmarks.shape == (n, 68, 2)
    assert result.mouth_open.shape == (n,)
    assert np.all(np.isfinite(result.landmarks))
    assert [w.label for w in result.words][:3] == ["hello", "there", "my"]
    np.testing.assert_allclose(result.mouth_open, mouth_openness_68(result.landmarks), atol=1e-6)


def test_mouth_closes_on_every_aligned_bilabial(result):
    lead = PhoneticConfig().lead
    bil = [p for p in result.phones if p.label in ("P", "B", "M")]
    assert len(bil) == 8  # my, name, pat, maybe x2, build, better, time
    closed = [result.mouth_open[_frame(p.centre - lead, 25)] < 0.01 for p in bil]
    assert all(closed)


def test_bilabial_closure_without_the_hard_constraint(speech, result):
    # the dominance model alone closes the lips (>= 90 % of the /p b m/ centres)
    cfg = PhoneticConfig(force_bilabial_closure=False)
    art = animate_phones(result.phones, n_frames=result.n_frames, fps=25, config=cfg)
    mo = mouth_openness_68(articulation_to_landmarks(art))
    bil = [p for p in result.phones if p.label in ("P", "B", "M")]
    closed = [mo[_frame(p.centre - cfg.lead, 25)] < 0.01 for p in bil]
    assert np.mean(closed) >= 0.9


def test_rest_during_silences(result):
    lead = PhoneticConfig().lead
    pauses = [p for p in result.phones if p.label == SIL and p.duration > 0.2]
    assert len(pauses) >= 4
    for p in pauses:
        ks = [k for k in range(result.n_frames) if p.start + 0.08 <= k / 25 + lead <= p.end - 0.08]
        assert ks, p
        assert result.mouth_open[ks].max() < 0.01  # lips together throughout
        # at the middle of the pause the face is back at rest (anticipation of the next
        # word, e.g. rounding before "one", may start earlier in the pause)
        k = _frame(p.centre - lead, 25)
        np.testing.assert_allclose(result.articulation[k], [0, 0, 0, 1], atol=0.03)
        np.testing.assert_allclose(result.landmarks[k], DEFAULT_NEUTRAL_68, atol=0.02 * IOD)


def test_open_vowels_open_more_than_iy(result):
    lead = PhoneticConfig().lead

    def mean_open(labels):
        v = [
            result.mouth_open[_frame(p.centre - lead, 25)]
            for p in result.phones
            if p.label in labels
        ]
        assert v
        return float(np.mean(v))

    assert mean_open({"AA", "AE", "AH", "AY", "AW"}) > 2 * mean_open({"IY", "IH"})


def test_articulation_is_smooth(result):
    jumps = np.abs(np.diff(result.articulation, axis=0)).max(axis=0)
    assert jumps[JAW_OPEN] < 0.15  # of a 0..0.28 range, per 40 ms frame
    assert jumps[LIP_WIDTH] < 0.12
    assert np.abs(np.diff(result.mouth_open)).max() < 0.2
    # per-frame motion of any landmark below 0.25 of the eye-corner distance
    step = np.linalg.norm(np.diff(result.landmarks, axis=0), axis=-1).max()
    assert step < 0.25 * IOD


@pytest.mark.parametrize("fps", [25.0, 29.97])
def test_output_length_follows_fps(speech, fps):
    y, sr = speech
    y, duration = y[: sr * 3], 3.0
    res = PhoneticAnimator()(y=y, sr=sr, fps=fps)  # phone recognition, no transcript
    assert res.n_frames == round(duration * fps)
    assert res.landmarks.shape == (round(duration * fps), 68, 2)
    res = PhoneticAnimator()(y=y, sr=sr, fps=fps, n_frames=50)
    assert res.articulation.shape == (50, 4) and res.words is None
    assert res.phones[0].label == SIL


def test_alignment_failure_falls_back_to_recognition(speech, monkeypatch):
    def fail(**kw):
        raise AlignmentError("no path")

    monkeypatch.setattr(phones_mod, "align", fail)
    y, sr = speech
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = PhoneticAnimator()(y=y[: sr * 2], sr=sr, fps=25, transcript="hello there")
    assert any("phone recognition" in str(x.message) for x in w)
    assert res.words is None and res.n_frames == 50


def test_grid_clip(shared_data):
    y, sr = load_audio(shared_data / GRID_CLIP, sr=16000)
    res = PhoneticAnimator()(y=y, sr=sr, fps=25, n_frames=75, transcript="bin blue at f two now")
    assert res.landmarks.shape == (75, 68, 2)
    assert [w.label for w in res.words] == ["bin", "blue", "at", "f", "two", "now"]
    speech_start = res.words[0].start
    assert res.mouth_open[: _frame(speech_start - 0.2, 25)].max() < 0.01  # rest before "bin"
    # mouth opening follows the loudness envelope (measured r = 0.46 on this clip)
    hop = sr // 25
    y = np.pad(y, (0, max(0, 75 * hop - len(y))))
    rms = np.sqrt(np.mean(y[: 75 * hop].reshape(75, hop) ** 2, axis=1))
    assert np.corrcoef(res.mouth_open, rms)[0, 1] > 0.3
