"""Keep known start-up chatter of native libraries (mediapipe, TFLite) off the user's terminal.

mediapipe's C++ graph prints, on every run, lines that say nothing to a user of this tool::

    INFO: Created TensorFlow Lite XNNPACK delegate for CPU.
    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    W0000 00:00:... inference_feedback_manager.cc:114] Feedback manager requires a model ...
    W0000 00:00:... landmark_projection_calculator.cc:186] Using NORM_RECT without ...

They go to file descriptor 2 directly (no environment variable of this mediapipe silences
them). :func:`filtered_stderr` captures fd 2 for a short block (building the graph, its first
frame), drops exactly those lines and writes everything else back to stderr, so no other
message is lost. ``TALKINGHEAD_NATIVE_LOGS=1`` turns the filter off.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading

#: Lines dropped (regular expressions matched at the start of a line).
BENIGN = (
    r"INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.",
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    r"[WI]\d{4} [\d:.]+ +\d+ inference_feedback_manager\.cc:\d+\] Feedback manager requires",
    r"[WI]\d{4} [\d:.]+ +\d+ landmark_projection_calculator\.cc:\d+\] Using NORM_RECT without",
)
_BENIGN = re.compile("|".join(f"(?:{b})" for b in BENIGN))


def keep_line(line: str) -> bool:
    """False for a known benign native log line (:data:`BENIGN`)."""
    return _BENIGN.match(line) is None


_LOCK = threading.Lock()
_STATE = {"users": 0, "saved": None, "tmp": None}  # one capture per process, shared


class StderrFilter:
    """Capture fd 2 from :meth:`start` to :meth:`stop`, then write back every line but the
    benign ones (:data:`BENIGN`). ``stop`` twice, or without ``start``, does nothing.

    mediapipe's graph logs from its own threads, some of it after the constructor returned:
    :class:`~talkinghead.face.tracking.FaceTracker` starts the filter before building the graph
    and stops it after the first frame (or at ``close``). Filters that overlap (trackers
    built in several threads) share one capture: fd 2 is restored when the last one stops."""

    def __init__(self) -> None:
        self._active = False

    def start(self) -> StderrFilter:
        if self._active or os.environ.get("TALKINGHEAD_NATIVE_LOGS") == "1":
            return self
        with _LOCK:
            if _STATE["users"] == 0:
                with contextlib.suppress(Exception):
                    sys.stderr.flush()
                try:
                    saved = os.dup(2)  # where native code writes, whatever sys.stderr is
                except OSError:
                    return self
                tmp = tempfile.TemporaryFile(mode="w+b")
                os.dup2(tmp.fileno(), 2)
                _STATE.update(saved=saved, tmp=tmp)
            _STATE["users"] += 1
            self._active = True
        return self

    def stop(self) -> None:
        if not self._active:
            return
        with _LOCK:
            self._active = False
            _STATE["users"] -= 1
            if _STATE["users"] > 0:
                return
            saved, tmp = _STATE["saved"], _STATE["tmp"]
            _STATE.update(saved=None, tmp=None)
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", errors="replace")
            tmp.close()
        kept = [ln for ln in text.splitlines(keepends=True) if keep_line(ln)]
        if kept:
            os.write(2, "".join(kept).encode("utf-8"))


@contextlib.contextmanager
def filtered_stderr():
    """:class:`StderrFilter` around a block."""
    f = StderrFilter().start()
    try:
        yield
    finally:
        f.stop()
