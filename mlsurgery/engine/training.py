"""MLUpdateTask, simulated: train a spec's updatable weights with its own update parameters.

Semantics (NeuralNetwork.proto ``NetworkUpdateParameters`` and the "On-device training with Core ML – part 4"
article's description of MLUpdateTask):

- the data is cut into ``ceil(N / miniBatchSize)`` mini-batches per epoch, in order or, with ``shuffle``, in an
  order drawn from ``seed`` (one generator for the whole run, a new permutation each epoch); a short last
  mini-batch is filled up with examples from the start of that epoch's order;
- the loss reported for an epoch is its last mini-batch's (what Core ML reports), the mean of its mini-batches
  is kept beside it;
- categorical cross-entropy is ``-log p[target]`` on the softmax output (NeuralNetwork.proto,
  ``CategoricalCrossEntropyLossLayer``), averaged over the mini-batch; a classifier's labels are mapped to class
  indices in the order of its class labels. Mean squared error is ``mean((input - target)²)`` over every element
  of the mini-batch (the proto gives no formula; this is the common definition, PyTorch's ``MSELoss``);
- SGD (learning rate, momentum: ``v = momentum·v + g``, ``w -= lr·v``) and Adam (Kingma & Ba, with bias
  correction) are PyTorch's ``torch.optim.SGD`` / ``torch.optim.Adam``;
- only layers marked ``isUpdatable`` change, and in them only the WeightParams marked ``isUpdatable``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from ..coreml import LossKind, read_update_parameters
from ..network import trainable_network
from ..weights import set_float_values
from .errors import InputError, UnsupportedModelError
from .layers import LayerModule
from .models import NeuralNetworkModel, PipelineModel, build_model

# Core ML's MLParameterKey names → (field of TrainingParameters, where the value lives in the spec)
PARAMETER_KEYS = {
    "learningRate": "learning_rate",
    "miniBatchSize": "mini_batch_size",
    "epochs": "epochs",
    "shuffle": "shuffle",
    "seed": "seed",
    "momentum": "momentum",
    "beta1": "beta1",
    "beta2": "beta2",
    "eps": "eps",
}


@dataclass(frozen=True)
class TrainingParameters:
    optimizer: str  # "sgd" or "adam"
    learning_rate: float
    mini_batch_size: int
    epochs: int
    shuffle: bool
    seed: int
    momentum: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def to_dict(self) -> dict:
        return asdict(self)


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


# ---- reading and overriding the update parameters -----------------------------------------------------------

def _update_params(spec):
    location = trainable_network(spec)
    network = location.network
    if not network.HasField("updateParams") or not network.updateParams.lossLayers:
        raise UnsupportedModelError("the model has no update parameters (loss, optimizer): make it updatable "
                                    "first with mlsurgery make-updatable")
    return location, network.updateParams


def _spec_parameters(update) -> dict[str, object]:
    """The spec's parameter messages keyed by MLParameterKey name."""
    parameters = read_update_parameters(update)
    if parameters.optimizer is None:
        raise UnsupportedModelError("the model's update parameters set no optimizer (SGD or Adam)")
    return parameters.optimizer_fields


def read_parameters(spec) -> TrainingParameters:
    """The update parameters' default values, as MLUpdateTask would use them without overrides."""
    _, update = _update_params(spec)
    declared = _spec_parameters(update)
    optimizer = "sgd" if update.optimizer.WhichOneof("OptimizerType") == "sgdOptimizer" else "adam"
    values = {PARAMETER_KEYS[key]: message.defaultValue for key, message in declared.items()}
    values.setdefault("epochs", 1)
    values.setdefault("shuffle", False)
    values.setdefault("seed", 0)
    parameters = TrainingParameters(optimizer=optimizer, **values)
    if parameters.mini_batch_size < 1:
        raise UnsupportedModelError(f"the model's miniBatchSize is {parameters.mini_batch_size}; it must be ≥ 1")
    return parameters


