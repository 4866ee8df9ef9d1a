"""Identity layers (a ``copy``, a linear activation with alpha 1 and beta 0) are removed.

They compute nothing, but Core ML's backpropagation walk stops at them (only a few layer kinds pass gradients),
so one between the trainable layers and the loss hides every layer before it. The layer's consumers read its
input instead; when its output is a model output, the layer that wrote its input writes that output instead.
Refused when the blobs involved are written more than once or used inside a loop or branch body, and when the
layer copies a model input straight to a model output.
"""

from __future__ import annotations

from ...changes import Changes
from ...edit import remove_layer
from ...rewrite_matches.base import Match
from ...rewrite_matches.identity import CODE, find
from .base import Rewrite


def apply(spec, match: Match) -> Changes:
    # edit.remove_layer keeps a model output's name: the layer before then writes it.
    changes = Changes("remove identity layers")
    changes.extend(remove_layer(spec, match.layer))
    return changes


REWRITE = Rewrite(CODE, "remove-identity-layer", find, apply)
