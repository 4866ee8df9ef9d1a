"""Forward parity: PyTorch models converted by coremltools 9 give, in the engine, PyTorch's own outputs."""

from __future__ import annotations

import numpy as np
import pytest

from conversion import convert, torch, torch_outputs

nn = torch.nn
TOLERANCE = 1e-4


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(12, 16)
        self.out = nn.Linear(16, 4)

    def forward(self, x):
        return torch.softmax(self.out(torch.tanh(self.hidden(x))), dim=1)


class CNN(nn.Module):
    """Batchnorm, max and average pooling, a residual add over a dilated depthwise convolution, concat, slice."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.norm = nn.BatchNorm2d(8)
        self.depthwise = nn.Conv2d(8, 8, 3, groups=8, padding=2, dilation=2)
        self.strided = nn.Conv2d(16, 6, 3, stride=2)
        self.fc = nn.Linear(6 * 2 * 2, 5)
        with torch.no_grad():  # non-trivial statistics, so batchnorm is not the identity
            self.norm.running_mean.uniform_(-1, 1)
            self.norm.running_var.uniform_(0.5, 2)
            self.norm.weight.uniform_(0.5, 1.5)
            self.norm.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        y = nn.functional.max_pool2d(torch.relu(self.norm(self.conv(x))), 2)
        y = y + self.depthwise(y)
        y = torch.cat([y, nn.functional.leaky_relu(y, 0.1)], dim=1)
        y = nn.functional.avg_pool2d(self.strided(y), 1) * 2
        return torch.softmax(self.fc(torch.flatten(y[:, :, :2, :2], 1)), dim=1)


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(8, 10), nn.Sigmoid(), nn.Linear(10, 10), nn.ELU(), nn.Linear(10, 1))

    def forward(self, x):
        return self.layers(x)


class Splitter(nn.Module):
    """The seed article's 1 × K convolution over a [1, 2, 100] signal."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, (1, 5), padding=(0, 2))
        self.conv2 = nn.Conv2d(4, 2, (1, 3), padding=(0, 1))

    def forward(self, x):
        y = torch.relu(self.conv1(x.reshape(1, 1, 2, 100)))
        return torch.sigmoid(self.conv2(y)).reshape(1, 2, 2, 100)


class Layers(nn.Module):
    """Deconvolution, upsample (nearest and bilinear), reflection padding, permute, reshape, matmul, activations."""

    def __init__(self):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)
        self.grouped = nn.ConvTranspose2d(4, 4, 2, stride=2, groups=2)
        self.prelu = nn.PReLU(3)

    def forward(self, x, e):
        y = self.prelu(self.deconv(x))
        y = nn.functional.interpolate(y, scale_factor=2, mode="nearest")
        y = nn.functional.pad(y, (1, 1, 2, 2), mode="reflect")
        z = nn.functional.interpolate(self.grouped(x), scale_factor=2, mode="bilinear", align_corners=True)
        m = torch.matmul(e, e.transpose(1, 2)).unsqueeze(0).squeeze(0)
        a = nn.functional.elu(e) + nn.functional.softplus(e) + torch.exp(e * 0.1) + torch.clamp(e, -0.5, 0.5)
        a = a + nn.functional.hardsigmoid(e) + torch.sqrt(torch.abs(e) + 1) + nn.functional.gelu(e)
        return y.permute(0, 2, 3, 1).reshape(1, -1), z, m, a


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, batch_first=True)
        self.gru = nn.GRU(6, 5, batch_first=True)
        self.fc = nn.Linear(5, 2)

    def forward(self, x):
        y, _ = self.lstm(x)
        y, _ = self.gru(y)
        return self.fc(y[:, -1])


class Attention(nn.Module):
    """Self-attention with layer norm and GELU; mean, sum and max reductions."""

    def __init__(self):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 8)
        self.norm = nn.LayerNorm(8)

    def forward(self, x):
        weights = torch.softmax(self.q(x) @ self.k(x).transpose(-1, -2) / 8 ** 0.5, dim=-1)
        y = self.norm(x + weights @ self.v(x))
        return nn.functional.gelu(y).mean(dim=1), y.sum(-1), y.max(dim=-1)[0]


