"""Layer translators: one torch module per Core ML layer kind, looked up in ``LAYER_TRANSLATORS``.

Each module of this package lists its translators in its ``TRANSLATORS`` table; this table joins them. A kind
missing from it is refused by ``translate_layer`` with ``UnsupportedModelError`` naming the layer and its kind.
"""

from __future__ import annotations

from ..errors import unsupported_layer
from . import activations, arithmetic, control, convolution, normalization, recurrent, reductions, shapes
from .base import Context, LayerModule, Translator

LAYER_TRANSLATORS: dict[str, Translator] = {
    **activations.TRANSLATORS,
    **arithmetic.TRANSLATORS,
    **control.TRANSLATORS,
    **convolution.TRANSLATORS,
    **normalization.TRANSLATORS,
    **recurrent.TRANSLATORS,
    **reductions.TRANSLATORS,
    **shapes.TRANSLATORS,
}


def translate_layer(layer, context: Context) -> LayerModule:
    kind = layer.WhichOneof("layer")
    translator = LAYER_TRANSLATORS.get(kind)
    if translator is None:
        raise unsupported_layer(layer.name, kind or "unset")
    return translator(layer, context)


__all__ = ["LAYER_TRANSLATORS", "Context", "LayerModule", "translate_layer"]
