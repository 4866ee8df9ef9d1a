"""Engine speed against plain PyTorch, side by side in one process (a report, not a test).

    python benchmarks/engine.py [--images 64] [--repeat 3] [--threads N] [--json benchmarks/engine_results.json]

Model: recipes/hands-turi.yaml's HandsEmpty (the Turi SqueezeNet fixture, 227 × 227, with an updatable
fullyconnected0 of 10 classes). Data: --images pictures drawn with pillow in 10 class folders.

- train throughput (examples per second) of ``mlsurgery.engine.training.train`` with batch 16, 1 epoch, against
  the same network written directly in PyTorch (SqueezeNet's fire modules, the spec's weights, the backbone run
  under ``torch.no_grad`` and the classifier trained with SGD on the same batches): target ratio ≥ 0.9.
  Reported for the engine's default (frozen layers computed once per example) and with ``reuse_frozen=False``
  (every mini-batch runs the whole network, as the device does); and, since the reuse pays off from the second
  epoch on, for 10 epochs too.
- predict latency of one image (PIL image in, probabilities out; the resize to 227 × 227 included on both sides).

Each figure is the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlsurgery.engine import build_model  # noqa: E402
from mlsurgery.engine.data import load_dataset  # noqa: E402
from mlsurgery.engine.losses import training_target  # noqa: E402
from mlsurgery.engine.training import train  # noqa: E402
from mlsurgery.engine.update_parameters import apply_overrides, read_parameters  # noqa: E402
from mlsurgery.io import load_spec  # noqa: E402
from mlsurgery.weights import float_values  # noqa: E402

BATCH = 16
CLASSES = ["rock", "paper", "scissors"] + [f"user{i}" for i in range(7)]


def draw_images(folder: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    for index in range(count):
        label = CLASSES[index % len(CLASSES)]
        (folder / label).mkdir(parents=True, exist_ok=True)
        image = Image.new("RGB", (160, 120), tuple(int(v) for v in rng.integers(0, 256, 3)))
        x, y = (int(v) for v in rng.integers(0, 80, 2))
        ImageDraw.Draw(image).ellipse([x, y, x + 40, y + 40], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        image.save(folder / label / f"{index}.png")


class Fire(nn.Module):
    def __init__(self, squeeze, expand1, expand3):
        super().__init__()
        self.squeeze, self.expand1, self.expand3 = squeeze, expand1, expand3

    def forward(self, x):
        x = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.expand1(x)), torch.relu(self.expand3(x))], dim=1)


class PlainSqueezeNet(nn.Module):
    """The fixture's SqueezeNet written directly in PyTorch, with the spec's weights."""

    def __init__(self, spec):
        super().__init__()
        layers = {layer.name: layer for layer in spec.neuralNetworkClassifier.layers}

        def conv(name, padding=0, stride=1):
            params = layers[name].convolution
            module = nn.Conv2d(params.kernelChannels, params.outputChannels, tuple(params.kernelSize),
                               stride=stride, padding=padding)
            module.weight.data = torch.from_numpy(float_values(params.weights).reshape(module.weight.shape).copy())
            module.bias.data = torch.from_numpy(float_values(params.bias).copy())
            return module

        self.conv1 = conv("conv1", stride=2)
        self.fires = nn.ModuleList(Fire(conv(f"fire{i}/squeeze1x1"), conv(f"fire{i}/expand1x1"),
                                        conv(f"fire{i}/expand3x3", padding=1)) for i in range(2, 10))
        self.conv10 = conv("conv10")
        fc = layers["fullyconnected0"].innerProduct
        self.fc = nn.Linear(fc.inputChannels, fc.outputChannels)
        self.fc.weight.data = torch.from_numpy(float_values(fc.weights).reshape(self.fc.weight.shape).copy())
        self.fc.bias.data = torch.from_numpy(float_values(fc.bias).copy())

    def features(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 3, 2, ceil_mode=False)
        for index, fire in enumerate(self.fires):
            x = fire(x)
            if index in (1, 3):
                x = nn.functional.max_pool2d(x, 3, 2, ceil_mode=False)
        return torch.relu(self.conv10(x)).mean(dim=(2, 3))

    def forward(self, x):
        return torch.softmax(self.fc(self.features(x)), dim=1)


def best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "engine_results.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from mlsurgery.recipe import apply_recipe, load_recipe

    work = Path(tempfile.mkdtemp(prefix="mlsurgery-engine-bench-"))
    apply_recipe(load_recipe(ROOT / "recipes" / "hands-turi.yaml"), output_dir=work)
    spec = load_spec(work / "HandsEmpty.mlmodel")
    draw_images(work / "photos", args.images)
    target = training_target(spec, True, spec.neuralNetworkClassifier.updateParams.lossLayers[0]
                             .categoricalCrossEntropyLossLayer.target)
    dataset = load_dataset(work / "photos", spec, target)
    one_epoch = apply_overrides(spec, read_parameters(spec), {"miniBatchSize": str(BATCH), "epochs": "1",
                                                               "shuffle": "false"})
    ten_epochs = apply_overrides(spec, one_epoch, {"epochs": "10"})

    plain = PlainSqueezeNet(spec)
    labels = {label: i for i, label in enumerate(spec.neuralNetworkClassifier.stringClassLabels.vector)}
    pixels = torch.from_numpy(dataset.features["image"])
    targets = torch.tensor([labels[label] for label in dataset.features[target]])
    engine_model = build_model(spec)
    # Same network? Compare the features before the classifier (the fixture's random weights saturate softmax).
    with torch.no_grad():
        engine_features = engine_model.blobs({"image": pixels[:4]}, 4)["flatten"].reshape(4, -1)
        plain_features = plain.features(pixels[:4])
    agreement = float(((engine_features - plain_features).abs().max() / plain_features.abs().max()))

    def plain_train(epochs: int):
        model = PlainSqueezeNet(spec)
        optimizer = torch.optim.SGD(model.fc.parameters(), lr=one_epoch.learning_rate)
        for _ in range(epochs):
            for start in range(0, len(pixels), BATCH):
                batch = torch.arange(start, start + BATCH) % len(pixels)
                with torch.no_grad():
                    features = model.features(pixels[batch])
                loss = nn.functional.cross_entropy(model.fc(features), targets[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

    count = dataset.count
    seconds = {
        "pytorch, 1 epoch": best(lambda: plain_train(1), args.repeat),
        "engine, 1 epoch": best(lambda: train(spec, dataset, one_epoch), args.repeat),
        "engine every batch full forward, 1 epoch": best(
            lambda: train(spec, dataset, one_epoch, reuse_frozen=False), args.repeat),
        "pytorch, 10 epochs": best(lambda: plain_train(10), 1),
        "engine, 10 epochs": best(lambda: train(spec, dataset, ten_epochs), 1),
    }
    throughput = {name: (count * (10 if "10" in name else 1)) / value for name, value in seconds.items()}

    image = Image.open(next((work / "photos" / "rock").iterdir())).convert("RGB")

    def plain_predict():
        resized = np.asarray(image.resize((227, 227), Image.BILINEAR), dtype=np.float32).transpose(2, 0, 1)
        with torch.no_grad():
            plain(torch.from_numpy(np.ascontiguousarray(resized))[None])

    engine_model.predict({"image": image})
    latency = {"engine predict": best(lambda: engine_model.predict({"image": image}), 10 * args.repeat),
               "pytorch forward": best(plain_predict, 10 * args.repeat)}

    report = {
        "machine": f"{platform.machine()}, {args.threads} torch threads, torch {torch.__version__}",
        "images": count, "batch": BATCH, "engine_vs_pytorch_features_max_relative_diff": agreement,
        "examples_per_second": throughput,
        "ratio_engine_to_pytorch_1_epoch": throughput["engine, 1 epoch"] / throughput["pytorch, 1 epoch"],
        "ratio_engine_full_forward_to_pytorch_1_epoch":
            throughput["engine every batch full forward, 1 epoch"] / throughput["pytorch, 1 epoch"],
        "ratio_engine_to_pytorch_10_epochs": throughput["engine, 10 epochs"] / throughput["pytorch, 10 epochs"],
        "predict_ms": {name: 1000 * value for name, value in latency.items()},
        "predict_ratio_pytorch_to_engine": latency["pytorch forward"] / latency["engine predict"],
    }
    print(f"{report['machine']}; {count} images, batch {BATCH}; engine vs PyTorch features differ by "
          f"{agreement:.2e} (relative to their largest) at most")
    for name, value in throughput.items():
        print(f"  train {name:44s} {value:8.1f} examples/s")
    print(f"  ratio engine / PyTorch: 1 epoch {report['ratio_engine_to_pytorch_1_epoch']:.2f} (target ≥ 0.9), "
          f"full forward {report['ratio_engine_full_forward_to_pytorch_1_epoch']:.2f}, "
          f"10 epochs {report['ratio_engine_to_pytorch_10_epochs']:.2f}")
    for name, value in report["predict_ms"].items():
        print(f"  {name:52s} {value:8.1f} ms per image")
    args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