class Signal(nn.Module):
    """1-D convolution, batchnorm, pooling, adaptive average pooling; two examples in the model's batch axis."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 3, padding=1)
        self.norm = nn.BatchNorm1d(6)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        y = nn.functional.max_pool1d(torch.relu(self.norm(self.conv(x))), 2)
        return self.fc(nn.functional.adaptive_avg_pool1d(y, 1).squeeze(-1))


class Assorted(nn.Module):
    """Element-wise functions, argmax, bilinear resize, pixel shuffle, instance norm, normalize, where, split."""

    def forward(self, x):
        f = nn.functional
        return ((x - 1) / (x.abs() + 2), torch.pow(x, 2) + torch.sqrt(x.abs()), torch.argmax(x, dim=1), f.silu(x),
                f.hardswish(x), torch.where(x > 0, x, -x), f.interpolate(x, size=(6, 6), mode="bilinear",
                                                                           align_corners=False),
                f.pixel_shuffle(torch.cat([x] * 4, 1), 2), torch.split(x, 1, dim=1)[1], f.normalize(x, dim=1),
                f.instance_norm(x), f.avg_pool2d(x, 2, ceil_mode=True), f.max_pool2d(x, 3, 1, 1),
                torch.stack([x, x], 0).sum(0))


class DeepRecurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 5, num_layers=2, batch_first=True, bidirectional=True)

    def forward(self, x):
        y, (h, c) = self.lstm(x)
        return y, h


CASES = {
    "mlp": (MLP, [(1, 12)]),
    "cnn": (CNN, [(1, 3, 12, 12)]),
    "regressor": (Regressor, [(1, 8)]),
    "splitter": (Splitter, [(1, 2, 100)]),
    "layers": (Layers, [(1, 4, 3, 3), (1, 5, 4)]),
    "recurrent": (Recurrent, [(1, 7, 4)]),
    "attention": (Attention, [(1, 5, 8)]),
    "signal": (Signal, [(2, 4, 10)]),
    "assorted": (Assorted, [(1, 3, 4, 4)]),
    "deep_recurrent": (DeepRecurrent, [(1, 6, 4)]),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def converted(request):
    torch.manual_seed(7)
    factory, shapes = CASES[request.param]
    module = factory()
    return module, convert(module, shapes), shapes


def test_engine_matches_pytorch_on_random_inputs(converted):
    from mlsurgery.engine import build_model

    module, spec, shapes = converted
    model = build_model(spec)
    rng = np.random.default_rng(3)
    for _ in range(3):
        arrays = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
        expected = torch_outputs(module, arrays)
        got = model.predict({f"x{i}": a for i, a in enumerate(arrays)})
        outputs = [got[feature.name] for feature in spec.description.output]
        for want, have in zip(expected, outputs):
            np.testing.assert_allclose(have.reshape(want.shape), want, atol=TOLERANCE, rtol=0)


def test_predict_batch_equals_one_by_one(converted):
    from mlsurgery.engine import build_model

    module, spec, shapes = converted
    model = build_model(spec)
    rng = np.random.default_rng(4)
    batch = {f"x{i}": rng.standard_normal((5, *shape)).astype(np.float32) for i, shape in enumerate(shapes)}
    together = model.predict_batch(batch)
    for index in range(5):
        alone = model.predict({name: values[index] for name, values in batch.items()})
        for name, value in alone.items():
            np.testing.assert_allclose(together[name][index], value, atol=1e-6)



def test_a_converted_classifier_gives_its_label_and_probabilities():
    from mlsurgery.engine import build_model

    torch.manual_seed(3)
    module = MLP()
    spec = convert(module, [(1, 12)], classifier_labels=["north", "east", "south", "west"])
    model = build_model(spec)
    x = np.random.default_rng(8).standard_normal((1, 12)).astype(np.float32)
    expected = torch_outputs(module, [x])[0][0]
    outputs = model.predict({"x0": x})
    probabilities = outputs[spec.description.predictedProbabilitiesName]
    assert list(probabilities) == ["north", "east", "south", "west"]
    np.testing.assert_allclose(list(probabilities.values()), expected, atol=TOLERANCE)
    assert outputs[spec.description.predictedFeatureName] == ["north", "east", "south", "west"][int(expected.argmax())]
