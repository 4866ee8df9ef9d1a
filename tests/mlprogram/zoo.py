"""Small PyTorch models of the kinds users convert to ML Programs, each with how coremltools 9 is asked to convert it.

A ``Case`` says what the package is (inputs, precision, deployment target, classifier labels) and how to feed the
same example to PyTorch and to the converted model: image inputs take pixels (0–255, in the model's channel
order), which PyTorch sees after the package's own ``pixel * scale + bias`` preprocessing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

nn = torch.nn


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(8, 10), nn.Sigmoid(), nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 2))

    def forward(self, x):
        return self.layers(x)


class ResidualCNN(nn.Module):
    """Convolution, batchnorm, a residual add over a depthwise convolution, pooling, a linear head."""

    def __init__(self, classes: int = 3, channels: int = 3):
        super().__init__()
        self.conv = nn.Conv2d(channels, 8, 3, padding=1)
        self.norm = nn.BatchNorm2d(8)
        self.depthwise = nn.Conv2d(8, 8, 3, groups=8, padding=1)
        self.pointwise = nn.Conv2d(8, 8, 1)
        self.fc = nn.Linear(8, classes)
        with torch.no_grad():  # non-trivial statistics, so batchnorm is not the identity
            self.norm.running_mean.uniform_(-1, 1)
            self.norm.running_var.uniform_(0.5, 2)

    def forward(self, x):
        y = torch.relu(self.norm(self.conv(x)))
        y = y + self.pointwise(torch.relu(self.depthwise(y)))
        y = nn.functional.max_pool2d(y, 2)
        return self.fc(y.mean(dim=(2, 3)))


class SoftmaxCNN(ResidualCNN):
    def forward(self, x):
        return torch.softmax(super().forward(x), dim=1)


class SoftmaxMLP(nn.Module):
    def __init__(self, classes: int = 4):
        super().__init__()
        self.hidden = nn.Linear(6, 12)
        self.out = nn.Linear(12, classes)

    def forward(self, x):
        return torch.softmax(self.out(torch.tanh(self.hidden(x))), dim=1)


class TokenRecurrent(nn.Module):
    """Integer tokens → embedding → LSTM → GRU → linear."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20, 8)
        self.lstm = nn.LSTM(8, 6, batch_first=True)
        self.gru = nn.GRU(6, 5, batch_first=True)
        self.fc = nn.Linear(5, 3)

    def forward(self, tokens):
        y, _ = self.lstm(self.embedding(tokens))
        y, _ = self.gru(y)
        return self.fc(y[:, -1])


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, batch_first=True)
        self.gru = nn.GRU(6, 5, batch_first=True)

    def forward(self, x):
        y, _ = self.lstm(x)
        y, _ = self.gru(y)
        return y


class NormGelu(nn.Module):
    """A transformer-like block: attention by matmul, residual adds, layer norm, GELU."""

    def __init__(self):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 8)
        self.norm1, self.norm2 = nn.LayerNorm(8), nn.LayerNorm(8)
        self.ff1, self.ff2 = nn.Linear(8, 16), nn.Linear(16, 8)

    def forward(self, x):
        weights = torch.softmax(self.q(x) @ self.k(x).transpose(-1, -2) / 8 ** 0.5, dim=-1)
        y = self.norm1(x + weights @ self.v(x))
        return self.norm2(y + self.ff2(nn.functional.gelu(self.ff1(y))))


class Upsampler(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        near = nn.functional.interpolate(y, scale_factor=2, mode="nearest")
        bilinear = nn.functional.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)
        return near + bilinear


class CausalAttention(nn.Module):
    """PyTorch's fused attention: an iOS 18 package holds one scaled_dot_product_attention op."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(8, 24)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)


class TokenTransformer(nn.Module):
    """Integer tokens → embedding + positions → fused multi-head attention → layer norm, GELU → classes."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(30, 16)
        self.positions = nn.Parameter(torch.randn(1, 6, 16) * 0.1)
        self.qkv, self.out = nn.Linear(16, 48), nn.Linear(16, 16)
        self.norm1, self.norm2 = nn.LayerNorm(16), nn.LayerNorm(16)
        self.ff1, self.ff2 = nn.Linear(16, 32), nn.Linear(32, 3)

    def forward(self, tokens):
        x = self.embedding(tokens) + self.positions
        q, k, v = self.qkv(x).reshape(1, 6, 3, 4, 4).permute(2, 0, 3, 1, 4).unbind(0)
        attended = nn.functional.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(1, 6, 16)
        x = self.norm1(x + self.out(attended))
        return torch.softmax(self.ff2(nn.functional.gelu(self.norm2(x).mean(dim=1) @ self.ff1.weight.T)), dim=1)


@dataclass
class Image:
    """An ImageType input: ``scale`` and ``bias`` (one per channel, in the tensor's channel order)."""
    layout: str  # "RGB", "BGR" or "G"
    scale: float
    bias: list[float]


