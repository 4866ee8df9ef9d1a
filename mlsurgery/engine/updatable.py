"""Which weights train (only layers marked ``isUpdatable``, and in them only the WeightParams marked
``isUpdatable``), and writing their trained values back into the spec."""

from __future__ import annotations

import torch

from ..weights import set_float_values
from .errors import UnsupportedModelError
from .layers import LayerModule
from .models import NeuralNetworkModel, PipelineModel


def network_model(model) -> NeuralNetworkModel:
    """The NeuralNetworkModel holding the updatable layers (the model itself, or a pipeline's last stage)."""
    while isinstance(model, PipelineModel):
        model = model.stages[-1]
    if not isinstance(model, NeuralNetworkModel):
        raise UnsupportedModelError("training runs neural networks; the updatable model is not one")
    return model


def updatable_parameters(model) -> list[tuple[LayerModule, str, torch.nn.Parameter]]:
    """(layer module, parameter name, parameter) of every weight marked updatable in an updatable layer."""
    found_in = network_model(model)
    layers = {layer.name: layer for layer in found_in.network.layers}
    found = []
    for step in found_in.module.steps:
        layer = layers.get(step.layer_name)
        if layer is None or not layer.isUpdatable:
            continue
        for module in step.modules():
            if not isinstance(module, LayerModule):
                continue
            for name, path in module.weight_fields.items():
                if weights_at(layer, path).isUpdatable:
                    found.append((module, name, getattr(module, name)))
    return found


def weights_at(layer, path: str):
    """The WeightParams message at ``path`` (e.g. ``weights`` or ``weights[2]``) inside ``layer``'s params."""
    message = getattr(layer, layer.WhichOneof("layer"))
    for part in path.split("."):
        name, _, index = part.partition("[")
        message = getattr(message, name)
        if index:
            message = message[int(index.rstrip("]"))]
    return message


def write_back(trained_in: NeuralNetworkModel, trainable) -> None:
    """Store each trained parameter's values in its WeightParams of ``trained_in``'s spec."""
    layers = {layer.name: layer for layer in trained_in.network.layers}
    for module, name, parameter in trainable:
        set_float_values(weights_at(layers[module.layer_name], module.weight_fields[name]),
                         parameter.detach().numpy())
