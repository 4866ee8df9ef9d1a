"""``tune`` as a job: train with the update parameters the model allows and rank them on validation data.

The search (README, "Finding update parameters: tune"):

- ``learningRate``: ``trials`` values log-spaced over its allowed range, both ends included (a range starting at
  0 starts the grid five decades below its top instead: log-spacing cannot reach 0), plus the model's default;
  a learning rate without an allowed range is not searched (the app may not change it);
- ``miniBatchSize`` and ``epochs``: every allowed value of a set; for a range, its ends and the default;
- every other parameter keeps its default; ``seed`` (the shuffle order) is the model's unless given, so the
  best row is exactly what the model, written with those defaults, trains to.

One run per (learning rate, mini-batch size) trains for the largest allowed ``epochs``; the row of a smaller
``epochs`` value is that run's validation after that epoch, which is what a run of that many epochs computes (the
shuffle order comes from one generator per run, so the first epochs are the same). A run whose loss becomes NaN
or infinite stops there: its later rows are marked diverged. Rows are sorted by validation loss, then accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from .errors import EXIT_INVALID, MLSurgeryError, UsageError

# A learning-rate range starting at 0 is searched down to its top × this (log-spacing cannot reach 0).
ZERO_RANGE_DECADES = 1e-5


@dataclass
class SearchSpace:
    learning_rates: list[float]
    mini_batch_sizes: list[int]
    epochs: list[int]

    def to_dict(self) -> dict:
        return {"learning_rates": self.learning_rates, "mini_batch_sizes": self.mini_batch_sizes,
                "epochs": self.epochs}


@dataclass
class Trial:
    learning_rate: float
    mini_batch_size: int
    epochs: int
    loss: float | None = None  # the last epoch's last mini-batch loss (what Core ML reports)
    mean_loss: float | None = None
    validation_loss: float | None = None
    validation_accuracy: float | None = None
    diverged: bool = False
    default: bool = False  # the model's own defaults
    history: list = field(default_factory=list, repr=False)  # EpochRecords up to ``epochs``

    def sort_key(self):
        loss = self.validation_loss if self.validation_loss is not None else math.inf
        return (self.diverged, loss, -(self.validation_accuracy or 0.0))

    def to_dict(self) -> dict:
        return {"learning_rate": self.learning_rate, "mini_batch_size": self.mini_batch_size, "epochs": self.epochs,
                "loss": _finite(self.loss), "mean_loss": _finite(self.mean_loss),
                "validation_loss": _finite(self.validation_loss), "validation_accuracy": self.validation_accuracy,
                "diverged": self.diverged, "default": self.default}


@dataclass
class TuneResult:
    space: SearchSpace
    parameters: object  # engine.training.TrainingParameters: the defaults every trial starts from
    trials: list[Trial]  # best first
    examples: int
    validation_examples: int

    @property
    def best(self) -> Trial | None:
        return self.trials[0] if self.trials and not self.trials[0].diverged else None

    def best_values(self) -> dict[str, float | int]:
        best = self.best
        return {} if best is None else {"learningRate": best.learning_rate, "miniBatchSize": best.mini_batch_size,
                                        "epochs": best.epochs}


OnRun = Callable[[int, int], None]  # runs done, runs in all


class _Diverged(Exception):
    def __init__(self, epoch: int):
        super().__init__(f"loss not finite in epoch {epoch}")
        self.epoch = epoch


# ---- the search space ---------------------------------------------------------------------------------------

def search_space(spec, trials: int) -> SearchSpace:
    """What ``tune`` tries for ``spec``: see the module docstring."""
    from .network import trainable_network

    update = trainable_network(spec).network.updateParams
    kind = update.optimizer.WhichOneof("OptimizerType")
    if kind is None or not update.lossLayers:
        raise UsageError("the model has no update parameters (loss, optimizer): make it updatable first with "
                         "mlsurgery make-updatable")
    optimizer = getattr(update.optimizer, kind)
    rates = _learning_rates(optimizer.learningRate, trials)
    batches = _int_values(optimizer.miniBatchSize)
    epochs = _int_values(update.epochs) if update.HasField("epochs") else [1]
    return SearchSpace(rates, [b for b in batches if b >= 1], [e for e in epochs if e >= 1])


def _learning_rates(parameter, trials: int) -> list[float]:
    default = float(parameter.defaultValue)
    if not parameter.HasField("range") or trials < 1:
        return [default]
    low, high = float(parameter.range.minValue), float(parameter.range.maxValue)
    if high <= 0 or high <= low:
        return sorted({default, high})
    start = low if low > 0 else high * ZERO_RANGE_DECADES
    grid = np.geomspace(start, high, trials) if trials > 1 else np.array([high])
    return sorted({float(f"{value:.6g}") for value in grid} | {default})


def _int_values(parameter) -> list[int]:
    default = int(parameter.defaultValue)
    allowed = parameter.WhichOneof("AllowedValues")
    if allowed == "set":
        return sorted(set(int(v) for v in parameter.set.values) | {default})
    if allowed == "range":
        return sorted({int(parameter.range.minValue), default, int(parameter.range.maxValue)})
    return [default]


# ---- running the trials -------------------------------------------------------------------------------------

def tune(spec, dataset, validation, *, trials: int = 6, seed: int | None = None,
         on_run: OnRun | None = None) -> TuneResult:
    """Every trial of ``search_space(spec, trials)`` trained on ``dataset`` and measured on ``validation``
    (``engine.training.Dataset``s); returns the trials best first."""
    from .engine.training import read_parameters

    space = search_space(spec, trials)
    base = read_parameters(spec)
    if seed is not None:
        base = replace(base, seed=seed)
    runs = [(rate, batch) for rate in space.learning_rates for batch in space.mini_batch_sizes]
    found: list[Trial] = []
    for done, (rate, batch) in enumerate(runs):
        parameters = replace(base, learning_rate=rate, mini_batch_size=batch, epochs=max(space.epochs))
        history, diverged_at = _run(spec, dataset, validation, parameters)
        for epochs in space.epochs:
            trial = Trial(rate, batch, epochs, default=(rate, batch, epochs) == (
                base.learning_rate, base.mini_batch_size, base.epochs))
            if diverged_at is not None and epochs >= diverged_at:
                trial.diverged = True
            else:
                _fill(trial, history[:epochs])
            found.append(trial)
        if on_run:
            on_run(done + 1, len(runs))
    found.sort(key=Trial.sort_key)
    return TuneResult(space, base, found, dataset.count, validation.count)


def _fill(trial: Trial, history: list) -> None:
    last = history[-1]
    trial.history = list(history)
    trial.loss, trial.mean_loss = last.loss, last.mean_loss
    trial.validation_loss, trial.validation_accuracy = last.validation_loss, last.validation_accuracy
    values = [last.loss, last.mean_loss] + ([last.validation_loss] if last.validation_loss is not None else [])
    if not all(math.isfinite(v) for v in values):
        trial.diverged = True


def _run(spec, dataset, validation, parameters):
    """One training run; returns (epoch records, the epoch whose loss stopped being finite, or None)."""
    history = []

    def watch(epoch: int, index: int, batches: int, loss: float) -> None:
        if not math.isfinite(loss):
            raise _Diverged(epoch)

    try:
        result = train_run(spec, dataset, parameters, validation, on_batch=watch, on_epoch=history.append)
    except _Diverged as stopped:
        return history, stopped.epoch
    except MLSurgeryError as refused:
        # A run Core ML would not finish (exit 1: a non-finite loss caught by the trainer's own guard) is a
        # diverged row; a usage error (bad data, exit 2) is the user's to fix and stops the whole search.
        if refused.exit_code != EXIT_INVALID:
            raise
        return history, len(history) + 1
    return result.history, None


def train_run(spec, dataset, parameters, validation, *, on_batch=None, on_epoch=None):
    """The one call into the trainer (``mlsurgery.engine.training.train``) that tune and its report make."""
    from .engine.training import train

    return train(spec, dataset, parameters, validation=validation, on_batch=on_batch, on_epoch=on_epoch)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


# ---- the file job -------------------------------------------------------------------------------------------

@dataclass
class TuneFileResult:
    tune: TuneResult
    spec: object  # the model as loaded
    training: object  # engine.training.Dataset: DATA
    validation: object  # engine.training.Dataset: --validation
    written: object = None  # api.SurgeryResult when --write-defaults wrote a model


def load_training_data(spec, path):
    """``path`` read as ``train`` reads it: the model's training inputs, the loss target among them."""
    from .engine.data import load_dataset
    from .engine.training import training_target
    from .network import trainable_network

    location = trainable_network(spec)
    update = location.network.updateParams
    if not update.lossLayers or update.lossLayers[0].WhichOneof("LossLayerType") is None:
        raise UsageError("the model has no loss layer: make it updatable first with mlsurgery make-updatable")
    loss = update.lossLayers[0]
    target = training_target(location.model, location.kind == "neuralNetworkClassifier",
                             getattr(loss, loss.WhichOneof("LossLayerType")).target)
    return load_dataset(path, spec, target)


