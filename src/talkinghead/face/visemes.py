"""Visemes: ARPAbet phones grouped by their visible mouth shape, with articulatory targets.

Thirteen classes (a common grouping of English phones by lip/jaw posture):

================  ========================  ===========================================
viseme            phones                    mouth
================  ========================  ===========================================
SIL               SIL (pauses, noise)       rest: jaw closed, lips together, neutral
BILABIAL          P B M                     lips pressed together
LABIODENTAL       F V                       lower lip against the upper teeth
DENTAL            TH DH                     tongue between the teeth, jaw slightly open
ALVEOLAR          T D N L S Z               jaw nearly closed, lips relaxed/slightly spread
POSTALVEOLAR      SH ZH CH JH               lips slightly rounded and protruded
VELAR             K G NG HH                 shape mostly taken from the neighbours
RHOTIC            R                         lips slightly rounded
ROUNDED_CLOSE     W UW UH                   small rounded opening, strong protrusion
ROUNDED_MID       OW AO OY                  medium rounded opening
OPEN              AA AE AH AW AY            jaw wide open
MID               EH EY ER                  jaw half open, lips slightly spread
CLOSE_FRONT       IY IH Y                   jaw nearly closed, lips spread
================  ========================  ===========================================

Articulatory parameters (:data:`PARAMS`, the columns of every articulation array):

``jaw_open``
    Vertical inner-lip opening produced by the jaw with relaxed lips, as a fraction
    of the outer eye-corner distance ``|p36 - p45|`` (the units of
    :func:`talkinghead.face.landmarks68.mouth_openness_68`): 0 closed, ~0.3 a wide
    open "aa" in conversational speech.
``lip_width``
    Relative change of the mouth width (corner to corner) from spreading, as a
    fraction of the neutral mouth width: 0 neutral, +0.1 spread ("ee"), < 0 narrower.
``lip_round``
    Rounding / protrusion in [0, 1]: 1 narrows the mouth by about a third and
    pushes it into an "o" shape (see ``articulation_to_landmarks``).
``lip_close``
    Lip closure in [0, 1]: 1 presses the lips together whatever the jaw does (the
    inner lip gap is scaled by ``1 - lip_close``).

Each viseme also carries a Cohen-Massaro dominance strength per parameter
(``dominance``, how strongly the segment imposes that target on its neighbours:
bilabials dominate ``lip_close``, vowels dominate the jaw, rounded vowels dominate
rounding) and a rate multiplier per parameter (``rate``, scales the animator's
``theta``: > 1 means the influence decays faster with distance from the centre).

Pure numpy, cheap to import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError

__all__ = [
    "PARAMS",
    "JAW_OPEN",
    "LIP_WIDTH",
    "LIP_ROUND",
    "LIP_CLOSE",
    "VisemeSpec",
    "VISEMES",
    "VISEME_NAMES",
    "PHONE_TO_VISEME",
    "phone_to_viseme",
    "viseme_index",
    "viseme_arrays",
]

#: Articulation parameter names, in column order.
PARAMS: tuple[str, ...] = ("jaw_open", "lip_width", "lip_round", "lip_close")
JAW_OPEN, LIP_WIDTH, LIP_ROUND, LIP_CLOSE = range(4)


@dataclass(frozen=True)
class VisemeSpec:
    """One viseme class.

    Attributes
    ----------
    name : str
    phones : tuple of str
        ARPAbet phones (no stress) in the class.
    target : tuple of 4 float
        ``(jaw_open, lip_width, lip_round, lip_close)`` in the units of the module doc.
    dominance : tuple of 4 float
        Cohen-Massaro dominance magnitude ``alpha`` per parameter (> 0).
    rate : tuple of 4 float
        Multiplier of the animator's ``theta`` per parameter (> 0).
    """

    name: str
    phones: tuple[str, ...]
    target: tuple[float, float, float, float]
    dominance: tuple[float, float, float, float]
    rate: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)


#: The viseme classes; columns are (jaw_open, lip_width, lip_round, lip_close).
VISEMES: tuple[VisemeSpec, ...] = (
    VisemeSpec("SIL", ("SIL",), (0.00, 0.00, 0.0, 1.0), (0.8, 0.8, 0.8, 0.8)),
    VisemeSpec(
        "BILABIAL", ("P", "B", "M"), (0.03, 0.00, 0.0, 1.0), (0.4, 0.3, 0.2, 30.0),
        rate=(1.0, 1.0, 1.0, 2.5),
    ),
    VisemeSpec(
        "LABIODENTAL", ("F", "V"), (0.03, 0.02, 0.0, 0.7), (0.5, 0.4, 0.3, 8.0),
        rate=(1.0, 1.0, 1.0, 2.0),
    ),
    VisemeSpec("DENTAL", ("TH", "DH"), (0.07, 0.02, 0.0, 0.0), (0.6, 0.3, 0.2, 0.6)),
    VisemeSpec("ALVEOLAR", ("T", "D", "N", "L", "S", "Z"), (0.04, 0.03, 0.0, 0.0),
               (0.5, 0.3, 0.15, 0.6)),
    VisemeSpec("POSTALVEOLAR", ("SH", "ZH", "CH", "JH"), (0.05, -0.08, 0.5, 0.0),
               (0.5, 0.7, 0.8, 0.6)),
    VisemeSpec("VELAR", ("K", "G", "NG", "HH"), (0.07, 0.00, 0.0, 0.0), (0.3, 0.2, 0.1, 0.6)),
    VisemeSpec("RHOTIC", ("R",), (0.06, -0.05, 0.4, 0.0), (0.5, 0.5, 0.6, 0.6)),
    VisemeSpec("ROUNDED_CLOSE", ("W", "UW", "UH"), (0.07, -0.12, 1.0, 0.0),
               (0.8, 1.0, 1.5, 0.8)),
    VisemeSpec("ROUNDED_MID", ("OW", "AO", "OY"), (0.17, -0.08, 0.7, 0.0), (1.0, 0.9, 1.2, 0.8)),
    VisemeSpec("OPEN", ("AA", "AE", "AH", "AW", "AY"), (0.28, 0.02, 0.0, 0.0),
               (1.0, 0.6, 0.6, 0.8)),
    VisemeSpec("MID", ("EH", "EY", "ER"), (0.16, 0.05, 0.1, 0.0), (1.0, 0.7, 0.5, 0.8)),
    VisemeSpec("CLOSE_FRONT", ("IY", "IH", "Y"), (0.07, 0.10, 0.0, 0.0), (1.0, 0.9, 0.6, 0.8)),
)  # fmt: skip

#: Viseme names in order (row order of :func:`viseme_arrays`).
VISEME_NAMES: tuple[str, ...] = tuple(v.name for v in VISEMES)

#: ARPAbet phone (no stress) -> viseme name, for all 39 phones and SIL.
PHONE_TO_VISEME: dict[str, str] = {p: v.name for v in VISEMES for p in v.phones}

_INDEX = {name: i for i, name in enumerate(VISEME_NAMES)}


def phone_to_viseme(label: str) -> str:
    """Viseme name of an ARPAbet phone.

    Stress digits and case are ignored (``"aa1"`` -> ``"OPEN"``); PocketSphinx fillers
    (``"+NSN+"``, ``"<sil>"``, ...) and ``"SIL"`` / ``"SP"`` / ``""`` map to ``"SIL"``.

    Raises
    ------
    InvalidArgumentError
        ``label`` is not an ARPAbet phone nor a silence/filler label.
    """
    if not isinstance(label, str):
        raise InvalidArgumentError(f"label={label!r} must be a str ARPAbet phone")
    lab = re.sub(r"\d", "", label.strip().upper())
    if lab in PHONE_TO_VISEME:
        return PHONE_TO_VISEME[lab]
    if lab in ("", "SP", "SPN", "NSN", "PAU") or lab[:1] in "+<[":
        return "SIL"
    raise InvalidArgumentError(
        f"label={label!r} must be an ARPAbet phone (AA ... ZH, no stress needed) or SIL"
    )


def viseme_index(label: str) -> int:
    """Row index (in :data:`VISEMES`) of the viseme of a phone label."""
    return _INDEX[phone_to_viseme(label)]


def viseme_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The viseme table as arrays.

    Returns
    -------
    target : np.ndarray, shape (n_visemes, 4)
    dominance : np.ndarray, shape (n_visemes, 4)
    rate : np.ndarray, shape (n_visemes, 4)
        Rows in :data:`VISEME_NAMES` order, columns in :data:`PARAMS` order.
    """
    target = np.array([v.target for v in VISEMES], dtype=np.float64)
    dominance = np.array([v.dominance for v in VISEMES], dtype=np.float64)
    rate = np.array([v.rate for v in VISEMES], dtype=np.float64)
    return target, dominance, rate
