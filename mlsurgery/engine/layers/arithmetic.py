"""Element-wise arithmetic, dense layers (innerProduct, batchedMatMul, embedding), oneHot, bias/scale, constants
and the matrix masks (lowerTriangular, upperTriangular, matrixBandPart)."""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from .base import LayerModule, Stateless, Translator, align_ranks, example_rank, shared_integers, tensor_axis


def _reduce(function, inputs):
    return functools.reduce(function, align_ranks(*inputs))


def add(layer, context):
    alpha = layer.add.alpha
    return Stateless(layer, lambda *xs: xs[0] + alpha if len(xs) == 1 else _reduce(torch.add, xs))


def multiply(layer, context):
    alpha = layer.multiply.alpha
    return Stateless(layer, lambda *xs: xs[0] * alpha if len(xs) == 1 else _reduce(torch.mul, xs))


def average(layer, context):
    return Stateless(layer, lambda *xs: _reduce(torch.add, xs) / len(xs))


def maximum(layer, context):
    return Stateless(layer, lambda *xs: _reduce(torch.maximum, xs))


def minimum(layer, context):
    return Stateless(layer, lambda *xs: _reduce(torch.minimum, xs))


_BROADCASTABLE = {
    "addBroadcastable": torch.add, "subtractBroadcastable": torch.sub, "multiplyBroadcastable": torch.mul,
    "divideBroadcastable": torch.div, "maxBroadcastable": torch.maximum, "minBroadcastable": torch.minimum,
    "powBroadcastable": torch.pow, "floorDivBroadcastable": torch.floor_divide,
    "modBroadcastable": torch.remainder,
}


def _broadcastable(function):
    return lambda layer, context: Stateless(layer, lambda *xs: _reduce(function, xs))


class InnerProduct(LayerModule):
    """``y = W x + b``; rank ≥ 4 examples flatten their last three axes (NeuralNetwork.proto)."""

    def __init__(self, layer, context):
        super().__init__(layer)
        params = layer.innerProduct
        self.outputs = int(params.outputChannels)
        self.add_weight("weight", params.weights, (params.outputChannels, params.inputChannels), "weights")
        self.bias = self.add_weight("bias", params.bias, (params.outputChannels,), "bias") if params.hasBias \
            else None

    def forward(self, x):
        rank = example_rank(x)
        if rank >= 4:
            lead = x.shape[:-3]
            y = F.linear(x.reshape(*lead, -1), self.weight, self.bias)
            return [y.reshape(*lead, self.outputs, 1, 1)]
        return [F.linear(x, self.weight, self.bias)]


class BatchedMatMul(LayerModule):
    """``matmul(A, B)`` of two inputs, or of one input and the layer's weight matrix (plus bias)."""

    def __init__(self, layer, context):
        super().__init__(layer)
        params = layer.batchedMatmul
        self.transpose_a, self.transpose_b = params.transposeA, params.transposeB
        self.weight = self.bias = None
        if params.weightMatrixFirstDimension or params.weightMatrixSecondDimension or len(layer.input) == 1:
            # NeuralNetwork.proto stores the [X1, X2] weight matrix in column-major order: its values are [X2, X1].
            self.add_weight("weight", params.weights,
                            (params.weightMatrixSecondDimension, params.weightMatrixFirstDimension), "weights")
            if params.hasBias:
                self.add_weight("bias", params.bias, (params.weightMatrixSecondDimension,), "bias")

    def forward(self, a, b=None):
        a_vector = example_rank(a) == 1
        if a_vector:
            a = a.unsqueeze(-2)
        elif self.transpose_a:
            a = a.transpose(-1, -2)
        if b is None:
            y = torch.matmul(a, self.weight.transpose(0, 1))
            if self.bias is not None:
                y = y + self.bias
        else:
            if not a_vector and example_rank(b) > 1:
                a, b = align_ranks(a, b)
            b_vector = example_rank(b) == 1
            b = b.unsqueeze(-1) if b_vector else (b.transpose(-1, -2) if self.transpose_b else b)
            y = torch.matmul(a, b)
            if b_vector:
                y = y.squeeze(-1)
        return [y.squeeze(-2) if a_vector else y]