def apply_overrides(spec, parameters: TrainingParameters, overrides: dict[str, str]) -> TrainingParameters:
    """``--set KEY=VALUE`` overrides, each checked against the allowed values the model declares (exit 2)."""
    _, update = _update_params(spec)
    declared = _spec_parameters(update)
    changed = {}
    for key, text in overrides.items():
        if key not in PARAMETER_KEYS:
            raise InputError(f"--set {key}: unknown parameter; Core ML's keys are {', '.join(PARAMETER_KEYS)}")
        if key not in declared:
            raise InputError(f"--set {key}: the model does not declare {key}; it declares {', '.join(declared)}")
        changed[PARAMETER_KEYS[key]] = _checked_value(key, text, declared[key])
    return replace(parameters, **changed)


def _checked_value(key: str, text: str, message):
    kind = message.DESCRIPTOR.name
    if kind == "BoolParameter":
        lowered = text.strip().lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise InputError(f"--set {key}={text}: expected true or false")
        return lowered in ("true", "1", "yes")
    if kind == "Int64Parameter":
        try:
            value = int(text)
        except ValueError:
            raise InputError(f"--set {key}={text}: expected an integer") from None
        allowed = message.WhichOneof("AllowedValues")
        if allowed == "set" and value not in message.set.values:
            raise InputError(f"--set {key}={value}: the model allows only "
                             f"{', '.join(str(v) for v in message.set.values)}")
        if allowed == "range" and not message.range.minValue <= value <= message.range.maxValue:
            raise InputError(f"--set {key}={value}: the model allows {message.range.minValue} to "
                             f"{message.range.maxValue}")
        if key in ("miniBatchSize", "epochs") and value < 1:
            raise InputError(f"--set {key}={value}: must be at least 1")
        return value  # no allowed values declared (e.g. the seed): any value
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"--set {key}={text}: expected a number") from None
    if message.HasField("range") and not message.range.minValue <= value <= message.range.maxValue:
        raise InputError(f"--set {key}={value:g}: the model allows {message.range.minValue:g} to "
                         f"{message.range.maxValue:g}")
    return value


# ---- mini-batches -------------------------------------------------------------------------------------------

def epoch_batches(count: int, batch_size: int, order: np.ndarray) -> list[np.ndarray]:
    """Indices of each mini-batch of one epoch; a short last batch is filled from the start of ``order``."""
    batches = []
    for start in range(0, count, batch_size):
        indices = order[start:start + batch_size]
        if len(indices) < batch_size:
            indices = np.concatenate([indices, order[:batch_size - len(indices)]])
        batches.append(indices)
    return batches


def epoch_orders(count: int, parameters: TrainingParameters):
    """The example order of each epoch (a generator seeded once from ``seed``)."""
    rng = np.random.default_rng(parameters.seed)
    for _ in range(parameters.epochs):
        yield rng.permutation(count) if parameters.shuffle else np.arange(count)


# ---- the engine side ----------------------------------------------------------------------------------------

def _network_model(model):
    """The NeuralNetworkModel holding the updatable layers (the model itself, or a pipeline's last stage)."""
    while isinstance(model, PipelineModel):
        model = model.stages[-1]
    if not isinstance(model, NeuralNetworkModel):
        raise UnsupportedModelError("training runs neural networks; the updatable model is not one")
    return model


def updatable_parameters(model) -> list[tuple[LayerModule, str, torch.nn.Parameter]]:
    """(layer module, parameter name, parameter) of every weight marked updatable in an updatable layer."""
    network_model = _network_model(model)
    layers = {layer.name: layer for layer in network_model.network.layers}
    found = []
    for step in network_model.module.steps:
        layer = layers.get(step.layer_name)
        if layer is None or not layer.isUpdatable:
            continue
        for module in step.modules():
            if not isinstance(module, LayerModule):
                continue
            for name, path in module.weight_fields.items():
                if _weights_at(layer, path).isUpdatable:
                    found.append((module, name, getattr(module, name)))
    return found


