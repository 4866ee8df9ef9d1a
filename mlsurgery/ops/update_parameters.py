"""Training hyper-parameters: optimizer, epochs, shuffle and seed, each with its default and allowed values.

The representation mirrors coremltools' ``NeuralNetworkBuilder`` (``set_sgd_optimizer``, ``set_adam_optimizer``,
``set_epochs``, ``set_shuffle``) so a spec made here equals one made by the classic coremltools script.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..coreml import (DEFAULT_BATCH, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPOCHS, DEFAULT_EPS, DEFAULT_LEARNING_RATE,
                      DEFAULT_MOMENTUM, DEFAULT_OPTIMIZER, OptimizerKind)
from ..errors import UsageError
from ..network import trainable_network
from .changes import Changes

UNIT_RANGE = (0.0, 1.0)


@dataclass(frozen=True)
class OptimizerSettings:
    """Defaults and allowed values Core ML lets the app override at training time.

    Learning rate, momentum, beta1, beta2 and eps get a default and an allowed range (coremltools uses [0, 1]);
    the mini-batch size gets a default and a set of allowed sizes (just the default unless ``batch_values``).
    """

    kind: str = DEFAULT_OPTIMIZER.value  # an OptimizerKind value
    learning_rate: float = DEFAULT_LEARNING_RATE
    learning_rate_range: tuple[float, float] = UNIT_RANGE
    batch: int = DEFAULT_BATCH
    batch_values: tuple[int, ...] | None = None
    momentum: float = DEFAULT_MOMENTUM
    beta1: float = DEFAULT_BETA1
    beta2: float = DEFAULT_BETA2
    eps: float = DEFAULT_EPS

    def __post_init__(self):
        OptimizerKind.parse(self.kind)
        low, high = self.learning_rate_range
        if not low <= self.learning_rate <= high:
            raise UsageError(f"learning rate {self.learning_rate} is outside its allowed range [{low}, {high}]; "
                             "Core ML rejects a default outside its range")
        if self.batch <= 0:
            raise UsageError(f"batch size {self.batch} must be positive")
        if self.batch_values is not None:
            if self.batch not in self.batch_values:
                raise UsageError(f"batch size {self.batch} is not among the allowed sizes {list(self.batch_values)}; "
                                 "add it to the allowed sizes (batch_values, --batch-values)")
            if any(v <= 0 for v in self.batch_values):
                raise UsageError(f"allowed batch sizes {list(self.batch_values)} must all be positive")
        for name in ("momentum", "beta1", "beta2", "eps"):
            value = getattr(self, name)
            if not UNIT_RANGE[0] <= value <= UNIT_RANGE[1]:
                raise UsageError(f"{name} {value} is outside its allowed range [0, 1]")

    @property
    def allowed_batches(self) -> tuple[int, ...]:
        return self.batch_values if self.batch_values is not None else (self.batch,)


@dataclass(frozen=True)
class EpochSettings:
    epochs: int = DEFAULT_EPOCHS
    values: tuple[int, ...] | None = field(default=None)

    def __post_init__(self):
        if self.epochs <= 0:
            raise UsageError(f"epochs {self.epochs} must be positive")
        if self.values is not None and self.epochs not in self.values:
            raise UsageError(f"epochs {self.epochs} is not among the allowed values {list(self.values)}; "
                             "add it to the allowed values (values, --epochs-values)")
        if self.values is not None and any(v <= 0 for v in self.values):
            raise UsageError(f"allowed epochs {list(self.values)} must all be positive")


def set_optimizer(spec, settings: OptimizerSettings) -> Changes:
    """Replace the optimizer with ``settings`` (SGD or Adam, every hyper-parameter with its allowed values)."""
    network = trainable_network(spec).network
    params = network.updateParams
    params.ClearField("optimizer")
    kind = OptimizerKind.parse(settings.kind)
    optimizer = getattr(params.optimizer, kind.field)
    if kind is OptimizerKind.SGD:
        _set_double(optimizer.learningRate, settings.learning_rate, settings.learning_rate_range)
        _set_batch(optimizer.miniBatchSize, settings)
        _set_double(optimizer.momentum, settings.momentum, UNIT_RANGE)
        detail = (f"SGD lr {settings.learning_rate} in {list(settings.learning_rate_range)}, batch "
                  f"{settings.batch} of {list(settings.allowed_batches)}, momentum {settings.momentum}")
    else:
        _set_double(optimizer.learningRate, settings.learning_rate, settings.learning_rate_range)
        _set_batch(optimizer.miniBatchSize, settings)
        _set_double(optimizer.beta1, settings.beta1, UNIT_RANGE)
        _set_double(optimizer.beta2, settings.beta2, UNIT_RANGE)
        _set_double(optimizer.eps, settings.eps, UNIT_RANGE)
        detail = (f"Adam lr {settings.learning_rate} in {list(settings.learning_rate_range)}, batch "
                  f"{settings.batch} of {list(settings.allowed_batches)}, beta1 {settings.beta1}, "
                  f"beta2 {settings.beta2}, eps {settings.eps}")
    changes = Changes("optimizer")
    changes.add("optimizer", detail)
    return changes


def set_epochs(spec, settings: EpochSettings) -> Changes:
    params = trainable_network(spec).network.updateParams
    params.ClearField("epochs")
    params.epochs.defaultValue = settings.epochs
    allowed = settings.values if settings.values is not None else (settings.epochs,)
    params.epochs.set.values.extend(allowed)
    changes = Changes("epochs")
    changes.add("epochs", f"{settings.epochs} of {list(allowed)}")
    return changes


def set_shuffle(spec, shuffle: bool = True, seed: int | None = None) -> Changes:
    """Shuffle the training data each epoch (Core ML's default) and, with ``seed``, make that order repeatable."""
    params = trainable_network(spec).network.updateParams
    params.ClearField("shuffle")
    params.ClearField("seed")
    params.shuffle.defaultValue = shuffle
    if seed is not None:
        params.seed.defaultValue = seed
    changes = Changes("shuffle")
    changes.add("shuffle", f"{'on' if shuffle else 'off'}" + (f", seed {seed}" if seed is not None else ""))
    return changes


def _set_double(parameter, value: float, allowed: tuple[float, float]) -> None:
    parameter.defaultValue = value
    parameter.range.minValue, parameter.range.maxValue = allowed


def _set_batch(parameter, settings: OptimizerSettings) -> None:
    parameter.defaultValue = settings.batch
    parameter.set.values.extend(settings.allowed_batches)