@dataclass
class Case:
    factory: Callable[[], nn.Module]
    shapes: list[tuple[int, ...]]
    target: str
    fp16: bool = False
    labels: list | None = None
    image: Image | None = None  # the first input is an image
    tokens: int = 0  # the first input holds integer tokens below this count
    names: list[str] = field(default_factory=list)
    trainable: bool = True  # whether a layer Core ML can train (dense, convolution) computes the output

    def input_names(self) -> list[str]:
        return self.names or [f"x{i}" for i in range(len(self.shapes))]

    def coreml_inputs(self) -> list:
        import coremltools as ct

        inputs = []
        for index, (name, shape) in enumerate(zip(self.input_names(), self.shapes)):
            if index == 0 and self.image is not None:
                layout = {"RGB": ct.colorlayout.RGB, "BGR": ct.colorlayout.BGR,
                          "G": ct.colorlayout.GRAYSCALE}[self.image.layout]
                bias = self.image.bias if self.image.layout != "G" else self.image.bias[0]
                inputs.append(ct.ImageType(name=name, shape=shape, scale=self.image.scale, bias=bias,
                                           color_layout=layout))
            elif index == 0 and self.tokens:
                inputs.append(ct.TensorType(name=name, shape=shape, dtype=np.int32))
            else:
                inputs.append(ct.TensorType(name=name, shape=shape))
        return inputs

    def examples(self, rng: np.random.Generator) -> list[np.ndarray]:
        """Model inputs as the converted model takes them (pixels for images, integer tokens as numbers)."""
        arrays = []
        for index, shape in enumerate(self.shapes):
            if index == 0 and self.image is not None:
                arrays.append(rng.integers(0, 256, shape).astype(np.float32))
            elif index == 0 and self.tokens:
                arrays.append(rng.integers(0, self.tokens, shape).astype(np.int32))
            else:
                arrays.append(rng.standard_normal(shape).astype(np.float32))
        return arrays

    def engine_inputs(self, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
        """The inputs as the converted model's predict takes them: an image is one [C, H, W] array of pixels."""
        values = [a[0] if index == 0 and self.image is not None else a for index, a in enumerate(arrays)]
        return dict(zip(self.input_names(), values))

    def torch_inputs(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """The same inputs as PyTorch takes them: images after the preprocessing the package declares."""
        inputs = list(arrays)
        if self.image is not None:
            bias = np.asarray(self.image.bias, dtype=np.float32).reshape(1, -1, 1, 1)
            inputs[0] = (arrays[0] * np.float32(self.image.scale) + bias).astype(np.float32)
        if self.tokens:
            inputs[0] = arrays[0].astype(np.int64)
        return inputs


CASES = {
    "regressor_fp32_ios15": Case(Regressor, [(1, 8)], "iOS15"),
    "residual_depthwise_fp16_ios16": Case(ResidualCNN, [(1, 3, 12, 12)], "iOS16", fp16=True),
    "image_classifier_strings_fp32_ios17": Case(
        SoftmaxCNN, [(1, 3, 10, 10)], "iOS17", labels=["cat", "dog", "fish"],
        image=Image("RGB", 1 / 255, [-0.5, -0.4, -0.3]), names=["image"]),
    "image_classifier_ints_fp16_ios18": Case(
        lambda: SoftmaxCNN(classes=4), [(1, 3, 10, 10)], "iOS18", fp16=True, labels=[3, 7, 11, 20],
        image=Image("BGR", 2 / 255, [-1.0, -0.9, -0.8]), names=["photo"]),
    "gray_image_regressor_fp16_ios15": Case(
        lambda: ResidualCNN(classes=2, channels=1), [(1, 1, 8, 8)], "iOS15", fp16=True,
        image=Image("G", 1 / 127.5, [-1.0])),
    "tensor_classifier_ints_fp32_ios16": Case(SoftmaxMLP, [(1, 6)], "iOS16", labels=[10, 20, 30, 40]),
    "tokens_lstm_gru_fp32_ios17": Case(TokenRecurrent, [(1, 7)], "iOS17", tokens=20, names=["tokens"]),
    "lstm_gru_fp16_ios16": Case(Recurrent, [(1, 5, 4)], "iOS16", fp16=True, trainable=False),
    "layer_norm_gelu_fp32_ios18": Case(NormGelu, [(1, 5, 8)], "iOS18", trainable=False),
    "upsampling_fp16_ios15": Case(Upsampler, [(1, 2, 4, 4)], "iOS15", fp16=True, trainable=False),
    "causal_attention_fp16_ios18": Case(CausalAttention, [(1, 5, 8)], "iOS18", fp16=True, trainable=False),
    # iOS 18 fp16: coremltools narrows integer indices to int16, which a NeuralNetwork widens back
    "token_transformer_classifier_fp16_ios18": Case(TokenTransformer, [(1, 6)], "iOS18", fp16=True,
                                                    labels=["negative", "neutral", "positive"], tokens=30,
                                                    names=["tokens"]),
}
