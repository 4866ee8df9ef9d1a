"""Helpers for ML Program tests: convert small PyTorch models to .mlpackage with coremltools 9, as users do."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch


def save_package(module, examples: list[torch.Tensor], inputs: list, path: Path, *, fp16: bool = False,
                 target: str = "iOS15", classifier_labels=None, states=None, outputs=None) -> Path:
    """Trace ``module`` on ``examples`` and save ``ct.convert(..., convert_to="mlprogram")`` at ``path``."""
    import coremltools as ct

    module.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, tuple(examples), check_trace=False)
        model = ct.convert(
            traced, convert_to="mlprogram", inputs=inputs, outputs=outputs, states=states,
            classifier_config=ct.ClassifierConfig(classifier_labels) if classifier_labels is not None else None,
            compute_precision=ct.precision.FLOAT16 if fp16 else ct.precision.FLOAT32,
            minimum_deployment_target=getattr(ct.target, target))
    model.save(str(path))
    return path


def save_program(program, path: Path, *, target: str = "iOS17") -> Path:
    """Save a MIL program written with coremltools' builder as an .mlpackage."""
    import coremltools as ct

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ct.convert(program, convert_to="mlprogram", minimum_deployment_target=getattr(ct.target, target))
    model.save(str(path))
    return path


def torch_outputs(module, arrays: list[np.ndarray]) -> list[np.ndarray]:
    with torch.no_grad():
        result = module(*[torch.from_numpy(a) for a in arrays])
    results = result if isinstance(result, tuple) else (result,)
    return [r.numpy() for r in results]


def assert_close(have, want, *, fp16: bool) -> None:
    """fp32 packages: within 1e-4; fp16 packages: within 1e-2 of the largest magnitude of the reference."""
    have = np.asarray(have, dtype=np.float64).reshape(np.shape(want))
    want = np.asarray(want, dtype=np.float64)
    if fp16:
        tolerance = 1e-2 * max(float(np.abs(want).max()), 1e-6)
        np.testing.assert_allclose(have, want, atol=tolerance, rtol=0)
    else:
        np.testing.assert_allclose(have, want, atol=1e-4, rtol=0)


def read_package(path: Path):
    """(root spec, weights folder) of a package, read as every command reads it (``mlsurgery.io.load_package``)."""
    from mlsurgery.io import load_package

    loaded = load_package(path)
    return loaded.spec, loaded.weights_dir
