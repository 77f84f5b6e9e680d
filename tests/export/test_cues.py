from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from talkinghead.audio.phones import Phone
from talkinghead.errors import InvalidArgumentError
from talkinghead.export.cues import (
    OCULUS_VISEMES,
    MouthCue,
    phones_to_oculus_visemes,
    phones_to_rhubarb,
    read_rhubarb,
    write_rhubarb,
    write_visemes,
)


def _triples(cues):
    return [(c.start, c.end, c.value) for c in cues]


def test_rhubarb_known_answer_hello(hello_phones):
    # HH anticipates the open vowel, a long L gets H, OW is E then F (60/40)
    assert _triples(phones_to_rhubarb(hello_phones)) == [
        (0.0, 0.2, "X"), (0.2, 0.5, "D"), (0.5, 0.75, "H"),
        (0.75, 0.93, "E"), (0.93, 1.05, "F"), (1.05, 1.4, "X"),
    ]  # fmt: skip


def test_rhubarb_known_answer_bilabials(papa_phones):
    # the P closure (A) is shown before the release; M is A; silences are X
    assert _triples(phones_to_rhubarb(papa_phones)) == [
        (0.0, 0.18, "X"), (0.18, 0.3, "A"), (0.3, 0.6, "D"), (0.6, 0.7, "A"), (0.7, 1.0, "X"),
    ]  # fmt: skip
    # basic shapes only: X -> A, merged with the closures
    assert _triples(phones_to_rhubarb(papa_phones, extended_shapes="")) == [
        (0.0, 0.3, "A"), (0.3, 0.6, "D"), (0.6, 1.0, "A"),
    ]  # fmt: skip


def test_rhubarb_cover_and_min_duration():
    rng = np.random.default_rng(0)
    labels = ["SIL", "F", "IY", "T", "S", "UW", "M", "ER", "K", "AE", "V", "SIL", "W", "AY"]
    phones, t = [], 0.0
    for _ in range(60):
        d = float(rng.uniform(0.02, 0.2))
        phones.append(Phone(str(rng.choice(labels)), t, t + d))
        t += d
    cues = phones_to_rhubarb(phones, duration=t + 0.5, min_duration=0.05)
    assert cues[0].start == 0.0
    assert cues[-1].end == pytest.approx(np.floor((t + 0.5) * 100) / 100)
    for a, b in zip(cues, cues[1:], strict=False):
        assert a.end == b.start and a.value != b.value
    assert all(c.end - c.start >= 0.05 - 1e-9 for c in cues)
    assert cues[-1].value == "X"  # trailing gap is silence
    assert {c.value for c in cues} <= set("ABCDEFGHX")
    assert "G" in {c.value for c in cues}  # F/V


def test_rhubarb_gap_is_silence():
    cues = phones_to_rhubarb([Phone("AA", 0.5, 0.8)], duration=1.2)
    assert _triples(cues) == [(0.0, 0.5, "X"), (0.5, 0.8, "D"), (0.8, 1.2, "X")]


def test_rhubarb_errors():
    with pytest.raises(InvalidArgumentError, match="ARPAbet"):
        phones_to_rhubarb([Phone("QQ", 0, 0.1)])
    with pytest.raises(InvalidArgumentError, match="overlaps"):
        phones_to_rhubarb([Phone("AA", 0, 0.2), Phone("B", 0.1, 0.3)])
    with pytest.raises(InvalidArgumentError, match="extended_shapes"):
        phones_to_rhubarb([Phone("AA", 0, 0.2)], extended_shapes="GZ")


def test_rhubarb_file_formats(tmp_path, hello_phones):
    cues = phones_to_rhubarb(hello_phones)
    tsv = write_rhubarb(tmp_path / "c.tsv", cues, "tsv").read_text()
    assert tsv.splitlines() == [
        "0.00\tX", "0.20\tD", "0.50\tH", "0.75\tE", "0.93\tF", "1.05\tX", "1.40\tX",
    ]  # fmt: skip
    js = json.loads(
        write_rhubarb(tmp_path / "c.json", cues, "json", sound_file="/a/hi.wav").read_text()
    )
    assert js["metadata"] == {"soundFile": "/a/hi.wav", "duration": 1.4}
    assert js["mouthCues"][1] == {"start": 0.2, "end": 0.5, "value": "D"}
    xml = write_rhubarb(tmp_path / "c.xml", cues, "xml", sound_file="a&b.wav").read_text()
    assert xml.startswith('<?xml version="1.0" encoding="utf-8"?>\n<rhubarbResult>')
    assert '<mouthCue start="0.20" end="0.50">D</mouthCue>' in xml
    root = ET.fromstring(xml)
    assert root.find("metadata/soundFile").text == "a&b.wav"
    assert root.find("metadata/duration").text == "1.40"
    for ext in ("tsv", "json", "xml"):
        assert read_rhubarb(tmp_path / f"c.{ext}") == cues
    with pytest.raises(InvalidArgumentError, match="fmt"):
        write_rhubarb(tmp_path / "c.txt", cues, "dat")
    assert isinstance(cues[0], MouthCue)


def test_oculus_visemes_rows_and_pp(papa_phones):
    fps = 100.0
    w = phones_to_oculus_visemes(papa_phones, n_frames=100, fps=fps)
    assert w.shape == (100, 15) and w.dtype == np.float32
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-5)
    assert (w >= 0).all()
    pp, aa, sil = (OCULUS_VISEMES.index(v) for v in ("PP", "aa", "sil"))
    for ph in (papa_phones[1], papa_phones[3]):  # P and M centres
        k = round(ph.centre * fps)
        assert w[k].argmax() == pp and w[k, pp] > 0.9
    assert w[49].argmax() == aa  # middle of AA
    assert w[5, sil] > 0.99 and w[95, sil] > 0.99
    # coarticulation: aa is already present before the AA segment begins
    assert 0.0 < w[37, aa] < w[45, aa]
    hard = phones_to_oculus_visemes(papa_phones, n_frames=100, fps=fps, smoothing=0)
    assert set(np.unique(hard)) == {0.0, 1.0}
    assert hard[34].argmax() == pp and hard[39].argmax() == aa


def test_oculus_diphthong_and_write(tmp_path):
    phones = [Phone("OW", 0.0, 0.5)]
    w = phones_to_oculus_visemes(phones, n_frames=25, fps=50, smoothing=0.01)
    oh, ou = OCULUS_VISEMES.index("oh"), OCULUS_VISEMES.index("ou")
    assert w[5].argmax() == oh and w[22].argmax() == ou
    p = write_visemes(tmp_path / "v.csv", w, fps=50, prefix="viseme_")
    lines = p.read_text().splitlines()
    # Ready Player Me spells the last three viseme_I, viseme_O, viseme_U (not ih/oh/ou)
    rpm = "sil PP FF TH DD kk CH SS nn RR aa E I O U".split()
    assert lines[0] == "time," + ",".join("viseme_" + v for v in rpm)
    assert lines[2].startswith("0.020000,") and len(lines) == 26
    j = json.loads(write_visemes(tmp_path / "v.json", w, fps=50).read_text())
    assert j["names"] == list(OCULUS_VISEMES) and j["fps"] == 50 and j["n_frames"] == 25
    np.testing.assert_allclose(np.array(j["weights"]), w, atol=5e-5)
    with pytest.raises(InvalidArgumentError, match="weights.shape"):
        write_visemes(tmp_path / "bad.csv", w[:, :3], fps=50)
