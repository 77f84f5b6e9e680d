"""Text to speech with Debian's espeak-ng, for ``talkinghead say``.

The speech is written to a WAV file; the face then follows it through the
usual :func:`talkinghead.inference.animate` (with the text as transcript, so
the phones come from forced alignment).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..errors import DependencyError, InvalidArgumentError

__all__ = ["synthesize", "espeak_available"]


def espeak_available() -> bool:
    """True where the ``espeak-ng`` program is on the PATH."""
    return shutil.which("espeak-ng") is not None


def _voices(exe: str) -> set[str]:
    """Languages, voice names and voice files espeak-ng knows (lower case)."""
    out = subprocess.run([exe, "--voices"], capture_output=True, text=True, timeout=30).stdout
    names: set[str] = set()
    for line in out.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 5:
            names.update({cols[1].lower(), cols[3].lower(), cols[4].lower(),
                          cols[4].rsplit("/", 1)[-1].lower()})  # fmt: skip
    return names


def synthesize(
    text: str, path: str | os.PathLike, *, voice: str = "en-us", rate: int = 160, pitch: int = 50
) -> Path:
    """Speak ``text`` with espeak-ng into the WAV file ``path`` (22.05 kHz mono).

    Parameters
    ----------
    text : str
        What to say (non-empty).
    voice : str
        An espeak-ng voice, e.g. ``en-us``, ``en-gb``, ``en-us+f3`` (a variant).
    rate : int
        Words per minute (80-450).
    pitch : int
        0-99.
    """
    if not text or not text.strip():
        raise InvalidArgumentError("text='' must hold something to say")
    if not 80 <= int(rate) <= 450:
        raise InvalidArgumentError(f"rate={rate!r} must be between 80 and 450 words per minute")
    if not 0 <= int(pitch) <= 99:
        raise InvalidArgumentError(f"pitch={pitch!r} must be between 0 and 99")
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise DependencyError("text to speech needs espeak-ng: apt-get install espeak-ng")
    if voice.split("+")[0].lower() not in _voices(exe):
        raise InvalidArgumentError(
            f"voice={voice!r} must be an espeak-ng voice (see `espeak-ng --voices`), "
            "optionally with a variant such as en-us+f3"
        )
    from .._util.atomic import atomic_path

    path = Path(path)
    with atomic_path(path, suffix=".wav") as tmp:
        res = subprocess.run(
            [exe, "-v", voice, "-s", str(int(rate)), "-p", str(int(pitch)), "-w", str(tmp),
             "--stdin"],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=300,
        )  # fmt: skip
        if res.returncode != 0 or tmp.stat().st_size <= 44:
            msg = res.stderr.decode("utf-8", "replace").strip()
            raise InvalidArgumentError(f"voice={voice!r} must be an espeak-ng voice ({msg})")
    return path