def _weights_at(layer, path: str):
    message = getattr(layer, layer.WhichOneof("layer"))
    for part in path.split("."):
        name, _, index = part.partition("[")
        message = getattr(message, name)
        if index:
            message = message[int(index.rstrip("]"))]
    return message


def training_target(spec, classifier: bool, loss_target: str) -> str:
    """The training input holding the loss target: the loss's own target, or for a classifier its predicted
    label feature, which Core ML maps to class indices (NeuralNetwork.proto, CategoricalCrossEntropyLossLayer)."""
    names = {feature.name for feature in spec.description.trainingInput}
    predicted = spec.description.predictedFeatureName
    if classifier and loss_target not in names and predicted in names:
        return predicted
    return loss_target


class _Loss:
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
                from .layers.base import tensor_axis

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


@dataclass
class Dataset:
    """Training examples: ``features`` maps each training input to ``N`` values (arrays stacked, labels listed)."""

    features: dict[str, object]
    count: int
    source: str = ""

    def take(self, indices: np.ndarray) -> dict[str, object]:
        taken = {}
        for name, values in self.features.items():
            if isinstance(values, np.ndarray):
                taken[name] = values[indices]
            else:
                taken[name] = [values[i] for i in indices]
        return taken


OnBatch = Callable[[int, int, int, float], None]  # epoch, batch index, batches per epoch, loss
OnEpoch = Callable[[EpochRecord], None]


def train(spec, dataset: Dataset, parameters: TrainingParameters | None = None, *,
          validation: Dataset | None = None, on_batch: OnBatch | None = None,
          on_epoch: OnEpoch | None = None, reuse_frozen: bool = True) -> TrainResult:
    """Train a copy of ``spec`` on ``dataset``; returns the history and the trained spec (weights written back).

    ``reuse_frozen`` computes the layers below every trainable weight once per example (see ``_Prepared``);
    without it every mini-batch runs the whole model, as the device does (the numbers are the same).
    """
    trained_spec = type(spec)()
    trained_spec.CopyFrom(spec)
    parameters = parameters or read_parameters(trained_spec)
    location, update = _update_params(trained_spec)
    if len(update.lossLayers) != 1:
        raise UnsupportedModelError(f"the model has {len(update.lossLayers)} loss layers; Core ML trains one")
    model = build_model(trained_spec)
    network_model = _network_model(model)
    loss = _Loss(network_model, update.lossLayers[0], location.model)
    trainable = updatable_parameters(model)
    if not trainable:
        raise UnsupportedModelError("no weight is marked updatable; make layers updatable with make-updatable")
    for module, _, parameter in trainable:
        parameter.requires_grad_(True)
    for step in network_model.module.steps:
        step.trainable = any(p.requires_grad for p in step.parameters())
    tensors = [parameter for _, _, parameter in trainable]
    if parameters.optimizer == "sgd":
        optimizer = torch.optim.SGD(tensors, lr=parameters.learning_rate, momentum=parameters.momentum)
    else:
        optimizer = torch.optim.Adam(tensors, lr=parameters.learning_rate, betas=(parameters.beta1, parameters.beta2),
                                     eps=parameters.eps)
    prepared = _Prepared(model, network_model, loss, dataset)
    checked_validation = _Prepared(model, network_model, loss, validation) if validation is not None else None
    if dataset.count == 0:
        raise InputError(f"{dataset.source or 'the training data'}: has no examples")
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
            value.backward()
            optimizer.step()
            losses.append(float(value.detach()))
            if on_batch:
                on_batch(epoch, index, len(batches), losses[-1])
        record = EpochRecord(epoch, losses[-1], float(np.mean(losses)))
        if checked_validation is not None:
            record.validation_loss, record.validation_accuracy = checked_validation.evaluate(batch_size)
        result.history.append(record)
        if on_epoch:
            on_epoch(record)
    _write_back(network_model, trainable)
    return result


