"""Phone -> viseme mapping and articulatory targets."""

from __future__ import annotations

import numpy as np
import pytest

from talkinghead.audio.phones import PHONES, SIL
from talkinghead.errors import InvalidArgumentError
from talkinghead.face.visemes import (
    JAW_OPEN,
    LIP_CLOSE,
    LIP_ROUND,
    LIP_WIDTH,
    PARAMS,
    PHONE_TO_VISEME,
    VISEME_NAMES,
    VISEMES,
    phone_to_viseme,
    viseme_arrays,
    viseme_index,
)


def _target(name):
    return np.array(VISEMES[VISEME_NAMES.index(name)].target)


def test_every_phone_has_exactly_one_viseme():
    assert set(PHONE_TO_VISEME) == set(PHONES) | {SIL}
    listed = [p for v in VISEMES for p in v.phones]
    assert len(listed) == len(set(listed)) == 40
    assert 12 <= len(VISEMES) <= 15
    assert PARAMS == ("jaw_open", "lip_width", "lip_round", "lip_close")


@pytest.mark.parametrize(
    ("phones", "viseme"),
    [
        ("P B M", "BILABIAL"),
        ("F V", "LABIODENTAL"),
        ("TH DH", "DENTAL"),
        ("T D N L S Z", "ALVEOLAR"),
        ("SH ZH CH JH", "POSTALVEOLAR"),
        ("K G NG HH", "VELAR"),
        ("R", "RHOTIC"),
        ("W UW UH", "ROUNDED_CLOSE"),
        ("OW AO OY", "ROUNDED_MID"),
        ("AA AE AH AW AY", "OPEN"),
        ("EH EY ER", "MID"),
        ("IY IH Y", "CLOSE_FRONT"),
        ("SIL", "SIL"),
    ],
)
def test_known_mappings(phones, viseme):
    for p in phones.split():
        assert phone_to_viseme(p) == viseme
        assert VISEME_NAMES[viseme_index(p)] == viseme


def test_label_normalisation_and_errors():
    assert phone_to_viseme("aa1") == "OPEN"
    assert phone_to_viseme(" iy0 ") == "CLOSE_FRONT"
    for filler in ("+NSN+", "+SPN+", "<sil>", "[NOISE]", "sp", ""):
        assert phone_to_viseme(filler) == "SIL"
    with pytest.raises(InvalidArgumentError, match="ARPAbet"):
        phone_to_viseme("XX")
    with pytest.raises(InvalidArgumentError):
        phone_to_viseme(3)


def test_targets_are_articulatorily_ordered():
    sil, bil = _target("SIL"), _target("BILABIAL")
    np.testing.assert_array_equal(sil, [0.0, 0.0, 0.0, 1.0])  # rest: closed, neutral
    assert bil[LIP_CLOSE] == 1.0
    # jaw: open > mid > close front, consonants nearly closed
    assert _target("OPEN")[JAW_OPEN] > _target("MID")[JAW_OPEN] > _target("CLOSE_FRONT")[JAW_OPEN]
    assert all(_target(v)[JAW_OPEN] <= 0.08 for v in ("BILABIAL", "LABIODENTAL", "ALVEOLAR"))
    # spreading on IY, rounding (and narrowing) on UW/OW
    assert _target("CLOSE_FRONT")[LIP_WIDTH] > 0.05
    for v in ("ROUNDED_CLOSE", "ROUNDED_MID"):
        assert _target(v)[LIP_ROUND] >= 0.5 and _target(v)[LIP_WIDTH] < 0
    assert _target("ROUNDED_CLOSE")[LIP_ROUND] == 1.0
    # only bilabials, labiodentals and rest close the lips
    closers = {v.name for v in VISEMES if v.target[LIP_CLOSE] > 0.5}
    assert closers == {"SIL", "BILABIAL", "LABIODENTAL"}


def test_dominance_and_rates():
    target, dominance, rate = viseme_arrays()
    assert target.shape == dominance.shape == rate.shape == (len(VISEMES), 4)
    assert np.all(dominance > 0) and np.all(rate > 0)
    bil = VISEME_NAMES.index("BILABIAL")
    # bilabials dominate lip closure by far (labiodentals come next)
    others = np.delete(dominance[:, LIP_CLOSE], bil)
    assert dominance[bil, LIP_CLOSE] >= 3 * others.max()
    vowel_rows = [VISEME_NAMES.index(v) for v in ("OPEN", "MID", "CLOSE_FRONT", "ROUNDED_CLOSE")]
    assert dominance[bil, LIP_CLOSE] >= 30 * dominance[vowel_rows, LIP_CLOSE].max()
    # vowels dominate the jaw more than any consonant
    vowels = [VISEME_NAMES.index(v) for v in ("OPEN", "MID", "CLOSE_FRONT", "ROUNDED_MID")]
    consonants = [
        VISEME_NAMES.index(v)
        for v in ("BILABIAL", "LABIODENTAL", "DENTAL", "ALVEOLAR", "POSTALVEOLAR", "VELAR")
    ]
    assert dominance[vowels, JAW_OPEN].min() > dominance[consonants, JAW_OPEN].max()
