"""Normalizations and softmax: batchnorm, softmax (axis -3), softmaxND, l2normalize, LRN, MVN."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import LayerModule, Stateless, Translator, example_rank, tensor_axis


class Batchnorm(LayerModule):
    """Along axis -3; with ``computeMeanVar`` the statistics come from the instance or the whole example."""

    def __init__(self, layer, context):
        super().__init__(layer)
        params = layer.batchnorm
        channels = (int(params.channels),)
        self.epsilon = params.epsilon or 1e-5  # proto: 1e-5 when not set or 0
        self.compute_mean_var = params.computeMeanVar
        self.instance = params.instanceNormalization
        self.add_weight("gamma", params.gamma, channels, "gamma")
        self.add_weight("beta", params.beta, channels, "beta")
        if not self.compute_mean_var:
            self.add_weight("mean", params.mean, channels, "mean")
            self.add_weight("variance", params.variance, channels, "variance")

    def forward(self, x):
        view = (-1, 1, 1)
        if not self.compute_mean_var:
            scale = self.gamma / torch.sqrt(self.variance + self.epsilon)
            shift = self.beta - self.mean * scale
            return [x * scale.reshape(view) + shift.reshape(view)]
        # Statistics per example (every example of a batch is computed as its own prediction).
        axes = (-2, -1) if self.instance else tuple(a for a in range(1, x.dim()) if a != x.dim() - 3)
        mean = x.mean(dim=axes, keepdim=True)
        variance = x.var(dim=axes, keepdim=True, unbiased=False)
        normalized = (x - mean) / torch.sqrt(variance + self.epsilon)
        return [normalized * self.gamma.reshape(view) + self.beta.reshape(view)]


def softmax(layer, context):
    return Stateless(layer, lambda x: torch.softmax(x, dim=-3 if example_rank(x) >= 3 else -1))


def softmax_nd(layer, context):
    axis = int(layer.softmaxND.axis)
    return Stateless(layer, lambda x: torch.softmax(x, dim=tensor_axis(axis, example_rank(x))))


def l2_normalize(layer, context):
    epsilon = layer.l2normalize.epsilon or 1e-6

    def function(x):
        axes = (-3, -2, -1) if example_rank(x) >= 3 else tuple(range(1, x.dim()))
        return x / torch.sqrt(x.square().sum(dim=axes, keepdim=True) + epsilon)

    return Stateless(layer, function)


def lrn(layer, context):
    params = layer.lrn
    size, alpha, beta, k = int(params.localSize), params.alpha, params.beta, params.k or 1.0

    def function(x):
        lead = x.shape[:-3]
        images = x.reshape(-1, *x.shape[-3:])
        return F.local_response_norm(images, size, alpha, beta, k).reshape(*lead, *x.shape[-3:])

    return Stateless(layer, function)


def mvn(layer, context):
    params = layer.mvn
    epsilon = params.epsilon or 1e-6
    axes = (-3, -2, -1) if params.acrossChannels else (-2, -1)

    def function(x):
        centered = x - x.mean(dim=axes, keepdim=True)
        if not params.normalizeVariance:
            return centered
        return centered / torch.sqrt(centered.square().mean(dim=axes, keepdim=True) + epsilon)

    return Stateless(layer, function)


class LayerNormalization(LayerModule):
    def __init__(self, layer, context):
        super().__init__(layer)
        params = layer.layerNormalization
        self.shape = tuple(int(d) for d in params.normalizedShape)
        self.epsilon = params.eps
        self.add_weight("gamma", params.gamma, self.shape, "gamma")
        self.add_weight("beta", params.beta, self.shape, "beta")

    def forward(self, x):
        return [F.layer_norm(x, self.shape, self.gamma, self.beta, self.epsilon)]


# Layer kind → translator, for ``engine.layers.LAYER_TRANSLATORS``.
TRANSLATORS: dict[str, Translator] = {
    "batchnorm": Batchnorm,
    "softmax": softmax,
    "softmaxND": softmax_nd,
    "l2normalize": l2_normalize,
    "lrn": lrn,
    "mvn": mvn,
    "layerNormalization": LayerNormalization,
}