class Embedding(LayerModule):
    """Legacy embedding: ``[.., 1, 1, 1]`` indices → ``[.., C, 1, 1]``; weights ``[outputChannels, inputDim]``."""

    def __init__(self, layer, context):
        super().__init__(layer)
        self.nd = layer.WhichOneof("layer") == "embeddingND"
        params = layer.embeddingND if self.nd else layer.embedding
        rows = params.embeddingSize if self.nd else params.outputChannels
        self.vocabulary = int(params.vocabSize if self.nd else params.inputDim)
        self.add_weight("weight", params.weights, (rows, self.vocabulary), "weights")
        self.bias = self.add_weight("bias", params.bias, (rows,), "bias") if params.hasBias else None

    def forward(self, x):
        indices = x.round().long()
        if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= self.vocabulary):
            from ..errors import EngineRuntimeError

            raise EngineRuntimeError(f"layer {self.layer_name!r} (embedding): index {int(indices.max())} or "
                                     f"{int(indices.min())} is outside [0, {self.vocabulary - 1}]")
        table = self.weight.t()
        if self.nd:
            y = F.embedding(indices.squeeze(-1), table)
        else:
            y = F.embedding(indices.squeeze(-1).squeeze(-1).squeeze(-1), table)
        if self.bias is not None:
            y = y + self.bias
        return [y if self.nd else y.unsqueeze(-1).unsqueeze(-1)]


def one_hot(layer, context):
    """OneHotLayerParams: a new axis ``axis`` (of the output) of ``oneHotVectorSize`` values, ``onValue`` at the
    input's index and ``offValue`` elsewhere; an index outside [0, size - 1] (negative ones too) gives all
    ``offValue``. A second input sets the size, which must then be the same for every example."""
    params = layer.oneHot
    axis, on, off = int(params.axis), float(params.onValue), float(params.offValue)

    def function(x, size_input=None):
        size = int(params.oneHotVectorSize) if size_input is None else shared_integers(size_input, "one-hot sizes")[0]
        hot = x.round().long().unsqueeze(-1) == torch.arange(size)
        y = torch.where(hot, torch.tensor(on, dtype=x.dtype), torch.tensor(off, dtype=x.dtype))
        return y.movedim(-1, tensor_axis(axis, example_rank(x) + 1))

    return Stateless(layer, function)


def _matrices(x: torch.Tensor) -> torch.Tensor:
    """``x``, checked to hold matrices in its last two axes (without the check a rank-1 example's matrix would be
    taken across the examples)."""
    if example_rank(x) < 2:
        raise ValueError("the input needs rank 2 or more (its last two axes are the matrix)")
    return x


def _band(x: torch.Tensor, lower: int, upper: int) -> torch.Tensor:
    """``x`` with each innermost matrix zeroed outside the band ``-lower <= n - m <= upper`` (a negative bound is
    no bound): MatrixBandPartLayerParams' ``band(m, n)``. The last two axes are the matrix, the rest batch."""
    rows, columns = _matrices(x).shape[-2:]
    offset = torch.arange(columns) - torch.arange(rows).unsqueeze(-1)  # n - m
    inside = torch.ones(rows, columns, dtype=torch.bool)
    if lower >= 0:
        inside &= -offset <= lower
    if upper >= 0:
        inside &= offset <= upper
    # Outside the band the proto sets zero ("copies a tensor setting everything outside ... to zero"), even where
    # the input is inf or NaN, which multiplying by the band would not.
    return torch.where(inside, x, torch.zeros((), dtype=x.dtype))


def matrix_band_part(layer, context):
    params = layer.matrixBandPart
    return Stateless(layer, lambda x: _band(x, int(params.numLower), int(params.numUpper)))


