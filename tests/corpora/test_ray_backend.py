"""The Ray backend gives the same manifests as the local one (on a local Ray instance)."""

from __future__ import annotations

import pytest

from conftest import FAST
from talkinghead.corpora import RECIPES


def test_ray_backend_matches_local(grid_corpus, tmp_path):
    pytest.importorskip("ray", reason="ray is not installed (pip install 'ray>=2.9')")
    local, viaray = tmp_path / "local", tmp_path / "ray"
    r1 = RECIPES["grid"](grid_corpus, local, num_jobs=2, **FAST)
    r2 = RECIPES["grid"](grid_corpus, viaray, num_jobs=2, backend="ray", **FAST)
    assert (r1.processed, r2.processed) == (3, 3)
    for name in ("recordings.jsonl", "clips.jsonl", "rejected.jsonl"):
        assert (local / name).read_text() == (viaray / name).read_text(), name


def test_ray_missing_raises_dependency_error(grid_corpus, tmp_path, monkeypatch):
    import builtins

    from talkinghead.errors import DependencyError

    real_import = builtins.__import__

    def no_ray(name, *a, **kw):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(DependencyError, match="pip install 'ray>=2.9'"):
        RECIPES["grid"](grid_corpus, tmp_path / "o", backend="ray", **FAST)
