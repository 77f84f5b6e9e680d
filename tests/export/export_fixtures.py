"""Helpers for the export tests: a tiny blendshape head and a random animation."""

from __future__ import annotations

import numpy as np

from talkinghead.face.arkit import ARKIT_NAMES
from talkinghead.face.head3d import BlendshapeAnimation, HeadModel, euler_to_rotation


def make_grid_model(n: int = 6, seed: int = 0) -> HeadModel:
    """An n x n grid in the z=0 plane (0.1 m wide), 52 small random deltas."""
    x, y = np.meshgrid(np.linspace(-0.05, 0.05, n), np.linspace(-0.05, 0.05, n))
    v = np.stack([x.ravel(), y.ravel(), np.zeros(n * n)], 1)
    faces = []
    for i in range(n - 1):
        for j in range(n - 1):
            a = i * n + j
            faces += [[a, a + 1, a + n + 1], [a, a + n + 1, a + n]]
    rng = np.random.default_rng(seed)
    deltas = rng.normal(size=(52, n * n, 3)) * 0.003
    return HeadModel(names=ARKIT_NAMES, neutral=v, faces=np.array(faces), deltas=deltas)


def make_anim(n_frames: int = 60, fps: float = 25.0, seed: int = 1) -> BlendshapeAnimation:
    rng = np.random.default_rng(seed)
    k = np.arange(n_frames)
    rot = euler_to_rotation(0.3 * np.sin(k / 7), 0.1 * np.cos(k / 5), 0.05 * np.sin(k / 3))
    return BlendshapeAnimation(fps=fps, weights=rng.uniform(0, 1, (n_frames, 52)), rotation=rot)