# Frozen results kept per example across epochs: at most this many bytes (else recomputed every mini-batch).
FROZEN_CACHE_BYTES = 1 << 30


class _Prepared:
    """A dataset with its targets converted once, and the model inputs it feeds.

    What the frozen part of the model computes (earlier pipeline stages, layers below every trainable weight)
    does not change during training, so it is computed once per example and the mini-batches run only the
    layers from the lowest updatable one up: the same numbers MLUpdateTask computes, without recomputing the
    frozen feature extractor every epoch.
    """

    def __init__(self, model, network_model, loss: _Loss, dataset: Dataset):
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
        loss_reads = {self.loss_fn.input} | (set(self.loss_fn.softmax.input) if self.loss_fn.softmax else set())
        probe = self._input_blobs(np.arange(min(1, self.dataset.count)))
        split = module.frozen_split(probe, loss_reads)
        if split is None:
            return
        frozen, handed = split
        cached: dict[str, list] = {name: [] for name in handed}
        chunk = 32
        with torch.no_grad():
            for start in range(0, self.dataset.count, chunk):
                indices = np.arange(start, min(self.dataset.count, start + chunk))
                values = module(self._input_blobs(indices), len(indices), only=frozen)
                for name in handed:
                    cached[name].append(values[name])
                if start == 0 and sum(values[n].element_size() * values[n][0].numel() for n in handed) * \
                        self.dataset.count > FROZEN_CACHE_BYTES:
                    return
        self.cache = {name: torch.cat(parts) for name, parts in cached.items()}
        self.live = set(range(len(module.steps))) - frozen

    def _blobs(self, indices: np.ndarray):
        if self.cache is not None:
            index = torch.as_tensor(indices)
            return self.network_model.module({name: values[index] for name, values in self.cache.items()},
                                             len(indices), only=self.live)
        return self.network_model.module(self._input_blobs(indices), len(indices))

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


def _write_back(network_model: NeuralNetworkModel, trainable) -> None:
    layers = {layer.name: layer for layer in network_model.network.layers}
    for module, name, parameter in trainable:
        set_float_values(_weights_at(layers[module.layer_name], module.weight_fields[name]),
                         parameter.detach().numpy())


def train_file(model_path, data, output, *, overrides: dict[str, str] | None = None, validation=None,
               on_batch: OnBatch | None = None, on_epoch: OnEpoch | None = None, force: bool = False):
    """``mlsurgery train`` as a function: load, check overrides and data, train, validate, save atomically.

    Returns (TrainResult, SurgeryResult). Nothing is written when anything fails before or during training.
    """
    from ..jobs import save_if_valid
    from ..io import load_spec
    from ..ops.changes import Changes
    from .data import load_dataset

    spec = load_spec(model_path)
    _, update = _update_params(spec)
    parameters = apply_overrides(spec, read_parameters(spec), overrides or {})
    location = trainable_network(spec)
    target = training_target(location.model, location.kind == "neuralNetworkClassifier", _loss_target(update))
    dataset = load_dataset(data, spec, target)
    validation_set = load_dataset(validation, spec, target) if validation is not None else None
    result = train(spec, dataset, parameters, validation=validation_set, on_batch=on_batch, on_epoch=on_epoch)
    changes = Changes("train")
    for name in result.trained:
        changes.add(f"layer {name.split('.', 1)[0]}", f"{name.split('.', 1)[1]} trained")
    saved = save_if_valid(result.spec, output, source=model_path, changes=changes, force=force)
    return result, saved


def _loss_target(update) -> str:
    loss = update.lossLayers[0]
    kind = loss.WhichOneof("LossLayerType")
    if kind is None:
        raise UnsupportedModelError(f"loss layer {loss.name!r} sets no loss type")
    return getattr(loss, kind).target
