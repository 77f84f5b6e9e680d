"""Corpus preparation: recipes that turn audio-visual corpora into tracked, checked clips.

``RECIPES`` maps a corpus name to ``prepare_<corpus>(corpus_dir, output_dir, num_jobs=1,
**opts)``. See :mod:`.pipeline` for the output layout and :mod:`.manifest` for the
manifests. Heavy libraries (mediapipe, librosa, av) are imported only when a clip is
processed, and the recipes themselves only when ``RECIPES`` is first read (the command
line registers ``talkinghead prepare`` without importing them).
"""

from __future__ import annotations

import importlib

__all__ = ["RECIPES"]

_RECIPE_MODULES = {
    "folder": "folder",
    "grid": "grid",
    "lrs": "lrs",
    "ravdess": "ravdess",
    "crema-d": "crema_d",
    "savee": "savee",
    "mead": "mead",
    "person": "person",
    "tsv": "tsv",
}


def __getattr__(name: str):
    if name == "RECIPES":
        recipes = {
            k: getattr(importlib.import_module(f"{__name__}.{m}"), f"prepare_{m}")
            for k, m in _RECIPE_MODULES.items()
        }
        globals()["RECIPES"] = recipes
        return recipes
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
