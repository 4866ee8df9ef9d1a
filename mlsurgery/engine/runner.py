"""What every model runner of the engine is: an ``EngineModel``, and the values runners pass between stages.

Internally a batch of features flows between models as ``{name: value}`` where numeric values are tensors
``[N, ...]``, class probabilities are ``ClassProbabilities`` and other features (labels, strings, integers,
dictionaries) are lists of ``N`` Python values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .errors import InputError
from .features import array_value, feature_kind, image_array


@dataclass
class ClassProbabilities:
    """A batch of class probabilities ``values[N, K]`` in the order of ``labels``."""

    values: torch.Tensor
    labels: list


class EngineModel:
    """A runnable model. Subclasses implement ``run(features, batch_size)`` on batched internal values."""

    def __init__(self, spec):
        self.spec = spec
        self.input_features = {feature.name: feature for feature in spec.description.input}
        self.output_features = {feature.name: feature for feature in spec.description.output}

    # -- to implement ---------------------------------------------------------------------------------------
    def run(self, features: dict[str, Any], batch_size: int) -> dict[str, Any]:
        raise NotImplementedError

    # -- public API -----------------------------------------------------------------------------------------
    def predict(self, inputs: dict[str, object]) -> dict[str, object]:
        """One example: arrays of the declared shape, PIL images or paths for images, str/int/float/dict values.
        Returns numpy arrays, the label and the {label: probability} dict of classifiers."""
        features = {name: self._one(name, value) for name, value in self._checked(inputs).items()}
        with torch.no_grad():
            outputs = self.run(features, 1)
        return {name: _first(outputs[name]) for name in self.output_features if name in outputs}

    def predict_batch(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """A batch: multiArrays ``[N, *shape]``, images ``[N, C, H, W]`` pixels (0–255, model's channel order).
        Returns arrays ``[N, ...]``; classifiers give labels ``[N]`` and probabilities ``[N, K]``."""
        return {name: _as_numpy(value) for name, value in self.run_batch(inputs).items()}

    def run_batch(self, inputs: dict[str, np.ndarray]) -> dict[str, Any]:
        """``predict_batch``'s outputs before conversion: class probabilities stay ``ClassProbabilities`` (scores
        with their labels, which evaluation needs), numeric outputs tensors, labels lists."""
        checked = self._checked(inputs)
        sizes = {len(value) for value in checked.values()}
        if len(sizes) > 1:
            raise InputError(f"inputs have different batch sizes: {sorted(sizes)}")
        batch_size = sizes.pop() if sizes else 1
        features = {name: self._many(name, value) for name, value in checked.items()}
        with torch.no_grad():
            outputs = self.run(features, batch_size)
        return {name: outputs[name] for name in self.output_features if name in outputs}

    # -- helpers --------------------------------------------------------------------------------------------
    def accepted_inputs(self) -> dict[str, object]:
        """Features a caller may give: the declared inputs (pipelines add what opaque stages produce)."""
        return dict(self.input_features)

    def _checked(self, inputs: dict[str, object]) -> dict[str, object]:
        accepted = self.accepted_inputs()
        unknown = [name for name in inputs if name not in accepted]
        if unknown:
            raise InputError(f"unknown input {unknown[0]!r}; the model's inputs are {', '.join(accepted)}")
        missing = [name for name, feature in self.input_features.items()
                   if name not in inputs and not feature.type.isOptional]
        if missing:
            raise InputError(f"missing input {missing[0]!r} ({feature_kind(self.input_features[missing[0]])})")
        return dict(inputs)

    def _one(self, name: str, value):
        feature = self.accepted_inputs()[name]
        kind = feature_kind(feature)
        if kind == "multiArrayType":
            return torch.from_numpy(array_value(value, feature)).unsqueeze(0)
        if kind == "imageType":
            return torch.from_numpy(image_array(value, feature)).unsqueeze(0)
        return [value]

    def _many(self, name: str, values):
        feature = self.accepted_inputs()[name]
        kind = feature_kind(feature)
        if kind == "multiArrayType":
            array = np.asarray(values, dtype=np.float32)
            return torch.from_numpy(np.stack([array_value(example, feature) for example in array]))
        if kind == "imageType":
            return torch.from_numpy(np.stack([image_array(np.asarray(example), feature) for example in values]))
        return list(values)


def _first(value):
    if isinstance(value, ClassProbabilities):
        return {label: float(p) for label, p in zip(value.labels, value.values[0].tolist())}
    if isinstance(value, torch.Tensor):
        return value[0].detach().numpy()
    return value[0]


def _as_numpy(value):
    if isinstance(value, ClassProbabilities):
        return value.values.detach().numpy()
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.array(value)
