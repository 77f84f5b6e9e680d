"""Fixtures for the corpus tests: tiny corpora built by symlinking shared clips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GRID_SAMPLES = "rizkiarm__LipNet/evaluation/samples"
FAST = {"size": 160, "features": ("sakurai2018",), "progress": False}


def link(src: Path, dst: Path) -> Path:
    """Symlink ``src`` at ``dst`` (never copies shared data)."""
    if not src.exists():
        pytest.skip(f"shared clip {src} is missing")
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(src, dst)
    return dst


@pytest.fixture
def grid_corpus(shared_data, tmp_path) -> Path:
    """Three GRID clips in GRID layout s1/<name>.mpg (+ the one .align beside its clip)."""
    root = tmp_path / "grid"
    samples = shared_data / GRID_SAMPLES
    for name in ("bbaf2n", "lbax4n"):
        link(samples / "GRID" / f"{name}.mpg", root / "s1" / f"{name}.mpg")
    link(samples / "id2_vcd_swwp2s.mpg", root / "s2" / "id2_vcd_swwp2s.mpg")
    link(samples / "swwp2s.align", root / "s2" / "swwp2s.align")
    return root
