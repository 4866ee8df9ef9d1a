"""Helpers for engine tests: convert small PyTorch models with coremltools 9 (once per module)."""

from __future__ import annotations

import warnings

import numpy as np
import torch


def convert(module, example_shapes: list[tuple[int, ...]], *, classifier_labels=None):
    """Trace ``module`` on random inputs and convert it with ``convert_to="neuralnetwork"``; returns the spec."""
    import coremltools as ct

    module.eval()
    examples = tuple(torch.randn(*shape) for shape in example_shapes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, examples)
        inputs = [ct.TensorType(name=f"x{i}", shape=shape) for i, shape in enumerate(example_shapes)]
        config = ct.ClassifierConfig(classifier_labels) if classifier_labels else None
        model = ct.convert(traced, convert_to="neuralnetwork", inputs=inputs, classifier_config=config)
    return model.get_spec()


def torch_outputs(module, arrays: list[np.ndarray]) -> list[np.ndarray]:
    with torch.no_grad():
        result = module(*[torch.from_numpy(a) for a in arrays])
    results = result if isinstance(result, tuple) else (result,)
    return [r.numpy() for r in results]
