"""Progress bars that stay quiet when not wanted (tests, non-interactive use)."""

from __future__ import annotations

import os
import sys


def progress(iterable=None, *, total=None, desc: str = "", unit: str = "it", enabled=None):
    """Wrap ``iterable`` in a tqdm bar (with ETA) written to stderr.

    ``enabled=None`` shows the bar unless ``TALKINGHEAD_PROGRESS=0`` is set (``-q``), which
    also wins over ``enabled=True``; library callers may pass ``enabled=False``.
    """
    from tqdm.auto import tqdm

    quiet = os.environ.get("TALKINGHEAD_PROGRESS", "1") == "0"  # `talkinghead -q` sets it
    enabled = not quiet if enabled is None else bool(enabled) and not quiet
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
        mininterval=0.5,
    )