def lower_triangular(layer, context):
    """LowerTriangularLayerParams: zero above diagonal ``k`` (numpy.tril), i.e. keep ``n - m <= k``."""
    k = int(layer.lowerTriangular.k)

    def function(x):
        return torch.tril(_matrices(x), k)

    return Stateless(layer, function)


def upper_triangular(layer, context):
    """UpperTriangularLayerParams: zero below diagonal ``k`` (numpy.triu), i.e. keep ``n - m >= k``."""
    k = int(layer.upperTriangular.k)

    def function(x):
        return torch.triu(_matrices(x), k)

    return Stateless(layer, function)


def _broadcast_shape(shape) -> tuple[int, ...]:
    """``[1]``, ``[C]``, ``[1, H, W]`` or ``[C, H, W]`` as a shape broadcasting along the last three axes."""
    shape = tuple(int(d) for d in shape) or (1,)
    return (shape[0], 1, 1) if len(shape) == 1 else shape


class ScaleBias(LayerModule):
    """``scale`` (``x * s [+ b]``) and ``bias`` (``x + b``) with shapes [1], [C], [1,H,W] or [C,H,W]."""

    def __init__(self, layer, context):
        super().__init__(layer)
        self.scale = self.bias = None
        if layer.WhichOneof("layer") == "bias":
            self.add_weight("bias", layer.bias.bias, _broadcast_shape(layer.bias.shape), "bias")
            return
        params = layer.scale
        self.add_weight("scale", params.scale, _broadcast_shape(params.shapeScale), "scale")
        if params.hasBias:
            self.add_weight("bias", params.bias, _broadcast_shape(params.shapeBias), "bias")

    def forward(self, x):
        y = x * self.scale if self.scale is not None else x
        return [y + self.bias if self.bias is not None else y]


class Constant(LayerModule):
    """loadConstant (``[1, 1, C, H, W]``) and loadConstantND (its ``shape``), repeated for every example."""

    def __init__(self, layer, context):
        super().__init__(layer)
        nd = layer.WhichOneof("layer") == "loadConstantND"
        params = layer.loadConstantND if nd else layer.loadConstant
        shape = tuple(int(d) for d in params.shape)
        self.add_weight("value", params.data, shape, "data")
        self.out_shape = shape if nd else (1, 1) + shape

    def forward(self, batch_size: int):
        # A layer without inputs is called with the number of examples (see network.NetworkModule).
        return [self.value.reshape(self.out_shape).unsqueeze(0).expand(batch_size, *self.out_shape)]


def dot(layer, context):
    cosine = layer.dot.cosineSimilarity

    def function(a, b):
        lead = a.shape[:-3] if example_rank(a) >= 3 else a.shape[:-1]
        flat_a, flat_b = a.reshape(*lead, -1), b.reshape(*lead, -1)
        y = (flat_a * flat_b).sum(-1)
        if cosine:
            y = y / (flat_a.norm(dim=-1) * flat_b.norm(dim=-1))
        return y.reshape(*lead, 1, 1, 1) if example_rank(a) >= 3 else y.unsqueeze(-1)

    return Stateless(layer, function)


# Layer kind → translator, for ``engine.layers.LAYER_TRANSLATORS``.
TRANSLATORS: dict[str, Translator] = {
    "add": add,
    "multiply": multiply,
    "average": average,
    "max": maximum,
    "min": minimum,
    "innerProduct": InnerProduct,
    "batchedMatmul": BatchedMatMul,
    "embedding": Embedding,
    "embeddingND": Embedding,
    "scale": ScaleBias,
    "bias": ScaleBias,
    "loadConstant": Constant,
    "loadConstantND": Constant,
    "dot": dot,
    "oneHot": one_hot,
    "matrixBandPart": matrix_band_part,
    "lowerTriangular": lower_triangular,
    "upperTriangular": upper_triangular,
    **{kind: _broadcastable(function) for kind, function in _BROADCASTABLE.items()},
}
