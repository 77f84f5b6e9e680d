from __future__ import annotations

import json

import numpy as np
import pytest

from talkinghead.errors import InvalidArgumentError, MediaError
from talkinghead.export.retarget import SHIPPED_MAPS, load_mapping, retarget
from talkinghead.face.arkit import ARKIT_NAMES
from talkinghead.face.head3d import BlendshapeAnimation


def test_shipped_maps_load():
    for name in SHIPPED_MAPS:
        m = load_mapping(name)
        assert m.clamp == (0.0, 1.0)
        assert set(m.sources) <= set(ARKIT_NAMES)


def test_vrm(anim):
    names, w = retarget(anim, "vrm")
    for preset in ("aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight", "happy"):
        assert preset in names
    assert w.shape == (anim.n_frames, len(names)) and w.dtype == np.float32
    col = {n: w[:, i] for i, n in enumerate(names)}
    np.testing.assert_allclose(
        col["blink"], 0.5 * (anim.column("eyeBlinkLeft") + anim.column("eyeBlinkRight")), atol=1e-6
    )
    np.testing.assert_array_equal(col["blinkLeft"], anim.column("eyeBlinkLeft"))
    assert w.min() >= 0.0 and w.max() <= 1.0  # clamped
    # a pure jaw opening drives "aa" and not "ou"
    k = np.zeros((2, 52), np.float32)
    k[1, ARKIT_NAMES.index("jawOpen")] = 0.8
    n2, w2 = retarget(BlendshapeAnimation(fps=25, weights=k), "vrm")
    assert w2[1, n2.index("aa")] == pytest.approx(0.8)
    assert w2[1, n2.index("ou")] == pytest.approx(0.16)
    assert not w2[0].any()


def test_rpm(anim):
    names, w = retarget(anim, "rpm")
    assert names[:52] == ARKIT_NAMES
    np.testing.assert_array_equal(w[:, :52], anim.weights)
    rpm_visemes = ["viseme_" + v for v in "sil PP FF TH DD kk CH SS nn RR aa E I O U".split()]
    assert set(rpm_visemes) <= set(names)
    assert "mouthOpen" in names and "eyesClosed" in names


def test_custom_mapping_file_and_extra(tmp_path, anim):
    mapping = {
        "description": "test",
        "Mouth_Open": "jawOpen",
        "Smile": {"mouthSmileLeft": 0.5, "mouthSmileRight": 0.5, "mouthFrownLeft": -1.0},
        "AA": {"oculus_aa": 2.0},
    }
    p = tmp_path / "m.json"
    p.write_text(json.dumps(mapping))
    extra = {"oculus_aa": np.linspace(0, 1, anim.n_frames)}
    names, w = retarget(anim, p, extra=extra)
    assert names == ("Mouth_Open", "Smile", "AA")
    np.testing.assert_array_equal(w[:, 0], anim.column("jawOpen"))
    want = 0.5 * anim.column("mouthSmileLeft") + 0.5 * anim.column("mouthSmileRight")
    want -= anim.column("mouthFrownLeft")
    np.testing.assert_allclose(w[:, 1], want, atol=1e-6)  # no clamp: may be negative
    assert w[:, 1].min() < 0
    np.testing.assert_allclose(w[:, 2], 2 * extra["oculus_aa"], atol=1e-6)


def test_errors(anim):
    with pytest.raises(InvalidArgumentError, match="keys of extra"):
        retarget(anim, {"x": "noSuchShape"})
    with pytest.raises(InvalidArgumentError, match="clamp"):
        load_mapping({"clamp": [1, 0], "x": "jawOpen"})
    with pytest.raises(InvalidArgumentError, match="coefficient"):
        load_mapping({"x": {"jawOpen": "a lot"}})
    with pytest.raises(InvalidArgumentError, match="at least one target"):
        load_mapping({"clamp": None})
    with pytest.raises(MediaError, match="does not exist"):
        load_mapping("no_such_map")
