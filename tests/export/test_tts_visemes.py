"""Azure viseme IDs and Amazon Polly speech marks, read back as their consumers parse them."""

from __future__ import annotations

import json

from talkinghead.audio.phones import Phone
from talkinghead.export import export
from talkinghead.export.tts_visemes import (
    AZURE_VISEMES,
    PHONE_TO_POLLY,
    POLLY_VISEMES,
    phones_to_azure,
    phones_to_polly,
)


def test_tables_cover_every_arpabet_phone():
    from talkinghead.export.cues import PHONE_TO_OCULUS

    azure = {p for ps in AZURE_VISEMES.values() for p in ps}
    assert azure == set(PHONE_TO_OCULUS) and sorted(AZURE_VISEMES) == list(range(22))
    assert set(PHONE_TO_POLLY) == set(PHONE_TO_OCULUS)
    assert set(PHONE_TO_POLLY.values()) == set(POLLY_VISEMES)


def test_azure_events_of_papa(papa_phones):
    ev = phones_to_azure(papa_phones, duration=1.0)
    # SIL P AA M SIL -> 0, 21 (p b m), 2 (aa), 21, 0; offsets in 100-ns ticks
    assert [e["visemeId"] for e in ev] == [0, 21, 2, 21, 0]
    assert [e["audioOffset"] for e in ev] == [0, 3_000_000, 3_800_000, 6_000_000, 7_000_000]


def test_polly_marks_are_json_lines(tmp_path, hello_phones):
    p = export("polly-marks", tmp_path / "m.marks", phones=hello_phones, audio_duration=1.4)
    marks = [json.loads(line) for line in p.read_text().splitlines()]  # one object per line
    assert all(m["type"] == "viseme" for m in marks)
    # SIL HH AH L OW SIL -> sil k @ t o sil, times in ms
    assert [(m["time"], m["value"]) for m in marks] == [
        (0, "sil"), (200, "k"), (300, "@"), (500, "t"), (750, "o"), (1050, "sil"),
    ]  # fmt: skip
    assert marks == phones_to_polly(hello_phones, duration=1.4)


def test_gaps_are_silence_and_repeats_merge(tmp_path):
    phones = [Phone("P", 0.1, 0.2), Phone("B", 0.2, 0.3), Phone("IY1", 0.5, 0.7)]
    ev = phones_to_azure(phones, duration=0.7)
    assert [(e["audioOffset"], e["visemeId"]) for e in ev] == [
        (0, 0), (1_000_000, 21), (3_000_000, 0), (5_000_000, 6),
    ]  # fmt: skip
    p = export("azure-visemes", tmp_path / "a.json", phones=phones, audio_duration=1.0)
    assert json.loads(p.read_text())[-1] == {"audioOffset": 7_000_000, "visemeId": 0}
