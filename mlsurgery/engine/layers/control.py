"""Control flow (loop, branch, loopBreak, loopContinue), comparisons and logic, the gathers and scatters.

Loop and branch bodies are nested networks that read and write the blobs of the enclosing network
(NeuralNetwork.proto, LoopLayerParams). A condition must be the same for every example computed at once;
otherwise the examples would need different control flow, and the layer says so rather than guess.
"""

from __future__ import annotations

import torch

from ..errors import EngineRuntimeError
from .base import LayerModule, Stateless, Translator, align_ranks, example_rank, shared_integers, tensor_axis

TRUE_THRESHOLD = 1e-6  # |value| above it is true (BranchLayerParams, LoopLayerParams)


class LoopBreak(Exception):
    pass


class LoopContinue(Exception):
    pass


def _truth(layer_name: str, value: torch.Tensor) -> bool:
    flags = (value.reshape(value.shape[0], -1)[:, 0].abs() > TRUE_THRESHOLD)
    if bool(flags.all()) != bool(flags.any()):
        raise EngineRuntimeError(f"layer {layer_name!r}: the condition differs between the examples of one batch; "
                                 "predict them one at a time")
    return bool(flags[0])


class Scoped(LayerModule):
    """A layer that runs nested networks on the enclosing network's blobs (``run_scope``)."""

    scoped = True


class Loop(Scoped):
    def __init__(self, layer, context):
        super().__init__(layer)
        params = layer.loop
        self.max_iterations = int(params.maxLoopIterations)
        self.condition_var = params.conditionVar
        # The proto pairs conditionVar with conditionNetwork; an empty name means a plain for loop (case 1).
        self.condition = context.translate_network(params.conditionNetwork) if params.conditionVar else None
        self.body = context.translate_network(params.bodyNetwork)
        self.count_input = layer.input[0] if len(layer.input) else None

    def run_scope(self, values: dict, batch_size: int) -> None:
        limit = self.max_iterations
        if self.count_input is not None:
            limit = shared_integers(values[self.count_input], "iteration counts")[0]
        bounded = self.condition is None or limit > 0
        iteration = 0
        while True:
            if bounded and iteration >= limit:
                return
            if self.condition is not None:
                self.condition.run_scope(values, batch_size)
                if not _truth(self.layer_name, values[self.condition_var]):
                    return
            try:
                self.body.run_scope(values, batch_size)
            except LoopContinue:
                pass
            except LoopBreak:
                return
            iteration += 1


class Branch(Scoped):
    def __init__(self, layer, context):
        super().__init__(layer)
        params = layer.branch
        self.if_branch = context.translate_network(params.ifBranch)
        self.else_branch = context.translate_network(params.elseBranch) if params.HasField("elseBranch") else None
        self.condition_input = layer.input[0]

    def run_scope(self, values: dict, batch_size: int) -> None:
        if _truth(self.layer_name, values[self.condition_input]):
            self.if_branch.run_scope(values, batch_size)
        elif self.else_branch is not None:
            self.else_branch.run_scope(values, batch_size)


class Jump(Scoped):
    def run_scope(self, values: dict, batch_size: int) -> None:
        raise LoopBreak() if self.kind == "loopBreak" else LoopContinue()


def _comparison(kind: str, function):
    def translate(layer, context):
        alpha = getattr(layer, kind).alpha if hasattr(getattr(layer, kind), "alpha") else 0.0
        return Stateless(layer, lambda a, b=None: (function(a, alpha) if b is None else function(*align_ranks(a, b))).to(a.dtype))

    return translate


_COMPARISONS = {
    "greaterThan": torch.gt, "greaterEqual": torch.ge, "lessThan": torch.lt, "lessEqual": torch.le,
    "equal": torch.eq, "notEqual": torch.ne,
}


def _logical(function):
    return lambda layer, context: Stateless(
        layer, lambda *xs: function(*[x.abs() > TRUE_THRESHOLD for x in align_ranks(*xs)]).to(xs[0].dtype))




def _per_example(function, *tensors):
    """Apply ``function`` to each example's tensors (shapes without N) and stack the results."""
    if all(bool((t == t[:1]).all()) for t in tensors[1:]):  # same indices everywhere: one call for all
        return torch.stack([function(tensors[0][n], *[t[0] for t in tensors[1:]])
                            for n in range(tensors[0].shape[0])])
    return torch.stack([function(*[t[n] for t in tensors]) for n in range(tensors[0].shape[0])])


def _indices(index: torch.Tensor, size: int) -> torch.Tensor:
    index = index.round().long()
    return torch.where(index < 0, index + size, index)


def gather(layer, context):
    axis = int(layer.gather.axis)

    def one(data, index):
        dim = axis % data.dim()
        flat = _indices(index.reshape(-1), data.shape[dim])
        taken = data.index_select(dim, flat)
        return taken.reshape(*data.shape[:dim], *index.shape, *data.shape[dim + 1:])

    return Stateless(layer, lambda data, index: _per_example(one, data, index))


