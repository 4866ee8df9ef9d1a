"""Layer translators: one torch module per Core ML layer kind, looked up in ``LAYER_TRANSLATORS``.

Importing this package registers every translator of its modules. A kind missing from the table is refused by
``translate_layer`` with ``UnsupportedModelError`` naming the layer and its kind.
"""

from __future__ import annotations

from .base import LAYER_TRANSLATORS, Context, LayerModule, register_layer, translate_layer
from . import activations, arithmetic, control, convolution, normalization, recurrent, reductions, shapes  # noqa: F401  (registers)

__all__ = ["LAYER_TRANSLATORS", "Context", "LayerModule", "register_layer", "translate_layer"]
