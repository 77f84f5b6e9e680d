"""The Ray backend gives the same manifests as the local one (on a local Ray instance)."""

from __future__ import annotations

import json
import math

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
        a = [json.loads(line) for line in (local / name).read_text().splitlines()]
        b = [json.loads(line) for line in (viaray / name).read_text().splitlines()]
        _assert_same(a, b, name)


def _assert_same(a, b, where):
    """Equal JSON, floats to 1e-5 relative (or 1e-6 absolute).

    The speech-sync QC runs a float32 network whose sums depend on the BLAS thread count,
    which differs between a Ray worker and a local process (``speech_peak_r`` differs at
    ~1e-8, the sub-frame sync offset at ~1e-8 s); every other field must match exactly.
    """
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), where
        assert math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6), f"{where}: {a} != {b}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


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
