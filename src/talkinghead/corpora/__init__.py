"""Corpus preparation: recipes that turn audio-visual corpora into tracked, checked clips.

``RECIPES`` maps a corpus name to ``prepare_<corpus>(corpus_dir, output_dir, num_jobs=1,
**opts)``. See :mod:`.pipeline` for the output layout and :mod:`.manifest` for the
manifests. Heavy libraries (mediapipe, librosa, av) are imported only when a clip is
processed.
"""

from __future__ import annotations

from .crema_d import prepare_crema_d
from .folder import prepare_folder
from .grid import prepare_grid
from .lrs import prepare_lrs
from .mead import prepare_mead
from .person import prepare_person
from .ravdess import prepare_ravdess
from .savee import prepare_savee

__all__ = ["RECIPES"]

RECIPES = {
    "folder": prepare_folder,
    "grid": prepare_grid,
    "lrs": prepare_lrs,
    "ravdess": prepare_ravdess,
    "crema-d": prepare_crema_d,
    "savee": prepare_savee,
    "mead": prepare_mead,
    "person": prepare_person,
}
