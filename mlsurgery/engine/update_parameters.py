"""The update parameters MLUpdateTask trains with: read from the spec's ``updateParams``, overridden by the
caller (Core ML's ``MLParameterKey`` names), each override checked against the values the model allows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from ..coreml import (DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, DEFAULT_MOMENTUM, OptimizerKind,
                      read_update_parameters)
from ..network import trainable_network
from .errors import InputError, UnsupportedModelError

# Core ML's MLParameterKey names → field of TrainingParameters
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
    momentum: float = DEFAULT_MOMENTUM
    beta1: float = DEFAULT_BETA1
    beta2: float = DEFAULT_BETA2
    eps: float = DEFAULT_EPS

    def to_dict(self) -> dict:
        return asdict(self)


def update_parameters(spec):
    """(location of the trainable network, its ``updateParams``); refused when the model declares none."""
    location = trainable_network(spec)
    network = location.network
    if not network.HasField("updateParams") or not network.updateParams.lossLayers:
        raise UnsupportedModelError("the model has no update parameters (loss, optimizer): make it updatable "
                                    "first with mlsurgery make-updatable")
    return location, network.updateParams


def declared_parameters(update) -> dict[str, object]:
    """The spec's parameter messages keyed by MLParameterKey name (``coreml.read_update_parameters``)."""
    parameters = read_update_parameters(update)
    if parameters.optimizer is None:
        raise UnsupportedModelError("the model's update parameters set no optimizer (SGD or Adam)")
    return parameters.optimizer_fields


def read_parameters(spec) -> TrainingParameters:
    """The update parameters' default values, as MLUpdateTask would use them without overrides."""
    _, update = update_parameters(spec)
    declared = declared_parameters(update)
    optimizer = OptimizerKind.from_field(update.optimizer.WhichOneof("OptimizerType")).value
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
    _, update = update_parameters(spec)
    declared = declared_parameters(update)
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


def smaller_learning_rates(spec, used: float) -> str:
    """What the model allows below the learning rate ``used`` (its ``learningRate`` range), as advice to retry
    with: Core ML's DoubleParameter declares at most a range, so the answer is an interval or none."""
    _, update = update_parameters(spec)
    declared = declared_parameters(update)["learningRate"]
    suggestion = used / 10
    if declared.HasField("range"):
        low = declared.range.minValue
        if low >= used:
            return (f"the model allows no learning rate below {used:g} (its range is {low:g} to "
                    f"{declared.range.maxValue:g}); check the data's scale")
        suggestion = max(suggestion, low)
        return f"the model allows learning rates from {low:g} up to {used:g}; try --set learningRate={suggestion:g}"
    return f"the model declares no allowed range; try a smaller one, e.g. --set learningRate={suggestion:g}"


def loss_target(update) -> str:
    """The target feature named by the (single) loss layer."""
    loss = update.lossLayers[0]
    kind = loss.WhichOneof("LossLayerType")
    if kind is None:
        raise UnsupportedModelError(f"loss layer {loss.name!r} sets no loss type")
    return getattr(loss, kind).target
