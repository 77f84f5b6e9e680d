"""The mouth's degrees of freedom: measured on a real tracked face, drawn on landmarks and
turned into ARKit weights in their named directions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError
from talkinghead.face.arkit import ARKIT_INDEX
from talkinghead.face.articulation import (
    ARTICULATION_NAMES,
    DOF_NAMES,
    DofStats,
    clip_zscores,
    dofs_to_articulation,
    mesh_dofs,
)
from talkinghead.face.landmarks68 import mouth_openness_68, mouth_openness_mesh
from talkinghead.models.blendshape_bridge import articulation_to_blendshapes
from talkinghead.models.phonetic import articulation_to_landmarks

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CLIP = DATA / "grid_s1" / "video" / "pbiu8n.mp4"  # "place blue in u eight now"


def _words(align: Path):
    out = []
    for line in align.read_text().split("\n"):
        p = line.split()
        if len(p) == 3:
            out.append((p[2], int(p[0]) / 25000.0, int(p[1]) / 25000.0))
    return out


@pytest.fixture(scope="module")
def tracked():
    if not CLIP.is_file():
        pytest.skip(f"real GRID clip not found at {CLIP}")
    pytest.importorskip("mediapipe")
    from talkinghead.evaluate.truth import track_mesh

    mesh, valid, fps = track_mesh(CLIP)
    return mesh, valid, fps


def test_dofs_of_a_real_face(tracked):
    mesh, valid, fps = tracked
    d = mesh_dofs(mesh, valid)
    assert d.shape == (len(mesh), len(DOF_NAMES))
    ok = valid & np.isfinite(d).all(1)
    assert ok.mean() > 0.9
    # the opening is exactly the evaluation's truth; the width its corner distance
    np.testing.assert_allclose(d[ok, 0], mouth_openness_mesh(mesh[ok]), rtol=1e-9)
    m = mesh[ok].astype(np.float64)
    w = np.linalg.norm(m[:, 61] - m[:, 291], axis=-1)
    w /= np.linalg.norm(m[:, 33] - m[:, 263], axis=-1)
    np.testing.assert_allclose(d[ok, 1], w, rtol=1e-9)
    # plausible magnitudes in eye-corner units: mouth about 0.5-0.8 wide, opening < 0.5
    assert 0.4 < np.median(d[ok, 1]) < 0.9 and np.nanmax(d[:, 0]) < 0.5
    # real speech: "blue" (rounded UW) is narrower than "eight" (spread EY)
    t = np.arange(len(mesh)) / fps
    words = {w: (a, b) for w, a, b in _words(DATA / "grid_s1" / "align" / "pbiu8n.align")}

    def mean_in(word, k):
        a, b = words[word]
        m = ok & (t >= a) & (t < b)
        return float(np.mean(d[m, k]))

    assert mean_in("blue", 1) < mean_in("eight", 1)
    # silence at the start: the mouth is nearly closed (a small opening, below speech's mean)
    assert mean_in("sil", 0) < np.nanmean(d[ok, 0])


def test_zscores_and_stats(tracked):
    mesh, valid, fps = tracked
    d = mesh_dofs(mesh, valid)
    z, mu, sd = clip_zscores(d)
    ok = np.isfinite(z).all(1)
    np.testing.assert_allclose(z[ok].mean(0), 0, atol=1e-9)
    np.testing.assert_allclose(z[ok].std(0), 1, atol=1e-6)
    silent = np.zeros(len(d), bool)
    silent[:15] = True  # the clip's leading silence (0.68 s)
    st = DofStats.fit([d, d], [silent, silent])
    assert st.rest_z[0] < -0.3  # rest: the mouth less open than in speech
    assert DofStats.from_dict(st.to_dict()) == st
    with pytest.raises(InvalidArgumentError, match="mean"):
        DofStats([0.0] * 5, [1.0] * 6, [0.0] * 6)


def _stats():
    return DofStats(
        mean=[0.08, 0.6, 0.0, 0.0, 0.0, 0.0],
        std=[0.05, 0.04, 0.012, 0.015, 0.01, 0.01],
        rest_z=[-1.2, -0.4, 0.0, 0.0, 0.0, 0.0],
    )


def test_articulation_draws_the_predicted_opening_and_width():
    from talkinghead.face.normalize import neutral_face_68

    T = 7
    z = np.zeros((T, 6))
    z[:, 0] = np.linspace(-1.5, 3, T)  # opening
    z[:, 1] = np.linspace(2, -2, T)  # spread -> narrow
    art = dofs_to_articulation(z, _stats())
    assert art.shape == (T, len(ARTICULATION_NAMES)) and art.dtype == np.float32
    lm = articulation_to_landmarks(art, neutral=neutral_face_68())
    # the 68-point inner-lip gap is the predicted opening (where the lips are not closed)
    open_ = np.clip(0.08 + 0.05 * z[:, 0], 0, 0.45)
    m = art[:, 3] == 0
    diff = mouth_openness_68(lm)[m] - open_[m]  # + the neutral face's own small gap
    assert abs(diff.mean()) < 5e-3 and diff.std() < 1e-4
    # mouth width follows the predicted width (despite the narrowing rounding draws)
    width = np.linalg.norm(lm[:, 54] - lm[:, 48], axis=-1)
    assert np.all(np.diff(width) < 0)
    ratio = (0.6 + 0.04 * z[:, 1]) / 0.6
    np.testing.assert_allclose(width / width[3], ratio / ratio[3], rtol=1e-3)
    assert art[-1, 2] > art[0, 2]  # narrowing rounds


def test_silence_gate_rests_every_dof():
    z = np.random.default_rng(0).standard_normal((50, 6)) * 2
    art = dofs_to_articulation(z, _stats(), gate=np.zeros(50))
    rest = dofs_to_articulation(np.tile(_stats().rest_z, (50, 1)), _stats())
    np.testing.assert_allclose(art, rest)
    # the real faces' rest: a small opening, not closed and not open
    assert 0.0 < art[0, 0] < 0.04
    with pytest.raises(InvalidArgumentError, match="gate.shape"):
        dofs_to_articulation(z, _stats(), gate=np.zeros(3))


def test_blendshape_channels_in_their_named_directions():
    s = _stats()

    def bs(**dof):
        z = np.zeros((1, 6))
        for k, v in dof.items():
            z[0, DOF_NAMES.index(k)] = v
        return articulation_to_blendshapes(dofs_to_articulation(z, s))[0]

    def ch(w, name):
        return float(w[ARKIT_INDEX[name]])

    base = bs()
    oo, ee, mm = bs(width=-2.5, protrude=2.5), bs(width=2.5), bs(open=-3)
    smile, frown = bs(smile=2.5), bs(smile=-2.5)
    up, down = bs(upper_up=2.5, open=1), bs(lower_down=2.5, open=1)
    # "oo" rounds: funnel/pucker up
    assert ch(oo, "mouthPucker") > ch(base, "mouthPucker") + 0.2
    assert ch(oo, "mouthFunnel") > ch(base, "mouthFunnel")
    # "ee" spreads: stretch and smile up
    for side in ("Left", "Right"):
        assert ch(ee, f"mouthStretch{side}") > ch(base, f"mouthStretch{side}") + 0.2
        # a 2.5-sd speech smile is a quarter of the head's full smile (SMILE_AT_ONE)
        assert ch(smile, f"mouthSmile{side}") > ch(base, f"mouthSmile{side}") + 0.2
        assert ch(frown, f"mouthFrown{side}") > 0.2 and ch(smile, f"mouthFrown{side}") == 0
        assert ch(smile, f"cheekSquint{side}") > 0 and ch(smile, f"mouthDimple{side}") > 0
        assert ch(up, f"mouthUpperUp{side}") > ch(bs(open=1), f"mouthUpperUp{side}") + 0.3
        assert ch(up, f"noseSneer{side}") > 0
        assert ch(down, f"mouthLowerDown{side}") > ch(bs(open=1), f"mouthLowerDown{side}") + 0.3
        # "m" closes: lips pressed
        assert ch(mm, f"mouthPress{side}") > 0.3
    assert ch(mm, "jawOpen") < 0.05 < ch(base, "jawOpen")
    assert ch(mm, "mouthRollLower") > 0 and ch(mm, "mouthRollUpper") > 0
    assert ch(bs(upper_up=-2.5), "mouthRollUpper") > 0.3  # lowered: rolled in, not shrugged up
    assert ch(bs(upper_up=-2.5), "mouthShrugUpper") == 0
    assert ch(bs(lower_down=-2.5), "mouthShrugLower") > 0.3
    # the 4-column articulation of the rule-based animator still maps as before
    w4 = articulation_to_blendshapes(np.array([[0.2, 0.1, 0.0, 0.0]]))
    assert w4.shape == (1, 52) and w4[0, ARKIT_INDEX["mouthFrownLeft"]] == 0
    with pytest.raises(InvalidArgumentError, match="articulation.shape"):
        articulation_to_blendshapes(np.zeros((2, 5)))


def test_rounding_alone_does_not_stretch():
    """Rounding draws a narrowing (ROUND_NARROWING * lip_round): it must never exceed the
    predicted narrowing, else lip_width has to widen it back and the head spreads
    (mouthStretch) on "oo" (session 6: the 5-seed candidate stretched more on "oo" than "ee")."""
    s = _stats()

    def run(z):
        art = dofs_to_articulation(z, s)
        return art, articulation_to_blendshapes(art)

    stretch = ARKIT_INDEX["mouthStretchLeft"]
    # protrusion alone (mean width): no spread at all, whatever its strength
    z = np.zeros((5, 6))
    z[:, DOF_NAMES.index("protrude")] = np.linspace(0, 4, 5)
    art, w = run(z)
    assert np.all(w[:, stretch] == 0) and np.all(art[:, 1] <= 1e-6)
    # rounding with narrowing: never spreads; the drawn rounding stays within the narrowing
    g = np.linspace(0, 4, 9)
    zz = np.zeros((81, 6))
    zz[:, DOF_NAMES.index("width")] = -np.repeat(g, 9)
    zz[:, DOF_NAMES.index("protrude")] = np.tile(g, 9)
    art, w = run(zz)
    assert np.all(w[:, stretch] == 0) and np.all(w[:, ARKIT_INDEX["mouthSmileLeft"]] == 0)
    assert np.all(art[art[:, 2] > 0, 1] <= 1e-6)
    assert art[:, 2].max() > 0.3  # narrowing still rounds
    # random speech-like z-scores: wherever the lips round, lip_width does not widen
    zr = np.random.default_rng(0).standard_normal((500, 6)) * 1.5
    art, w = run(zr)
    assert (art[:, 2] > 0).sum() > 50 and np.all(art[art[:, 2] > 0, 1] <= 1e-6)
    # only a wider mouth spreads, more with more width
    ze = np.zeros((5, 6))
    ze[:, DOF_NAMES.index("width")] = np.linspace(0.5, 2.5, 5)
    ze[:, DOF_NAMES.index("protrude")] = 2.0
    assert np.all(np.diff(run(ze)[1][:, stretch]) > 0)


def test_default_neutral_is_the_tracked_mean_face_symmetric_and_closed():
    """One neutral face: the default the articulation deforms is the tracked mean face of
    ``data/face_reference.npz``, mirrored onto itself and with its inner lips closed."""
    from talkinghead.face.articulation import DEFAULT_NEUTRAL_68
    from talkinghead.face.landmarks68 import MIRROR_68
    from talkinghead.face.normalize import neutral_face_68

    mirror = np.array(MIRROR_68)
    assert sorted(mirror) == list(range(68)) and np.array_equal(mirror[mirror], np.arange(68))
    tracked = neutral_face_68()
    d = DEFAULT_NEUTRAL_68
    assert d.shape == (68, 2) and d.dtype == np.float64 and not d.flags.writeable
    np.testing.assert_allclose(d, d[mirror] * [-1, 1], atol=1e-12)  # exactly symmetric
    np.testing.assert_array_equal(d[[61, 62, 63]], d[[67, 66, 65]])  # lips closed
    assert mouth_openness_68(d) == 0.0
    outside = [i for i in range(68) if i not in (61, 62, 63, 65, 66, 67)]
    sym = 0.5 * (tracked + tracked[mirror] * [-1, 1])
    np.testing.assert_array_equal(d[outside], sym[outside])
    # the tracked face is nearly symmetric: no point moves 0.1 eye-centre distances (0.070)
    assert np.abs(d - tracked).max() < 0.1
