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
