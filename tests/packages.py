"""Real ``.mlpackage`` folders for tests, written by coremltools 9 inside the test run (nothing committed)."""

from __future__ import annotations

import shutil
from pathlib import Path

SPEC = Path("Data") / "com.apple.CoreML" / "model.mlmodel"
WEIGHTS = Path("Data") / "com.apple.CoreML" / "weights" / "weight.bin"


def ml_program_package(folder: Path, *, name: str = "Mlp.mlpackage", classifier: bool = False,
                       hidden: int = 16) -> Path:
    """A small PyTorch MLP (8 inputs → hidden → 3) converted with coremltools' defaults: an ML Program whose
    weights live in weights/weight.bin (fp16, iOS 15 unless ``classifier``, which is fp32 for iOS 17)."""
    import coremltools as ct
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 3)).eval()
    traced = torch.jit.trace(model, torch.zeros(1, 8))
    options = {}
    if classifier:
        options = dict(classifier_config=ct.ClassifierConfig(["ant", "bee", "cat"]),
                       compute_precision=ct.precision.FLOAT32, minimum_deployment_target=ct.target.iOS17)
    converted = ct.convert(traced, inputs=[ct.TensorType(name="x", shape=(1, 8))], **options)
    path = folder / name
    converted.save(str(path))
    return path


def network_package(spec_file: Path, folder: Path) -> Path:
    """The NeuralNetwork spec of ``spec_file`` saved by coremltools as an .mlpackage (same spec bytes inside)."""
    import coremltools as ct

    path = folder / f"{spec_file.stem}.mlpackage"
    ct.utils.save_spec(ct.utils.load_spec(str(spec_file)), str(path))
    return path


def copy_package(package: Path, folder: Path, name: str | None = None) -> Path:
    target = folder / (name or package.name)
    shutil.copytree(package, target)
    return target


def compressed_package(folder: Path, compression: str) -> Path:
    """An MLP (8 → 64 → 3, iOS 16) whose two weight matrices coremltools.optimize compressed: ``palettized``
    (4-bit), ``linearly quantized`` (int8) or ``sparse`` (50 % pruned); the biases stay fp16."""
    import coremltools as ct
    import coremltools.optimize.coreml as cto
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.ReLU(), torch.nn.Linear(64, 3)).eval()
    converted = ct.convert(torch.jit.trace(model, torch.zeros(1, 8)), inputs=[ct.TensorType(name="x", shape=(1, 8))],
                           minimum_deployment_target=ct.target.iOS16)
    configs = {"palettized": (cto.palettize_weights, cto.OpPalettizerConfig(nbits=4, weight_threshold=100)),
               "linearly quantized": (cto.linear_quantize_weights, cto.OpLinearQuantizerConfig(weight_threshold=100)),
               "sparse": (cto.prune_weights, cto.OpMagnitudePrunerConfig(target_sparsity=0.5, weight_threshold=100))}
    compress, config = configs[compression]
    path = folder / f"{compression.replace(' ', '_')}.mlpackage"
    compress(converted, cto.OptimizationConfig(global_config=config)).save(str(path))
    return path


def unshuffle_package(folder: Path) -> Path:
    """PixelUnshuffle for iOS 16: an ML Program whose pixel_unshuffle op no NeuralNetwork layer computes."""
    import coremltools as ct
    import torch

    converted = ct.convert(torch.jit.trace(torch.nn.PixelUnshuffle(2).eval(), torch.zeros(1, 1, 4, 4)),
                           inputs=[ct.TensorType(name="x", shape=(1, 1, 4, 4))],
                           minimum_deployment_target=ct.target.iOS16)
    path = folder / "Unshuffle.mlpackage"
    converted.save(str(path))
    return path
