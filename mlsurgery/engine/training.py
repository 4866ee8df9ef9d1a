"""MLUpdateTask, simulated: train a spec's updatable weights with its own update parameters.

Semantics (NeuralNetwork.proto ``NetworkUpdateParameters`` and the "On-device training with Core ML – part 4"
article's description of MLUpdateTask): the update parameters (``update_parameters``), the mini-batches of each
epoch (``batching``), the loss (``losses``) and the weights that change (``updatable``) are described in their
modules. The loss reported for an epoch is its last mini-batch's (what Core ML reports), the mean of its
mini-batches is kept beside it. SGD (learning rate, momentum: ``v = momentum·v + g``, ``w -= lr·v``) and Adam
(Kingma & Ba, with bias correction) are PyTorch's ``torch.optim.SGD`` / ``torch.optim.Adam``.

A loss that becomes NaN or infinite stops the run (``TrainingDivergedError``, exit 1) unless the caller allows
divergence: the device would go on training and return a model that predicts NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from .batching import epoch_batches, epoch_orders
from .dataset import Dataset
from .errors import InputError, TrainingDivergedError, UnsupportedModelError
from .losses import Loss, training_target
from .models import build_model
from .update_parameters import (TrainingParameters, apply_overrides, read_parameters, smaller_learning_rates,
                                update_parameters)
from .updatable import network_model, updatable_parameters, write_back

# What callers built on the trainer import from here (``tune``, ``evaluate``, the train job).
__all__ = ["Dataset", "EpochRecord", "TrainResult", "TrainingParameters", "apply_overrides", "read_parameters",
           "train", "training_target"]


@dataclass
class EpochRecord:
    epoch: int
    loss: float  # the last mini-batch's loss, as Core ML reports it
    mean_loss: float
    validation_loss: float | None = None
    validation_accuracy: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    spec: object
    parameters: TrainingParameters
    history: list[EpochRecord] = field(default_factory=list)
    examples: int = 0
    batches_per_epoch: int = 0
    trained: list[str] = field(default_factory=list)  # "layer.field" of every weight that was trained


OnBatch = Callable[[int, int, int, float], None]  # epoch, batch index, batches per epoch, loss
OnEpoch = Callable[[EpochRecord], None]


def train(spec, dataset: Dataset, parameters: TrainingParameters | None = None, *,
          validation: Dataset | None = None, on_batch: OnBatch | None = None,
          on_epoch: OnEpoch | None = None, reuse_frozen: bool = True, allow_divergence: bool = False) -> TrainResult:
    """Train a copy of ``spec`` on ``dataset``; returns the history and the trained spec (weights written back).

    Data holding NaN or infinity is refused before any work (``InputError``). A loss that becomes NaN or
    infinite stops the run with ``TrainingDivergedError`` naming the epoch, the mini-batch and the smaller
    learning rates the model allows, and so do trained weights that end non-finite; ``allow_divergence`` trains
    on and returns them (as the device would). ``reuse_frozen`` computes the layers below every trainable
    weight once per example (see ``_Prepared``); without it every mini-batch runs the whole model, as the device
    does (the numbers are the same).
    """
    trained_spec = type(spec)()
    trained_spec.CopyFrom(spec)
    parameters = parameters or read_parameters(trained_spec)
    location, update = update_parameters(trained_spec)
    if len(update.lossLayers) != 1:
        raise UnsupportedModelError(f"the model has {len(update.lossLayers)} loss layers; Core ML trains one")
    if dataset.count == 0:
        raise InputError(f"{dataset.source or 'the training data'}: has no examples")
    for data in (dataset, validation):
        if data is not None:
            data.refuse_non_finite()
    model = build_model(trained_spec)
    trained_network = network_model(model)
    loss = Loss(trained_network, update.lossLayers[0], location.model)
    trainable = updatable_parameters(model)
    if not trainable:
        raise UnsupportedModelError("no weight is marked updatable; make layers updatable with make-updatable")
    for _, _, parameter in trainable:
        parameter.requires_grad_(True)
    for step in trained_network.module.steps:
        step.trainable = any(p.requires_grad for p in step.parameters())
    tensors = [parameter for _, _, parameter in trainable]
    if parameters.optimizer == "sgd":
        optimizer = torch.optim.SGD(tensors, lr=parameters.learning_rate, momentum=parameters.momentum)
    else:
        optimizer = torch.optim.Adam(tensors, lr=parameters.learning_rate, betas=(parameters.beta1, parameters.beta2),
                                     eps=parameters.eps)
    prepared = _Prepared(model, trained_network, loss, dataset)
    checked_validation = _Prepared(model, trained_network, loss, validation) if validation is not None else None
    for data in (prepared, checked_validation):
        if data is not None and data.dataset.count and reuse_frozen:
            data.freeze()
    batch_size = parameters.mini_batch_size
    result = TrainResult(trained_spec, parameters, examples=dataset.count,
                         batches_per_epoch=math.ceil(dataset.count / batch_size),
                         trained=[f"{m.layer_name}.{m.weight_fields[name]}" for m, name, _ in trainable])
    for epoch, order in enumerate(epoch_orders(dataset.count, parameters), start=1):
        losses = []
        batches = epoch_batches(dataset.count, batch_size, order)
        for index, indices in enumerate(batches):
            optimizer.zero_grad(set_to_none=True)
            value = prepared.loss(indices)
            losses.append(float(value.detach()))
            if not math.isfinite(losses[-1]) and not allow_divergence:
                raise TrainingDivergedError(
                    f"the loss became {losses[-1]} at epoch {epoch}, mini-batch {index + 1} of {len(batches)} "
                    f"(learning rate {parameters.learning_rate:g}); nothing written: "
                    f"{smaller_learning_rates(trained_spec, parameters.learning_rate)}", epoch, index + 1)
            value.backward()
            optimizer.step()
            if on_batch:
                on_batch(epoch, index, len(batches), losses[-1])
        record = EpochRecord(epoch, losses[-1], float(np.mean(losses)))
        if checked_validation is not None:
            record.validation_loss, record.validation_accuracy = checked_validation.evaluate(batch_size)
        result.history.append(record)
        if on_epoch:
            on_epoch(record)
    if not allow_divergence:
        _refuse_non_finite_weights(trainable, parameters.learning_rate, trained_spec)
    write_back(trained_network, trainable)
    return result


def _refuse_non_finite_weights(trainable, learning_rate: float, spec) -> None:
    """A finite last loss does not prove finite weights (an overflow the loss did not read): check them all."""
    for module, name, parameter in trainable:
        if not torch.isfinite(parameter.detach()).all():
            raise TrainingDivergedError(
                f"trained weight {module.layer_name}.{module.weight_fields[name]} became NaN or infinite "
                f"(learning rate {learning_rate:g}); nothing written: {smaller_learning_rates(spec, learning_rate)}")


# Frozen results kept per example across epochs: at most this many bytes (else recomputed every mini-batch).
FROZEN_CACHE_BYTES = 1 << 30


class _Prepared:
    """A dataset with its targets converted once, and the model inputs it feeds.

    What the frozen part of the model computes (earlier pipeline stages, layers below every trainable weight)
    does not change during training, so it is computed once per example and the mini-batches run only the
    layers from the lowest updatable one up: the same numbers MLUpdateTask computes, without recomputing the
    frozen feature extractor every epoch.
    """

    def __init__(self, model, network_model, loss: Loss, dataset: Dataset):
        if loss.target not in dataset.features:
            raise InputError(f"{dataset.source or 'the data'}: has no values for the training target "
                             f"{loss.target!r}")
        self.model, self.network_model, self.loss_fn, self.dataset = model, network_model, loss, dataset
        self.targets = loss.targets(dataset.features[loss.target])
        self.inputs = {name: values for name, values in dataset.features.items() if name != loss.target}
        self.input_tensors = {name: self._tensor(name, values) for name, values in self.inputs.items()}
        self.cache = None
        self.live = None

    def _tensor(self, name, values):
        accepted = self.model.accepted_inputs()
        if name not in accepted:
            raise InputError(f"{self.dataset.source or 'the data'}: {name!r} is not an input of the model "
                             f"({', '.join(accepted)})")
        return self.model._many(name, values)

    def _input_blobs(self, indices: np.ndarray) -> dict:
        features = {name: values[torch.as_tensor(indices)] if isinstance(values, torch.Tensor)
                    else [values[i] for i in indices] for name, values in self.input_tensors.items()}
        with torch.no_grad():
            if self.model is not self.network_model:
                features = self._stage_features(features, len(indices))
            return self.network_model.input_blobs(features)

    def _stage_features(self, features, batch_size: int):
        values = dict(features)
        for stage in self.model.stages[:-1]:
            values.update(stage.run({n: values[n] for n in stage.input_features if n in values}, batch_size))
        return values

    def freeze(self) -> None:
        """Compute the frozen part once for every example, if the split exists and fits in memory."""
        module = self.network_model.module
        probe = self._input_blobs(np.arange(min(1, self.dataset.count)))
        split = module.frozen_split(probe, self.loss_fn.reads)
        if split is None:
            return
        frozen, handed = split
        cached: dict[str, list] = {name: [] for name in handed}
        chunk = 32
        with torch.no_grad():
            for start in range(0, self.dataset.count, chunk):
                indices = np.arange(start, min(self.dataset.count, start + chunk))
                values = module(self._input_blobs(indices), len(indices), only=frozen, keep=handed)
                for name in handed:
                    cached[name].append(values[name])
                if start == 0 and sum(values[n].element_size() * values[n][0].numel() for n in handed) * \
                        self.dataset.count > FROZEN_CACHE_BYTES:
                    return
        self.cache = {name: torch.cat(parts) for name, parts in cached.items()}
        self.live = set(range(len(module.steps))) - frozen

    def _blobs(self, indices: np.ndarray):
        """The blobs the loss reads for these examples; the others are dropped after their last reader, so a
        training step keeps only what autograd saved for the backward pass."""
        keep = self.loss_fn.reads
        if self.cache is not None:
            index = torch.as_tensor(indices)
            return self.network_model.module({name: values[index] for name, values in self.cache.items()},
                                             len(indices), only=self.live, keep=keep)
        return self.network_model.module(self._input_blobs(indices), len(indices), keep=keep)

    def loss(self, indices: np.ndarray) -> torch.Tensor:
        return self.loss_fn(self._blobs(indices), self.targets[torch.as_tensor(indices)])

    def evaluate(self, batch_size: int) -> tuple[float, float | None]:
        total, correct = 0.0, 0
        count = self.dataset.count
        with torch.no_grad():
            for start in range(0, count, batch_size):
                indices = np.arange(start, min(count, start + batch_size))
                blobs = self._blobs(indices)
                targets = self.targets[torch.as_tensor(indices)]
                total += float(self.loss_fn(blobs, targets)) * len(indices)
                if self.loss_fn.cross_entropy:
                    correct += self.loss_fn.correct(blobs, targets)
        accuracy = correct / count if self.loss_fn.cross_entropy else None
        return total / count, accuracy
