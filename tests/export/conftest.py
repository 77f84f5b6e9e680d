"""Fixtures for the export tests: a tiny blendshape head, an animation, phones."""

from __future__ import annotations

import pytest
from export_fixtures import make_anim, make_grid_model

from talkinghead.audio.phones import Phone
from talkinghead.face.head3d import BlendshapeAnimation, HeadModel


@pytest.fixture
def grid_model() -> HeadModel:
    return make_grid_model()


@pytest.fixture
def anim() -> BlendshapeAnimation:
    return make_anim()


@pytest.fixture
def hello_phones() -> list[Phone]:
    """SIL HH AH L OW SIL ("hello"), 1.4 s."""
    return [
        Phone("SIL", 0.0, 0.2), Phone("HH", 0.2, 0.3), Phone("AH", 0.3, 0.5),
        Phone("L", 0.5, 0.75), Phone("OW", 0.75, 1.05), Phone("SIL", 1.05, 1.4),
    ]  # fmt: skip


@pytest.fixture
def papa_phones() -> list[Phone]:
    """SIL P AA M SIL, 1.0 s."""
    return [
        Phone("SIL", 0.0, 0.3), Phone("P", 0.3, 0.38), Phone("AA", 0.38, 0.6),
        Phone("M", 0.6, 0.7), Phone("SIL", 0.7, 1.0),
    ]  # fmt: skip
