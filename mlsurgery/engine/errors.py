"""Errors of the engine. This module imports no torch, so commands can name them without loading PyTorch."""

from __future__ import annotations

from ..errors import EXIT_INVALID, MLSurgeryError, UsageError

INSTALL_HINT = "pip install 'mlsurgery[train]' (PyTorch >= 2.1, CPU build is enough)"


class UnsupportedModelError(MLSurgeryError):
    """A model type, layer kind or parameter the engine cannot compute: refused rather than approximated."""


class EngineUnavailableError(MLSurgeryError):
    """PyTorch is not installed; running models needs it."""


class InputError(UsageError):
    """An input value that does not fit the model's declared input (shape, type, unreadable file)."""


class EngineRuntimeError(MLSurgeryError):
    """A layer could not compute on the values it received (e.g. shapes the model's own layers disagree on)."""


def unsupported_layer(name: str, kind: str, why: str = "") -> UnsupportedModelError:
    detail = f": {why}" if why else ""
    return UnsupportedModelError(f"layer {name!r} (kind {kind!r}) is not implemented by the engine{detail}")


def require_torch() -> None:
    """Raise ``EngineUnavailableError`` unless PyTorch can be imported (checked without importing it)."""
    import importlib.util

    try:
        found = importlib.util.find_spec("torch")
    except (ImportError, ValueError):  # a broken install, or torch blocked in sys.modules
        found = None
    if found is None:
        raise EngineUnavailableError(f"running models needs PyTorch, which is not installed: {INSTALL_HINT}")


class TrainingDivergedError(MLSurgeryError):
    """The loss (or a trained weight) became NaN or infinite: the run would not train, nothing is written.

    ``epoch`` and ``batch`` (1-based) say where; both are None when only the weights were found non-finite.
    """

    exit_code = EXIT_INVALID

    def __init__(self, message: str, epoch: int | None = None, batch: int | None = None):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
