"""The loss a Core ML loss layer defines, computed on the network's blobs.

Categorical cross-entropy is ``-log p[target]`` on the softmax output (NeuralNetwork.proto,
``CategoricalCrossEntropyLossLayer``), averaged over the mini-batch; a classifier's labels are mapped to class
indices in the order of its class labels. Mean squared error is ``mean((input - target)²)`` over every element of
the mini-batch (the proto gives no formula; this is the common definition, PyTorch's ``MSELoss``).
"""

from __future__ import annotations

import numpy as np
import torch

from ..coreml import LossKind
from .errors import InputError, UnsupportedModelError
from .layers.base import tensor_axis
from .models import NeuralNetworkModel


def training_target(spec, classifier: bool, loss_target: str) -> str:
    """The training input holding the loss target: the loss's own target, or for a classifier its predicted
    label feature, which Core ML maps to class indices (NeuralNetwork.proto, CategoricalCrossEntropyLossLayer)."""
    names = {feature.name for feature in spec.description.trainingInput}
    predicted = spec.description.predictedFeatureName
    if classifier and loss_target not in names and predicted in names:
        return predicted
    return loss_target


class Loss:
    """One loss layer of ``model``: its input blob, target feature, and how targets become tensors."""

    def __init__(self, model: NeuralNetworkModel, loss_layer, spec):
        self.model = model
        self.kind = loss_layer.WhichOneof("LossLayerType")
        if self.kind is None:
            raise UnsupportedModelError(f"loss layer {loss_layer.name!r} sets no loss type")
        params = getattr(loss_layer, self.kind)
        self.input = params.input
        self.cross_entropy = LossKind.from_field(self.kind) is LossKind.CROSS_ENTROPY
        self.softmax = self._producing_softmax()
        self.target = training_target(spec, model.class_labels is not None, params.target)
        classifier_target = model.class_labels is not None and self.target == spec.description.predictedFeatureName
        self.labels = {label: index for index, label in enumerate(model.class_labels)} if classifier_target else None

    @property
    def reads(self) -> set[str]:
        """The blobs the loss reads: what a training forward pass must keep."""
        return {self.input} | (set(self.softmax.input) if self.softmax is not None else set())

    def _producing_softmax(self):
        for layer in self.model.network.layers:
            if self.input in layer.output and layer.WhichOneof("layer") in ("softmax", "softmaxND"):
                return layer
        return None

    def targets(self, values) -> torch.Tensor:
        """Class indices (cross-entropy) or float arrays (MSE) for every example; bad labels raise here."""
        if not self.cross_entropy:
            return torch.as_tensor(np.asarray(values, dtype=np.float32))
        indices = []
        for value in values:
            if self.labels is not None:
                integer_labels = isinstance(next(iter(self.labels)), int)
                try:
                    key = int(value) if integer_labels else str(value)
                except (TypeError, ValueError):
                    key = value
                if key not in self.labels:
                    known = ", ".join(map(str, list(self.labels)[:12]))
                    raise InputError(f"label {value!r} is not one of the model's class labels ({known}"
                                     f"{', …' if len(self.labels) > 12 else ''})")
                indices.append(self.labels[key])
            else:
                indices.append(int(np.asarray(value).reshape(-1)[0]))
        return torch.as_tensor(indices, dtype=torch.long)

    def log_probabilities(self, blobs) -> torch.Tensor:
        if self.softmax is not None:
            logits = blobs[self.softmax.input[0]]
            if self.softmax.WhichOneof("layer") == "softmaxND":
                dim = tensor_axis(int(self.softmax.softmaxND.axis), logits.dim() - 1)
            else:
                dim = -3 if logits.dim() - 1 >= 3 else -1
            return torch.log_softmax(logits, dim=dim).reshape(logits.shape[0], -1)
        probabilities = blobs[self.input]
        return torch.log(probabilities.clamp_min(1e-12)).reshape(probabilities.shape[0], -1)

    def __call__(self, blobs, targets: torch.Tensor) -> torch.Tensor:
        if self.cross_entropy:
            return torch.nn.functional.nll_loss(self.log_probabilities(blobs), targets)
        prediction = blobs[self.input].reshape(targets.shape)
        return torch.mean((prediction - targets) ** 2)

    def correct(self, blobs, targets: torch.Tensor) -> int:
        return int((self.log_probabilities(blobs).argmax(dim=1) == targets).sum())
