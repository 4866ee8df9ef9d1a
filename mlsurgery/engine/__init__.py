"""Run Core ML NeuralNetwork specs on Linux: a translation of the spec into a PyTorch module.

Importing this package imports PyTorch, so only code that runs models imports it (lazily, inside the command),
and commands that do not run models never load PyTorch. Without PyTorch, importing it (or any module in it)
raises ``EngineUnavailableError`` (exit 2) saying what to install.
"""

from __future__ import annotations

from .errors import require_torch

require_torch()  # before any module below imports torch

from .compare import Comparison, compare_predictions  # noqa: E402
from .features import random_inputs  # noqa: E402
from .models import EngineModel, build_model  # noqa: E402

__all__ = ["Comparison", "EngineModel", "build_model", "compare_predictions", "random_inputs"]
