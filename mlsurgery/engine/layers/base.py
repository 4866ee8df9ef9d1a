"""What every layer translator shares: the module base class, the translator type and the tensor layout.

Layout: every blob is a float32 tensor ``[N, *shape]`` where ``N`` is the number of examples computed at once
and ``shape`` is the blob's shape for one example exactly as Core ML sees it: rank 5 ``[Seq, Batch, C, H, W]``
in a network with the legacy rank-5 input mapping, the blob's own rank with exact-rank mapping
(NeuralNetwork.proto, ``NeuralNetworkMultiArrayShapeMapping``). Layers that the proto describes as "leading
dimensions are treated as batch" therefore need no special case for ``N``; layers with an ``axis`` parameter
convert it with ``tensor_axis``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..errors import unsupported_layer
from ..parameters import weight_array


@dataclass(frozen=True)
class Context:
    """What a translator may need to know about the network around the layer."""

    exact_rank: bool  # coreml.exact_rank_arrays(network) (otherwise legacy rank 5)
    where: str = ""  # "pipeline stage 2" etc., for messages
    translate_network: Callable | None = None  # builds a nested network (loop and branch bodies)


class LayerModule(nn.Module):
    """One Core ML layer. ``forward(*inputs)`` returns a list with one tensor per layer output.

    Weights are registered as parameters in Core ML's own layout (so writing them back is a flat copy) and are
    frozen until training marks the updatable ones; ``weight_fields`` maps parameter name → field path in the
    layer's parameter message.
    """

    def __init__(self, layer):
        super().__init__()
        self.layer_name = layer.name
        self.kind = layer.WhichOneof("layer")
        self.weight_fields: dict[str, str] = {}
        self.trainable = False  # set by training when one of the weights is being trained

    def add_weight(self, name: str, weights, shape, field: str, *, channel_axis: int = 0) -> torch.Tensor:
        values = weight_array(weights, tuple(int(d) for d in shape), f"layer {self.layer_name!r} {field}",
                              channel_axis=channel_axis)
        parameter = nn.Parameter(torch.from_numpy(values), requires_grad=False)
        if name in self.__dict__:  # a placeholder ``None`` set before the weight was known to exist
            delattr(self, name)
        self.register_parameter(name, parameter)
        self.weight_fields[name] = field
        return parameter

    def add_constant(self, name: str, values) -> torch.Tensor:
        self.register_buffer(name, torch.as_tensor(np.asarray(values, dtype=np.float32)), persistent=False)
        return getattr(self, name)

    def refuse(self, why: str):
        return unsupported_layer(self.layer_name, self.kind, why)


class Stateless(LayerModule):
    """A layer without weights whose computation is a function of its inputs."""

    def __init__(self, layer, function: Callable[..., torch.Tensor | list[torch.Tensor]]):
        super().__init__(layer)
        self.function = function

    def forward(self, *inputs):
        result = self.function(*inputs)
        return result if isinstance(result, list) else [result]


Translator = Callable[[object, Context], LayerModule]


def example_rank(x: torch.Tensor) -> int:
    return x.dim() - 1


def tensor_axis(axis: int, rank: int) -> int:
    """Tensor dimension of the per-example ``axis`` (negative counts from the end) in a ``[N, *shape]`` tensor."""
    if not -rank <= axis < rank:
        raise IndexError(f"axis {axis} is out of range for rank {rank}")
    return (axis % rank) + 1


def channel_view(values: torch.Tensor, rank: int) -> torch.Tensor:
    """A per-channel vector shaped to broadcast along axis -3 of a rank-``rank`` example."""
    return values.reshape(-1, 1, 1) if rank >= 3 else values


def align_ranks(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """Give every ``[N, *shape]`` tensor the same example rank by adding leading 1s after ``N``, so broadcasting
    lines up the examples' axes from the right (plain torch broadcasting would pair ``N`` with an example axis)."""
    rank = max(example_rank(t) for t in tensors)
    return [t if example_rank(t) == rank else t.reshape(t.shape[0], *([1] * (rank - example_rank(t))), *t.shape[1:])
            for t in tensors]


def shared_values(values: torch.Tensor, what: str) -> list[float]:
    """The values of a ``[N, ...]`` blob that set an output's shape (a target shape, a size, slice bounds).

    The examples computed at once share one output tensor, so they must agree on these values; if they do not,
    the layer says so rather than compute every example with the first one's values.
    """
    if not bool((values == values[:1]).all()):
        raise ValueError(f"the examples of one batch give different {what}; predict them one at a time")
    return [float(v) for v in values[0].reshape(-1).tolist()]


def shared_integers(values: torch.Tensor, what: str) -> list[int]:
    """``shared_values`` of a blob holding integers (shapes, sizes, indices), stored as floats like every blob."""
    return [round(v) for v in shared_values(values, what)]
