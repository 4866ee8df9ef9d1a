"""Run Core ML NeuralNetwork specs on Linux: a translation of the spec into a PyTorch module.

The public names (``build_model``, ``EngineModel``, ``random_inputs``, ``compare_predictions``, ``Comparison``)
are loaded on first use, so ``mlsurgery.engine.errors`` can be imported without PyTorch; touching one of them
without PyTorch installed raises ``EngineUnavailableError`` (exit 2) saying what to install.
"""

from __future__ import annotations

import importlib

from .errors import require_torch

_PUBLIC = {
    "build_model": "models",
    "EngineModel": "models",
    "register_model_runner": "models",
    "random_inputs": "features",
    "compare_predictions": "compare",
    "Comparison": "compare",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    require_torch()
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
