"""Tiny PyTorch models converted with coremltools 9 (``convert_to="neuralnetwork"``), once per test session.

These are the shapes users bring: an MLP, a CNN with batchnorm and pooling, a residual add, a depthwise
convolution, a 1-D convolution, a GRU, the seed article's 1 × K trendline splitter and a regressor. ``converted(name)`` returns the
eval-mode PyTorch module, its example input shape, and the converted spec (a fresh copy each call).
"""

from __future__ import annotations

import copy
import functools
import warnings

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden, self.out = nn.Linear(8, 16), nn.Linear(16, 3)

    def forward(self, x):
        return torch.softmax(self.out(torch.relu(self.hidden(x))), dim=1)


class CNN(nn.Module):
    """Convolution, ReLU, a batchnorm the converter cannot fold (it follows the ReLU), pooling, dense head."""

    def __init__(self):
        super().__init__()
        self.conv, self.norm = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.pool, self.dense = nn.MaxPool2d(2), nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        x = self.pool(self.norm(torch.relu(self.conv(x))))
        return torch.softmax(self.dense(torch.flatten(x, 1)), dim=1)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Conv2d(3, 3, 3, padding=1), nn.Conv2d(3, 3, 3, padding=1)
        self.dense = nn.Linear(3 * 8 * 8, 4)

    def forward(self, x):
        y = torch.relu(self.second(torch.relu(self.first(x))) + x)
        return torch.softmax(self.dense(torch.flatten(y, 1)), dim=-1)


class Depthwise(nn.Module):
    def __init__(self):
        super().__init__()
        self.depthwise, self.pointwise = nn.Conv2d(4, 4, 3, padding=1, groups=4), nn.Conv2d(4, 8, 1)
        self.pool, self.dense = nn.AdaptiveAvgPool2d(1), nn.Linear(8, 3)

    def forward(self, x):
        x = torch.relu(self.pointwise(torch.relu(self.depthwise(x))))
        return torch.softmax(self.dense(self.pool(x).flatten(1)), dim=1)


class Conv1d(nn.Module):
    """A 1-D convolution, which the converter writes as expandDims → 2-D convolution → squeeze."""

    def __init__(self):
        super().__init__()
        self.conv, self.dense = nn.Conv1d(3, 6, 5, padding=2), nn.Linear(6 * 16, 4)

    def forward(self, x):
        return torch.softmax(self.dense(torch.relu(self.conv(x)).flatten(1)), dim=-1)


class GRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru, self.dense = nn.GRU(4, 6, batch_first=True), nn.Linear(6, 3)

    def forward(self, x):
        outputs, _ = self.gru(x)
        return torch.softmax(self.dense(outputs[:, -1, :]), dim=1)


class Splitter(nn.Module):
    """The seed article's trendline splitter: 1 × K convolutions over a height-1 map, a sigmoid per point."""

    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(2, 8, (1, 7), padding=(0, 3))
        self.second = nn.Conv2d(8, 1, (1, 3), padding=(0, 1))

    def forward(self, x):
        x = torch.relu(self.first(x.unsqueeze(2)))
        return torch.sigmoid(self.second(x)).flatten(1)


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden, self.out = nn.Linear(5, 8), nn.Linear(8, 1)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x)))


MODELS = {
    "mlp": (MLP, (1, 8)),
    "cnn": (CNN, (1, 3, 8, 8)),
    "residual": (Residual, (1, 3, 8, 8)),
    "depthwise": (Depthwise, (1, 4, 8, 8)),
    "conv1d": (Conv1d, (1, 3, 16)),
    "gru": (GRU, (1, 5, 4)),
    "splitter": (Splitter, (1, 2, 20)),
    "regressor": (Regressor, (1, 5)),
}
CLASSIFIERS = ("mlp", "cnn", "residual", "depthwise", "conv1d", "gru")


@functools.lru_cache(maxsize=None)
def _convert(name: str):
    import coremltools as ct

    make, shape = MODELS[name]
    torch.manual_seed(sum(map(ord, name)))
    module = make().eval()
    with torch.no_grad():
        for parameter in module.buffers():  # a batchnorm with non-trivial statistics
            if parameter.dtype.is_floating_point and parameter.numel() > 1:
                parameter.uniform_(0.5, 1.5)
    traced = torch.jit.trace(module, torch.randn(*shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ct.convert(traced, convert_to="neuralnetwork", inputs=[ct.TensorType(name="x", shape=shape)])
    return module, shape, model.get_spec()


def converted(name: str):
    module, shape, spec = _convert(name)
    return module, shape, copy.deepcopy(spec)


def torch_output(module, x):
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()