def scatter(layer, context):
    params = layer.scatter
    axis = int(params.axis)
    mode = params.mode

    def one(container, index, updates):
        dim = axis % container.dim()
        result = container.clone().movedim(dim, 0)
        flat = _indices(index.reshape(-1), container.shape[dim])
        # updates: container.shape[:dim] + index.shape + container.shape[dim+1:] → [I, rest of result]
        moved = updates.reshape(*container.shape[:dim], flat.numel(), *container.shape[dim + 1:]).movedim(dim, 0)
        for position, target in enumerate(flat.tolist()):
            result[target] = _SCATTER_MODES[mode](result[target], moved[position])
        return result.movedim(0, dim)

    return Stateless(layer, lambda container, index, updates: _per_example(one, container, index, updates))


# ScatterMode (NeuralNetwork.proto): how an update combines with the value it lands on.
_SCATTER_MODES = {
    0: lambda current, update: update,  # SCATTER_UPDATE
    1: torch.add, 2: torch.sub, 3: torch.mul, 4: torch.div, 5: torch.maximum, 6: torch.minimum,
}


def _points(indices: torch.Tensor, data_shape) -> torch.Tensor:
    """GatherND/ScatterND multi-indices ``[N, I_0 .. I_(K-1), I_K]`` as longs, checked against the first ``I_K``
    axes of the data. The proto gives them no negative form (unlike gather's), so a negative index is refused."""
    depth = indices.shape[-1]
    if depth > len(data_shape):
        raise ValueError(f"indices address {depth} axes of a rank-{len(data_shape)} tensor")
    points = indices.round().long()
    sizes = torch.as_tensor(data_shape[:depth])
    if bool(((points < 0) | (points >= sizes)).any()):
        raise ValueError(f"an index is outside the data's shape {list(data_shape)}")
    return points


def gather_nd(layer, context):
    """GatherNDLayerParams: ``output[i..j, :] = params[indices[i..j, :], :]``, of shape
    ``indices.shape[:-1] + params.shape[indices.shape[-1]:]``."""

    def function(data, indices):
        points = _points(indices, data.shape[1:])
        examples = torch.arange(data.shape[0]).reshape(-1, *[1] * (points.dim() - 2))
        y = data[(examples, *points.unbind(-1))]
        return y if y.dim() > 1 else y.reshape(-1, 1)  # a rank-0 result is a rank-1 [1] tensor, like argMax's

    return Stateless(layer, function)


def scatter_nd(layer, context):
    """ScatterNDLayerParams: ``output = container``, then for each multi-index in ``indices`` in order,
    ``output[indices[i..j, :], :] = mode(output[...], updates[i..j, :])``. The points are applied one after another
    (each to every example at once), so repeated indices combine in order as the proto's loop does."""
    mode = int(layer.scatterND.mode)

    def function(container, indices, updates):
        points = _points(indices, container.shape[1:])
        depth, n = points.shape[-1], container.shape[0]
        expected = (*points.shape[1:-1], *container.shape[1 + depth:])
        if tuple(updates.shape[1:]) != expected:
            raise ValueError(f"updates of shape {list(updates.shape[1:])}, the indices and container need "
                             f"{list(expected)}")
        points = points.reshape(n, -1, depth)
        moved = updates.reshape(n, points.shape[1], *container.shape[1 + depth:])
        result = container.clone()
        examples = torch.arange(n)
        for position in range(points.shape[1]):
            target = (examples, *points[:, position].unbind(-1))
            result[target] = _SCATTER_MODES[mode](result[target], moved[:, position])
        return result

    return Stateless(layer, function)


def scatter_along_axis(layer, context):
    """ScatterAlongAxisLayerParams (numpy.put_along_axis): ``output[.., indices[.., p, ..], ..] =
    mode(output[...], updates[.., p, ..])`` along ``axis``, negative indices counting from the end. Two updates
    land on one element only when they differ in their position ``p`` along the axis, so applying the positions in
    order gives the proto's loop order."""
    params = layer.scatterAlongAxis
    axis, mode = int(params.axis), int(params.mode)

    def function(container, indices, updates):
        if updates.shape != indices.shape:
            raise ValueError(f"updates of shape {list(updates.shape[1:])}, the indices' shape is "
                             f"{list(indices.shape[1:])}")
        dim = tensor_axis(axis, example_rank(container))
        index = _indices(indices, container.shape[dim])
        result = container.clone()
        for position in range(index.shape[dim]):
            target, update = index.narrow(dim, position, 1), updates.narrow(dim, position, 1)
            result.scatter_(dim, target, _SCATTER_MODES[mode](result.gather(dim, target), update))
        return result

    return Stateless(layer, function)


# Layer kind → translator, for ``engine.layers.LAYER_TRANSLATORS``.
TRANSLATORS: dict[str, Translator] = {
    "loop": Loop,
    "branch": Branch,
    "gather": gather,
    "scatter": scatter,
    "gatherND": gather_nd,
    "scatterND": scatter_nd,
    "scatterAlongAxis": scatter_along_axis,
    "loopBreak": lambda layer, context: Jump(layer),
    "loopContinue": lambda layer, context: Jump(layer),
    **{kind: _comparison(kind, function) for kind, function in _COMPARISONS.items()},
    "logicalAnd": _logical(torch.logical_and),
    "logicalOr": _logical(torch.logical_or),
    "logicalXor": _logical(torch.logical_xor),
    "logicalNot": _logical(torch.logical_not),
}
