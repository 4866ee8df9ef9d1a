"""Run Core ML NeuralNetwork specs on Linux: a translation of the spec into a PyTorch module.

Importing this package imports PyTorch, so only code that runs models imports it (lazily, inside the command),
and commands that do not run models never load PyTorch. Without PyTorch, importing it (or any module in it)
raises ``EngineUnavailableError`` (exit 2) saying what to install.
"""

from __future__ import annotations

from importlib import import_module

from .errors import require_torch

require_torch()  # before any module of this package imports torch

# What the package offers, imported on first use: naming ``engine.errors`` (a job deciding whether it can measure a
# blob, say) must not cost the second PyTorch takes to import.
_EXPORTS = {"Comparison": ".compare", "compare_predictions": ".compare", "random_inputs": ".features",
            "EngineModel": ".models", "build_model": ".models"}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module, __name__), name)


__all__ = ["Comparison", "EngineModel", "build_model", "compare_predictions", "random_inputs"]
