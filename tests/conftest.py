"""Shared fixtures: real data from ../shared/data, skipped with a reason when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_SPEECH = REPO / "examples" / "speech.wav"

os.environ.setdefault("TALKINGHEAD_PROGRESS", "0")


def _shared_data_dir() -> Path:
    env = os.environ.get("TALKINGHEAD_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to the real third-party clips in ../shared/data (skip the test if absent)."""
    d = _shared_data_dir()
    if not (d / "MANIFEST.tsv").is_file():
        pytest.skip(
            f"real data not found at {d} (expected ../shared/data beside the repository, "
            "or set TALKINGHEAD_SHARED_DATA)"
        )
    return d


@pytest.fixture(scope="session")
def example_speech() -> Path:
    """Our own example speech file shipped in the repository (espeak-ng, 22.05 kHz)."""
    return EXAMPLE_SPEECH


@pytest.fixture(autouse=True)
def _restore_thread_env():
    """``cli.main`` sets ``OMP_NUM_THREADS`` (and for short jobs ``OPENBLAS_NUM_THREADS``) to
    the idle cores when unset: called in-process, it must not hand a later test's subprocesses
    a thread count that depended on the load at that moment."""
    keys = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    saved = {k: os.environ.get(k) for k in keys}
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
