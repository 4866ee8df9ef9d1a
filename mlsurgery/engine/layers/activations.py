"""Activation functions, unary functions and clip, with the formulas of NeuralNetwork.proto."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ...weights import field_size
from .base import LayerModule, Stateless, Translator, channel_view, example_rank


class ChannelActivation(LayerModule):
    """PReLU and parametric softplus: parameters of length C (axis -3) or 1."""

    def __init__(self, layer, kind: str, params):
        super().__init__(layer)
        self.function = kind
        fields = ["alpha"] if kind == "PReLU" else ["alpha", "beta"]
        for field in fields:
            weights = getattr(params, field)
            count = max(1, field_size(weights, "floatValue") + field_size(weights, "float16Value") // 2)
            self.add_weight(field, weights, (count,), f"activation.{kind}.{field}")

    def forward(self, x):
        rank = example_rank(x)
        alpha = channel_view(self.alpha, rank)
        if self.function == "PReLU":
            return [torch.where(x >= 0, x, alpha * x)]
        return [alpha * F.softplus(channel_view(self.beta, rank) * x)]


def _activation(kind: str, params):
    if kind == "ReLU":
        return torch.relu
    if kind == "leakyReLU":
        return lambda x: torch.where(x >= 0, x, params.alpha * x)
    if kind == "tanh":
        return torch.tanh
    if kind == "scaledTanh":
        return lambda x: params.alpha * torch.tanh(params.beta * x)
    if kind == "sigmoid":
        return torch.sigmoid
    if kind == "linear":
        return lambda x: params.alpha * x + params.beta
    if kind == "sigmoidHard":
        return lambda x: torch.clamp(params.alpha * x + params.beta, 0.0, 1.0)
    if kind == "ELU":
        return lambda x: torch.where(x >= 0, x, params.alpha * torch.expm1(x))
    if kind == "thresholdedReLU":
        return lambda x: torch.where(x >= params.alpha, x, torch.zeros_like(x))
    if kind == "softsign":
        return lambda x: x / (1 + torch.abs(x))
    if kind == "softplus":
        return F.softplus
    return None


def activation(layer, context):
    kind = layer.activation.WhichOneof("NonlinearityType")
    params = getattr(layer.activation, kind) if kind else None
    if kind in ("PReLU", "parametricSoftplus"):
        return ChannelActivation(layer, kind, params)
    function = _activation(kind, params)
    module = Stateless(layer, function) if function else None
    if module is None:
        raise Stateless(layer, None).refuse(f"activation {kind or 'unset'!r}")
    module.kind = f"activation/{kind}"
    return module


def unary(layer, context):
    params = layer.unary
    names = type(params).Operation
    operation = names.Name(params.type)
    epsilon = params.epsilon or 1e-6
    scale = params.scale or 1.0  # proto: defaults to 1 when not set or 0
    shift, alpha = params.shift, params.alpha
    functions = {
        "SQRT": torch.sqrt,
        "RSQRT": lambda x: torch.rsqrt(x + epsilon),
        "INVERSE": lambda x: 1.0 / (x + epsilon),
        "POWER": lambda x: torch.pow(x, alpha),
        "EXP": torch.exp,
        "LOG": torch.log,
        "ABS": torch.abs,
        "THRESHOLD": lambda x: torch.clamp(x, min=alpha),
    }
    function = functions[operation]
    return Stateless(layer, lambda x: function(scale * x + shift))


def clip(layer, context):
    low, high = layer.clip.minVal, layer.clip.maxVal
    return Stateless(layer, lambda x: torch.clamp(x, low, high))


def _elementwise(function):
    return lambda layer, context: Stateless(layer, function)


_ELEMENTWISE = {
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "asin": torch.asin, "acos": torch.acos,
    "atan": torch.atan, "sinh": torch.sinh, "cosh": torch.cosh, "tanh": torch.tanh, "asinh": torch.asinh,
    "acosh": torch.acosh, "atanh": torch.atanh, "exp2": torch.exp2, "ceil": torch.ceil, "floor": torch.floor,
    "round": torch.round, "sign": torch.sign, "erf": torch.erf,
}


def gelu(layer, context):
    mode = type(layer.gelu).GeluMode.Name(layer.gelu.mode)
    if mode == "EXACT":
        return Stateless(layer, F.gelu)
    if mode == "TANH_APPROXIMATION":
        return Stateless(layer, lambda x: F.gelu(x, approximate="tanh"))
    return Stateless(layer, lambda x: x * torch.sigmoid(1.702 * x))  # SIGMOID_APPROXIMATION


def clamped_relu(layer, context):
    alpha, beta = layer.clampedReLU.alpha, layer.clampedReLU.beta
    return Stateless(layer, lambda x: torch.clamp(torch.where(x >= 0, x, alpha * x), max=beta))


# Layer kind → translator, for ``engine.layers.LAYER_TRANSLATORS``.
TRANSLATORS: dict[str, Translator] = {
    "activation": activation,
    "unary": unary,
    "clip": clip,
    "gelu": gelu,
    "clampedReLU": clamped_relu,
    **{kind: _elementwise(function) for kind, function in _ELEMENTWISE.items()},
}
