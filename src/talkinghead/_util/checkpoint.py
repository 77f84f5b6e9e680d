"""Reading checkpoint folders (``config.json`` + ``model.safetensors``) with clear errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..errors import CheckpointError


def read_checkpoint_config(
    directory: str | os.PathLike, *, fmt: str, version: int, what: str = "model checkpoint"
) -> dict:
    """The parsed ``config.json`` of a checkpoint folder, checked for ``fmt`` and ``version``.

    Raises
    ------
    CheckpointError
        The file is missing, unreadable, not JSON, or of another format or version
        (the message names the file).
    """
    cfg_path = Path(directory) / "config.json"
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"path='{cfg_path}' must exist ({what})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"path='{cfg_path}' must be a readable JSON file: {e}") from None
    if not isinstance(cfg, dict) or cfg.get("format") != fmt:
        raise CheckpointError(f"path='{cfg_path}' must have format={fmt!r}")
    if cfg.get("version") != version:
        raise CheckpointError(
            f"path='{cfg_path}' has version={cfg.get('version')!r}; must be {version}"
        )
    return cfg


def read_checkpoint_weights(
    directory: str | os.PathLike, *, what: str = "model weights", backend: str = "numpy"
) -> dict:
    """The tensors of a checkpoint folder's ``model.safetensors`` (numpy or torch arrays).

    Raises
    ------
    CheckpointError
        The file is missing or not a valid safetensors file (the message names it).
    """
    if backend == "torch":
        from safetensors.torch import load_file
    else:
        from safetensors.numpy import load_file
    w_path = Path(directory) / "model.safetensors"
    if not w_path.is_file():
        raise CheckpointError(f"path='{w_path}' must exist ({what})")
    try:
        return load_file(str(w_path))
    except Exception as e:  # safetensors raises its own error types
        raise CheckpointError(f"path='{w_path}' must be a valid safetensors file: {e}") from e


def checkpoint_format(directory: str | os.PathLike) -> str | None:
    """The ``format`` field of a checkpoint folder's ``config.json`` (None if unreadable)."""
    try:
        cfg = json.loads((Path(directory) / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return cfg.get("format") if isinstance(cfg, dict) else None


#: The trainer's state file inside a resumable ``last/`` checkpoint.
TRAINER_STATE = "trainer_state.json"


def replace_folder(dest: str | os.PathLike, write) -> Path:
    """Replace the folder ``dest`` with a new one, never leaving none.

    ``write(folder)`` fills a fresh ``<dest>.new`` folder; it is then swapped in (``dest``
    -> ``<dest>.old`` -> removed). A kill at any moment leaves at least one complete folder.
    """
    import shutil

    dest = Path(dest)
    new, old = dest.with_name(dest.name + ".new"), dest.with_name(dest.name + ".old")
    shutil.rmtree(new, ignore_errors=True)
    write(new)
    if dest.exists():
        shutil.rmtree(old, ignore_errors=True)
        dest.rename(old)
    new.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
    return dest


def save_last_checkpoint(out_dir: Path, write) -> Path:
    """Replace ``out_dir/last`` with a new resumable checkpoint (:func:`replace_folder`);
    :func:`find_last_checkpoint` finds a complete one after a kill at any moment."""
    return replace_folder(Path(out_dir) / "last", write)


def find_last_checkpoint(out_dir: Path) -> Path | None:
    """The complete resumable checkpoint folder in ``out_dir`` (``last``, or a swap's leftover)."""
    for name in ("last", "last.new", "last.old"):
        p = Path(out_dir) / name
        if (p / TRAINER_STATE).is_file() and (p / "config.json").is_file():
            return p
    return None


class PretrainedMixin:
    """``save_pretrained`` / ``from_pretrained`` of a checkpoint folder (diffusers-style):
    ``config.json`` (``format``, ``version``, then the model's fields) + ``model.safetensors``
    (+ the model's sub-folders and extra files), written atomically, ``config.json`` last (its
    presence marks a complete checkpoint).

    A model class sets the class attributes below and implements the hooks
    ``_checkpoint_tensors(half) -> {name: array}``, ``_checkpoint_config() -> dict``,
    optionally ``_save_extras(directory)`` (sub-folders, extra files; before config.json), and
    the classmethod ``_from_checkpoint(directory, cfg, tensors) -> model``. Errors of the
    files are :class:`~talkinghead.errors.CheckpointError` naming the file.
    """

    #: ``config.json``'s ``format`` and ``version``.
    checkpoint_format: str = ""
    checkpoint_version: int = 1
    #: What the folder is, in error messages ("student", "refiner checkpoint", ...).
    checkpoint_what: str = "model checkpoint"
    #: What ``model.safetensors`` is, in error messages.
    weights_what: str = "model weights"
    #: Arrays of the safetensors file: ``"numpy"`` or ``"torch"``.
    weights_backend: str = "numpy"
    #: ``json.dumps`` indent of ``config.json`` (None: one line).
    config_indent: int | None = 1
    #: Default of ``save_pretrained(half=)``; None: the model stores float32 only.
    half_default: bool | None = None

    def save_pretrained(self, directory: str | os.PathLike, *, half: bool | None = None) -> Path:
        """Write the checkpoint folder (atomically); returns it.

        Parameters
        ----------
        directory : path
            Created if missing; the files in it are replaced.
        half : bool, optional
            Store the floating-point weights as float16 (half the size; loaded back as
            float32). Default: the class's :attr:`half_default`.
        """
        from ..errors import InvalidArgumentError
        from .atomic import atomic_path, write_text_atomic

        if half is None:
            half = bool(self.half_default)
        elif half and self.half_default is None:
            raise InvalidArgumentError(
                f"half={half!r} must be False: {type(self).__name__} stores float32 weights"
            )
        if self.weights_backend == "torch":
            from safetensors.torch import save_file
        else:
            from safetensors.numpy import save_file
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        tensors = self._checkpoint_tensors(half)
        with atomic_path(d / "model.safetensors") as tmp:
            save_file(tensors, str(tmp))
        self._save_extras(d)
        cfg = {"format": self.checkpoint_format, "version": self.checkpoint_version,
               **self._checkpoint_config()}  # fmt: skip
        write_text_atomic(d / "config.json", json.dumps(cfg, indent=self.config_indent) + "\n")
        return d

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike | None = None):
        """Load a folder written by :meth:`save_pretrained` (None: the class's shipped one,
        when it has one).

        Raises
        ------
        CheckpointError
            A missing or inconsistent file (the message names it).
        """
        if directory is None:
            directory = cls._default_checkpoint()
        d = Path(directory)
        cfg = read_checkpoint_config(d, fmt=cls.checkpoint_format, version=cls.checkpoint_version,
                                     what=cls.checkpoint_what)  # fmt: skip
        tensors = read_checkpoint_weights(d, what=cls.weights_what, backend=cls.weights_backend)
        return cls._from_checkpoint(d, cfg, tensors)

    @classmethod
    def _default_checkpoint(cls) -> Path:
        from ..errors import InvalidArgumentError

        raise InvalidArgumentError(f"directory=None must be a {cls.__name__} checkpoint folder")

    def _save_extras(self, directory: Path) -> None:
        """Sub-folders and extra files of the checkpoint (written before config.json)."""


class TorchModuleCheckpoint(PretrainedMixin):
    """:class:`PretrainedMixin` hooks of a ``torch.nn.Module`` built from one config
    dataclass (``config_class``, with ``to_dict``/``from_dict``): the ``state_dict`` as the
    weights (float16 on ``half=True``, loaded back as float32), ``{"config": ...}`` in
    ``config.json``, and the module returned in eval mode.
    """

    weights_backend = "torch"
    #: The model's config dataclass.
    config_class: type = object

    def _checkpoint_tensors(self, half: bool) -> dict:
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        if half:
            state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        return state

    def _checkpoint_config(self) -> dict:
        return {"config": self.config.to_dict()}

    @classmethod
    def _from_checkpoint(cls, d: Path, cfg: dict, state: dict):
        from ..errors import InvalidArgumentError

        try:
            config = cls.config_class.from_dict(cfg["config"])
        except (KeyError, TypeError, InvalidArgumentError) as e:
            raise CheckpointError(
                f"path='{d / 'config.json'}' has an invalid config: {e}"
            ) from None
        model = cls(config)
        try:
            state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
            model.load_state_dict(state)
        except (RuntimeError, OSError) as e:
            wpath = d / "model.safetensors"
            raise CheckpointError(f"path='{wpath}' does not match config.json: {e}") from None
        return model.eval()


class TorchTwinMixin:
    """A model that predicts in numpy from :attr:`weights` (a torch ``state_dict`` as
    float32 arrays) and trains as a torch module, :attr:`net`, built on first use.

    The class implements ``_build_net() -> torch.nn.Module`` (the same topology) and keeps
    ``self._net`` (None until :attr:`net` is read, or set when built for training).
    """

    @property
    def net(self):
        """The torch module (built from :attr:`weights` on first use; for training)."""
        if self._net is None:
            import torch

            self._net = self._build_net()
            self._net.load_state_dict({k: torch.from_numpy(v) for k, v in self.weights.items()})
        return self._net

    def pull_weights(self) -> None:
        """Copy the torch module's current parameters into :attr:`weights` (after training)."""
        self.weights = {
            k: v.detach().cpu().numpy().astype(np.float32).copy()
            for k, v in self._net.state_dict().items()
        }