def tune_file(model_path, data, validation, *, trials: int = 6, seed: int | None = None, output=None,
              force: bool = False, on_run: OnRun | None = None) -> TuneFileResult:
    """``mlsurgery tune`` as a function; with ``output``, the best values become the model's defaults and the
    model is validated and written through ``api.run_job`` (nothing is written when every trial diverged)."""
    from .jobs import run_job
    from .io import check_output_path, load_spec
    from .ops.update_parameters import set_parameter_defaults

    if trials < 1:
        raise UsageError(f"--trials {trials}: must be at least 1")
    if output is not None:
        check_output_path(output, source=model_path)
    spec = load_spec(model_path)
    training, checked = load_training_data(spec, data), load_training_data(spec, validation)
    result = tune(spec, training, checked, trials=trials, seed=seed, on_run=on_run)
    outcome = TuneFileResult(result, spec, training, checked)
    if output is not None:
        values = result.best_values()
        if not values:
            raise TuningFailedError(f"{output}: not written, every trial diverged; the model cannot learn from "
                                    f"{data} within the learning rates it allows")
        if not _declares_epochs(spec):  # searched at its implicit 1: nothing to store
            values.pop("epochs")
        outcome.written = run_job(model_path, lambda loaded: set_parameter_defaults(loaded, values), output,
                                  force=force, load=load_spec)
    return outcome


def _declares_epochs(spec) -> bool:
    from .network import trainable_network

    return trainable_network(spec).network.updateParams.HasField("epochs")


class TuningFailedError(MLSurgeryError):
    """No trial trained: there is nothing to write (exit 1, a run that would not train)."""

    exit_code = EXIT_INVALID
