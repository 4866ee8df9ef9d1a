"""A blob's tensor shape measured by running the network once: Core ML computes N-D shapes only at run time.

``mlsurgery.ops.features.blob_shape`` takes it as its ``measure`` callable when propagation
(``mlsurgery.shapes.nd``) does not know a layer (operations sit below the engine and never import it).
"""

from __future__ import annotations

import torch

from ..errors import SurgeryError
from .features import random_inputs
from .models import NeuralNetworkModel


def measure_blob_shape(model_spec, blob: str) -> tuple[int, ...]:
    """The shape of ``blob`` (batch axis dropped) when the network of ``model_spec`` (a plain network model) runs
    on seeded inputs of its declared shapes."""
    model = NeuralNetworkModel(model_spec)
    example = random_inputs(model_spec, 0)[0]
    with torch.no_grad():
        blobs = model.blobs({name: model._one(name, value) for name, value in example.items()}, 1)
    if blob not in blobs:
        raise SurgeryError(f"blob {blob!r} was not computed when the network ran; name a blob on the way to the "
                           "outputs")
    return tuple(int(dim) for dim in blobs[blob].shape[1:])
