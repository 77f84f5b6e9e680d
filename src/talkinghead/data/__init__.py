"""The shipped assets, each named once (paths only: nothing is read or imported here).

Checkpoints are folders (``config.json`` + ``model.safetensors``, ``from_pretrained``);
the ``*_V2*`` mouth checkpoints are named before they ship (the loaders check existence).
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "DATA_DIR",
    "DEFAULT_FAST_DIR",
    "DEFAULT_LIPSYNC_DIR",
    "DEFAULT_CAUSAL_DIR",
    "MOUTH_V2_DIR",
    "MOUTH_V2_CAUSAL_DIR",
    "MOUTH_V2_WHISPER_DIR",
    "REFINER_GENERAL_DIR",
    "MOUTH_GENERATOR_DIR",
    "MOUTH_DETAIL_DIR",
    "MOUTH_BANK_DIR",
    "RETARGET_DIR",
    "RETARGET_MAPS",
    "FACE_REFERENCE",
    "HEAD_MODEL",
]

#: This folder.
DATA_DIR = Path(__file__).resolve().parent
#: The previous default: ridge read-out on the distilled student front end (mouth v2's prior).
DEFAULT_FAST_DIR = DATA_DIR / "default_fast"
#: The default model's read-out on the Whisper tiny.en encoder (``model="whisper"``).
DEFAULT_LIPSYNC_DIR = DATA_DIR / "default_lipsync"
#: The causal counterpart of the previous default (mouth v2 causal's front end and prior).
DEFAULT_CAUSAL_DIR = DATA_DIR / "default_causal"
#: Mouth v2 (student front end): the default model (``model="default"``).
MOUTH_V2_DIR = DATA_DIR / "mouth_v2"
#: The streaming mouth v2 the server streams: one causal checkpoint per look-ahead, ``la<L>/``.
MOUTH_V2_CAUSAL_DIR = DATA_DIR / "mouth_v2_causal"
#: Mouth v2 on the Whisper encoder, when shipped.
MOUTH_V2_WHISPER_DIR = DATA_DIR / "mouth_v2_whisper"
#: The learned mouth of the photo path (issue 18; shipped, used by ``--mouth learned``).
MOUTH_GENERATOR_DIR = DATA_DIR / "mouth_generator"
#: The learned mouth's detail net (large faces; issue 18 session 10), when shipped.
MOUTH_DETAIL_DIR = DATA_DIR / "mouth_detail"
#: Real GRID mouth crops of the photo path's exemplar mouth (``--mouth exemplar``; issue 18
#: session 15), by ``scripts/build_mouth_bank.py``.
MOUTH_BANK_DIR = DATA_DIR / "mouth_bank"
#: Yi 2020's general refiner (256 px), trained by ``scripts/train_refiner.py``.
REFINER_GENERAL_DIR = DATA_DIR / "refiner_general"
#: ARKit -> rig mappings, one ``<name>.json`` each.
RETARGET_DIR = DATA_DIR / "retarget"
#: Names of the shipped mappings in :data:`RETARGET_DIR`.
RETARGET_MAPS: tuple[str, ...] = ("arkit", "rpm", "vrm", "cc4", "metahuman")
#: The tracked mean face of real clips (``neutral_68`` ...), by ``scripts/build_face_reference.py``.
FACE_REFERENCE = DATA_DIR / "face_reference.npz"
#: The 3D head mesh and blendshapes, by ``scripts/build_head_model.py``.
HEAD_MODEL = DATA_DIR / "head_model.npz"
