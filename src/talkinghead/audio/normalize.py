"""Per-dimension feature normalisation whose statistics are saved with a model.

:class:`FeatureNormalizer` holds a mean and a standard deviation per feature column,
fitted in one streaming pass over any number of ``(T, D)`` arrays (float64
accumulation, Chan et al.'s parallel combination of per-array moments, so the result
equals a fit on the concatenation), and is saved as a small JSON file beside a model.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CheckpointError, InvalidArgumentError

__all__ = ["FeatureNormalizer"]

_FORMAT = "talkinghead.FeatureNormalizer"
_VERSION = 1


@dataclass
class FeatureNormalizer:
    """Zero-mean, unit-variance scaling per feature dimension.

    Attributes
    ----------
    mean : np.ndarray, float64, shape (D,)
        Per-dimension mean.
    std : np.ndarray, float64, shape (D,)
        Per-dimension population standard deviation (as fitted, before the floor).
    names : tuple of str, optional
        One name per dimension (e.g. ``"c1"``, ``"f0"``), for inspection only.
    count : int
        Number of rows the statistics were fitted on (0 when built by hand).
    min_std : float
        Floor: a dimension with ``std <= min_std`` (constant, or nearly) is only
        centred, with scale 1, so that it does not blow up (see :attr:`scale`).
    """

    mean: np.ndarray
    std: np.ndarray
    names: tuple[str, ...] | None = None
    count: int = 0
    min_std: float = 1e-6
    _scale: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=np.float64)
        std = np.asarray(self.std, dtype=np.float64)
        if mean.ndim != 1 or std.shape != mean.shape:
            raise InvalidArgumentError(
                f"mean with shape {mean.shape} and std with shape {std.shape} must both "
                "have shape (D,)"
            )
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))) or np.any(std < 0):
            raise InvalidArgumentError("mean and std must be finite, and std must be >= 0")
        min_std = float(self.min_std)
        if not math.isfinite(min_std) or min_std < 0:
            raise InvalidArgumentError(f"min_std={self.min_std!r} must be a finite number >= 0")
        if self.names is not None:
            names = tuple(str(n) for n in self.names)
            if len(names) != len(mean):
                raise InvalidArgumentError(
                    f"names with {len(names)} entries must have one name per dimension "
                    f"(D={len(mean)})"
                )
            self.names = names
        self.mean, self.std, self.min_std, self.count = mean, std, min_std, int(self.count)
        self._scale = np.where(std > min_std, std, 1.0)

    # ------------------------------------------------------------------ properties
    @property
    def dim(self) -> int:
        """Number of feature dimensions ``D``."""
        return int(self.mean.shape[0])

    @property
    def scale(self) -> np.ndarray:
        """Divisor per dimension, shape (D,): ``std``, or 1 where ``std <= min_std``."""
        return self._scale

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FeatureNormalizer):
            return NotImplemented
        return (
            np.array_equal(self.mean, other.mean)
            and np.array_equal(self.std, other.std)
            and self.names == other.names
            and self.count == other.count
            and self.min_std == other.min_std
        )

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(
        cls,
        arrays: Iterable[np.ndarray],
        *,
        names: Iterable[str] | None = None,
        min_std: float = 1e-6,
    ) -> FeatureNormalizer:
        """Fit mean and std over the rows of all ``arrays`` in one streaming pass.

        Parameters
        ----------
        arrays : iterable of np.ndarray, each of shape (T_i, D)
            Feature matrices (e.g. one per utterance); a generator is fine. Each array
            is reduced in float64 (two-pass within the array) and the per-array moments
            are merged with Chan et al.'s parallel formula, so the result equals the
            statistics of the concatenation up to rounding.
        names : iterable of str, optional
            One name per dimension.
        min_std : float
            Floor on the std below which a dimension is only centred.

        Returns
        -------
        FeatureNormalizer
        """
        if isinstance(arrays, np.ndarray):
            arrays = [arrays]
        n_tot = 0
        mean = m2 = None
        for i, a in enumerate(arrays):
            a = np.asarray(a)
            if a.ndim != 2:
                raise InvalidArgumentError(f"arrays[{i}] with shape {a.shape} must be 2-D (T, D)")
            if mean is not None and a.shape[1] != mean.shape[0]:
                raise InvalidArgumentError(
                    f"arrays[{i}] with {a.shape[1]} columns must have D={mean.shape[0]} "
                    "columns like the arrays before it"
                )
            if a.shape[0] == 0:
                continue
            a = a.astype(np.float64, copy=False)
            if not np.all(np.isfinite(a)):
                raise InvalidArgumentError(f"arrays[{i}] must be finite; it holds NaN/inf")
            n_b = a.shape[0]
            mean_b = a.mean(axis=0)
            m2_b = ((a - mean_b) ** 2).sum(axis=0)
            if mean is None:
                n_tot, mean, m2 = n_b, mean_b, m2_b
                continue
            n_new = n_tot + n_b
            delta = mean_b - mean
            mean = mean + delta * (n_b / n_new)
            m2 = m2 + m2_b + delta**2 * (n_tot * n_b / n_new)
            n_tot = n_new
        if mean is None or n_tot == 0:
            raise InvalidArgumentError("arrays must hold at least one row to fit on")
        std = np.sqrt(np.maximum(m2 / n_tot, 0.0))
        return cls(
            mean=mean,
            std=std,
            names=None if names is None else tuple(names),
            count=n_tot,
            min_std=min_std,
        )

    # ------------------------------------------------------------------ applying
    def _check_x(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise InvalidArgumentError(
                f"x with shape {x.shape} must have D={self.dim} values in its last axis"
            )
        return x

    def transform(self, x: np.ndarray) -> np.ndarray:
        """``(x - mean) / scale``.

        Parameters
        ----------
        x : np.ndarray, shape (..., D)

        Returns
        -------
        np.ndarray, shape (..., D)
            Same float dtype as ``x`` (float64 for integer input).
        """
        x = self._check_x(x)
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
        return ((x - self.mean) / self._scale).astype(dtype, copy=False)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        """``x * scale + mean``, the inverse of :meth:`transform`; shape (..., D)."""
        x = self._check_x(x)
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
        return (x * self._scale + self.mean).astype(dtype, copy=False)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        """A JSON-ready dict (floats written with full float64 precision)."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "dim": self.dim,
            "count": self.count,
            "min_std": self.min_std,
            "names": None if self.names is None else list(self.names),
            "mean": [float(v) for v in self.mean],
            "std": [float(v) for v in self.std],
        }

    @classmethod
    def from_dict(cls, d: dict) -> FeatureNormalizer:
        """Rebuild a normaliser from :meth:`to_dict` output."""
        if not isinstance(d, dict) or d.get("format") != _FORMAT:
            raise InvalidArgumentError(f"d must be a dict with format={_FORMAT!r}")
        if d.get("version") != _VERSION:
            raise InvalidArgumentError(
                f"version={d.get('version')!r} must be {_VERSION} (written by a newer talkinghead?)"
            )
        try:
            return cls(
                mean=np.asarray(d["mean"], dtype=np.float64),
                std=np.asarray(d["std"], dtype=np.float64),
                names=None if d.get("names") is None else tuple(d["names"]),
                count=int(d.get("count", 0)),
                min_std=float(d.get("min_std", 1e-6)),
            )
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, InvalidArgumentError):
                raise
            raise InvalidArgumentError(f"d must hold 'mean' and 'std' lists of numbers: {e}") from e

    def save(self, path: str | os.PathLike) -> Path:
        """Write the statistics to ``path`` as JSON (atomically)."""
        from .._util.atomic import write_text_atomic

        return write_text_atomic(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> FeatureNormalizer:
        """Read statistics written by :meth:`save`.

        Raises
        ------
        CheckpointError
            If ``path`` is missing or does not hold a valid normaliser.
        """
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CheckpointError(f"path='{path}' must exist (feature normaliser JSON)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(
                f"path='{path}' must be a readable feature normaliser JSON file: {e}"
            ) from e
        try:
            return cls.from_dict(d)
        except InvalidArgumentError as e:
            raise CheckpointError(f"path='{path}' holds an invalid feature normaliser: {e}") from e
