"""The shipped mouth model on real speech with known words (GRID s1 + alignments).

"oo" rounds (funnel/pucker up, width down), "ee" spreads (stretch/smile, width up), /p b m/
close the lips, >= 25 ARKit channels move, and the exports of one run agree (landmarks,
blendshapes, Rhubarb cues: no open jaw where the cues say rest).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from talkinghead.models.mouth import MOUTH_DIR

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "grid_s1"
# GRID s1 sentences ("place blue in u eight now", ...): vowels and bilabials in known words
CLIPS = ["bgbb2p", "bgbu3s", "pbbp3s", "pgbe3s", "bbbm2p", "bbiz2p", "pbiu8n", "bbaf2n"]
OO = {"blue", "two", "soon", "u", "q", "you"}
EE = {"green", "three", "please", "e", "b", "d", "g", "p", "t", "v", "z"}
BILABIAL_START = {"bin", "by", "blue", "place", "please", "b", "p"}

pytestmark = pytest.mark.skipif(
    not (MOUTH_DIR / "config.json").is_file(), reason="the mouth model is not shipped"
)


def _words(name):
    out = []
    for line in (DATA / "align" / f"{name}.align").read_text().split("\n"):
        p = line.split()
        if len(p) == 3:
            out.append((p[2], int(p[0]) / 25000.0, int(p[1]) / 25000.0))
    return out


@pytest.fixture(scope="module")
def runs():
    if not (DATA / "align").is_dir():
        pytest.skip(f"GRID s1 clips not found at {DATA}")
    from talkinghead import animate
    from talkinghead.audio.io import load_audio

    out = []
    for name in CLIPS:
        v = DATA / "video" / f"{name}.mpg"
        if not v.is_file():
            v = DATA / "video" / f"{name}.mp4"
        if not v.is_file():
            continue
        y, sr = load_audio(v, sr=16000)
        a = animate(y, sr=sr, fps=25.0)
        out.append((name, a, y, sr))
    if len(out) < 4:
        pytest.skip("too few GRID s1 clips found")
    return out


def _segments(runs, words, part=None):
    """Frames inside the given words, pooled: list of (anim, frame mask)."""
    segs = []
    for name, a, _, _ in runs:
        t = np.arange(a.n_frames) / a.fps
        for w, s, e in _words(name):
            if w in words:
                if part == "onset":
                    s, e = s - 0.04, s + 0.08
                segs.append((a, (t >= s) & (t < e)))
    return segs


def _mean(segs, fn):
    return float(np.mean([fn(a)[m].mean() for a, m in segs if m.any()]))


def _ch(name):
    from talkinghead.face.arkit import ARKIT_INDEX

    return lambda a: a.blendshapes[:, ARKIT_INDEX[name]]


def _width(a):
    lm = a.landmarks
    return np.linalg.norm(lm[:, 54] - lm[:, 48], axis=-1) / np.linalg.norm(
        lm[:, 45] - lm[:, 36], axis=-1
    )


def test_default_is_the_mouth_model(runs):
    a = runs[0][1]
    assert a.articulation.shape[1] == 7 and a.articulation_names[-1] == "smile"


def test_oo_rounds_and_ee_spreads(runs):
    oo, ee = _segments(runs, OO), _segments(runs, EE)
    assert len(oo) >= 4 and len(ee) >= 4
    assert _mean(oo, _width) < _mean(ee, _width)  # width down on "oo", up on "ee"
    pucker = lambda a: _ch("mouthPucker")(a) + _ch("mouthFunnel")(a)  # noqa: E731
    assert _mean(oo, pucker) > _mean(ee, pucker)
    spread = lambda a: _ch("mouthStretchLeft")(a) + _ch("mouthSmileLeft")(a)  # noqa: E731
    assert _mean(ee, spread) > _mean(oo, spread)


def _bilabials_closed(runs):
    """(closed, n): the aligned /p b m/ of ``runs`` (name, animation, y, sr) whose lips the
    animation closes (the protocol's metric; the transcript only finds the /p b m/)."""
    from talkinghead.audio import phones as ph
    from talkinghead.evaluate.metrics import bilabial_closure_rate

    closed, n = 0.0, 0
    for name, a, y, sr in runs:
        words = [w for w, _, _ in _words(name) if w not in ("sil", "sp")]
        phones = ph.align(y=y, sr=sr, transcript=" ".join(words)).phones
        rate, k = bilabial_closure_rate(a.mouth_open, phones, fps=a.fps)
        closed, n = closed + rate * k if k else closed, n + k
    return closed, n


def test_bilabials_close_without_a_transcript(runs):
    """The protocol's closure metric: the transcript is only used to find the /p b m/."""
    closed, n = _bilabials_closed(runs)
    # measured 20 of 24 (0.83) with the shipped 5-network model (session 7; GRID s1 is one of
    # its training speakers, other sentences; the session-3 model 17 of 24, the ridge read-out
    # 19 of 24): the 90 % is not reached without a transcript (docs/default_model.md)
    assert n >= 10 and closed / n >= 0.8
    on = _segments(runs, BILABIAL_START, part="onset")
    close = lambda a: _ch("mouthClose")(a) + _ch("mouthPressLeft")(a)  # noqa: E731
    assert _mean(on, close) > _mean(_segments(runs, OO | EE), close)


def test_many_channels_move_on_speech(runs):
    from talkinghead.face.arkit import ARKIT_NAMES

    w = np.concatenate([a.blendshapes for _, a, _, _ in runs])
    moving = [n for i, n in enumerate(ARKIT_NAMES) if w[:, i].std() > 0.005]
    assert len(moving) >= 25, moving


def test_exports_agree_no_open_jaw_where_cues_rest(runs):
    from talkinghead.export.cues import phones_to_rhubarb
    from talkinghead.face.arkit import ARKIT_INDEX

    for name, a, _, _ in runs[:4]:
        bs = a.blendshapes
        jaw = bs[:, ARKIT_INDEX["jawOpen"]]
        # landmarks and blendshapes come from the same prediction
        assert np.corrcoef(jaw, a.mouth_open)[0, 1] > 0.95
        # the drawn inner-lip gap is the articulation's opening (+ the neutral face's own gap)
        m = a.articulation[:, 3] == 0
        assert np.std(a.mouth_open[m] - a.articulation[m, 0]) < 2e-3
        t = np.arange(a.n_frames) / a.fps
        rest = np.zeros(a.n_frames, bool)
        for c in phones_to_rhubarb(list(a.phones)):
            if c.value == "X":
                rest |= (t >= c.start + 0.1) & (t < c.end - 0.1)  # inside, away from edges
        if rest.sum() < 3:
            continue
        speech = ~rest
        # no open jaw where the cues say rest: below the speech's typical opening
        assert np.median(jaw[rest]) < np.median(jaw[speech]), name
        assert np.percentile(jaw[rest], 90) < 0.3, name


def test_whisper_closures_close_the_bilabials_and_change_nothing_else(runs):
    """``closures="whisper"``: the shipped classifier on Whisper frames closes the lips on
    the aligned /p b m/ (the default model alone: >= 0.8 above); it only closes (never opens
    the mouth or the jaw wider; the jaw's blendshape closes where the lips do), and leaves
    the upper face (brows, eyes, nose; their blendshapes) as the default draws it."""
    pytest.importorskip("ctranslate2")
    from talkinghead import animate
    from talkinghead.face.arkit import ARKIT_INDEX

    upper = [i for n, i in ARKIT_INDEX.items() if n.startswith(("eye", "brow"))]
    shut_runs = []
    for name, a, y, sr in runs:
        c = animate(y, sr=sr, fps=25.0, closures="whisper")
        shut_runs.append((name, c, y, sr))
        assert np.all(c.mouth_open <= a.mouth_open + 1e-6)
        np.testing.assert_array_equal(c.landmarks[:, 17:48], a.landmarks[:, 17:48])
        np.testing.assert_array_equal(c.blendshapes[:, upper], a.blendshapes[:, upper])
        jo = ARKIT_INDEX["jawOpen"]  # the blendshapes close with the landmarks
        assert np.all(c.blendshapes[:, jo] <= a.blendshapes[:, jo] + 1e-6)
        shut = c.mouth_open < a.mouth_open - 0.02
        assert np.all(c.blendshapes[shut, jo] < a.blendshapes[shut, jo])
    closed, n = _bilabials_closed(shut_runs)
    assert n >= 10 and closed / n >= 0.9  # measured 24 of 24 (session 13; the default 20)
