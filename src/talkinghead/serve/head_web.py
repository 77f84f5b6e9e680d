"""The shipped 3D head as JSON for the live page (``GET /head.json``).

The page draws the blendshape head of :func:`talkinghead.face.head3d.load_head_model`
beside the sketch, driven by each frame's 52 ARKit weights and head rotation (the same
head and weights as the 3D exports). The payload holds the neutral vertices, the
triangles, the vertex colours and, per blendshape, only the vertices it moves (sparse
deltas), rounded to 0.1 mm: about 0.5 MB of JSON, built once per process.
"""

from __future__ import annotations

import json
from functools import lru_cache

__all__ = ["head_payload"]


@lru_cache(maxsize=1)
def head_payload() -> bytes:
    """JSON bytes: ``{"names", "neutral" [V*3], "faces" [F*3], "colors" [V*3],
    "deltas": {name: [[vertex, dx, dy, dz], ...]}, "hidden": [vertex, ...]}`` (metres,
    model axes: x to the subject's left, y up, z out of the face)."""
    import numpy as np

    from ..face.head3d import load_head_model

    h = load_head_model()
    r = lambda a, d=4: np.round(np.asarray(a, np.float64), d).reshape(-1).tolist()  # noqa: E731
    deltas = {}
    for i, name in enumerate(h.names):
        d = h.deltas[i]
        idx = np.flatnonzero(np.abs(d).max(axis=1) > 1e-5)
        if len(idx):
            rows = np.concatenate([idx[:, None], np.round(d[idx], 5)], axis=1)
            deltas[name] = [[int(v[0]), *map(float, v[1:])] for v in rows]
    colors = h.colors if h.colors is not None else np.full((h.n_vertices, 3), 0.8)
    # the inside of the mouth is drawn first and dark (painter's order keeps it behind the lips)
    inner = set()
    for g in ("mouth_cavity", "tongue", "teeth_upper", "teeth_lower"):
        inner.update(int(v) for v in h.groups.get(g, []))
    payload = {
        "names": list(h.names),
        "neutral": r(h.neutral, 5),
        "faces": np.asarray(h.faces).reshape(-1).tolist(),
        "colors": r(colors, 3),
        "inner": sorted(inner),
        "deltas": deltas,
    }
    return json.dumps(payload, separators=(",", ":")).encode()
