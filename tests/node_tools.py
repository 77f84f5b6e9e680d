"""Node.js packages for the tests that drive a browser or the glTF validator."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

NODE_JS = Path(__file__).resolve().parent / "export" / "js"  # package.json + lockfile


@functools.cache
def node_modules_skip_reason() -> str | None:
    """Install tests/export/js/node_modules (gltf-validator, three, playwright-core, pinned by
    its lockfile) with ``npm ci`` when missing; return a skip reason, or None when installed.

    Every test that needs a Node package calls this, so none depends on another test having
    installed them first.
    """
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not installed (apt-get install nodejs npm)"
    mods = NODE_JS / "node_modules"
    if not all((mods / p).is_dir() for p in ("gltf-validator", "three", "playwright-core")):
        cmd = ["npm", "ci", "--no-audit", "--no-fund"]
        if not (NODE_JS / "package-lock.json").is_file():
            cmd[1] = "install"
        r = subprocess.run(cmd, cwd=NODE_JS, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            return f"npm could not install {NODE_JS}/package.json: {r.stderr[-300:]}"
    return None
