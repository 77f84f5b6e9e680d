"""Progress bars that stay quiet when not wanted (tests, non-interactive use)."""

from __future__ import annotations

import os
import sys


def progress(iterable=None, *, total=None, desc: str = "", unit: str = "it", enabled=None):
    """Wrap ``iterable`` in a tqdm bar (with ETA) written to stderr.

    ``enabled=None`` shows the bar unless ``TALKINGHEAD_PROGRESS=0`` is set; the
    CLI turns it on, library callers may pass ``enabled=False``.
    """
    from tqdm.auto import tqdm

    if enabled is None:
        enabled = os.environ.get("TALKINGHEAD_PROGRESS", "1") != "0"
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
