"""tune's search space read from the model's allowed values, its reuse of one run for every epochs value (checked
against separate runs of the trainer), and divergent learning rates as rows rather than crashes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import FIXTURES
from mlsurgery.engine.training import Dataset, read_parameters, train
from mlsurgery.io import load_spec
from mlsurgery.ops.make_updatable import make_updatable
from mlsurgery.ops.update_parameters import EpochSettings, OptimizerSettings
from mlsurgery.tuning import search_space, tune


def _regressor(lr=0.01, lr_range=(0.001, 1000.0), batch=8, batch_values=(4, 8), epochs=3, epochs_values=(1, 3)):
    spec = load_spec(FIXTURES / "regressor.mlmodel")
    make_updatable(spec, ["auto"], loss="mse",
                   optimizer=OptimizerSettings(learning_rate=lr, learning_rate_range=lr_range, batch=batch,
                                               batch_values=batch_values),
                   epochs=EpochSettings(epochs, epochs_values), shuffle=True, seed=4)
    return spec


def _data(count, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, 8)).astype(np.float32)
    return Dataset({"features": x, "target_true": (0.5 * x[:, :1]).astype(np.float32)}, count, f"data{seed}")


def test_the_learning_rates_are_log_spaced_over_the_allowed_range_with_the_default():
    space = search_space(_regressor(lr=0.01, lr_range=(0.001, 1000.0)), 7)
    assert space.learning_rates == pytest.approx([0.001, 0.01, 0.1, 1, 10, 100, 1000])
    assert space.mini_batch_sizes == [4, 8] and space.epochs == [1, 3]
    # A range from 0 cannot be log-spaced down to 0: five decades below its top.
    assert search_space(_regressor(lr=0.3, lr_range=(0.0, 1.0)), 3).learning_rates == pytest.approx(
        [1e-5, 0.00316228, 0.3, 1.0])


def test_a_smaller_epochs_value_is_the_same_as_a_run_of_that_many_epochs():
    spec = _regressor()
    training, validation = _data(40, 1), _data(16, 2)
    result = tune(spec, training, validation, trials=2)
    assert len(result.trials) == 3 * 2 * 2  # learning rates {0.001, 0.01, 1000} × batches × epochs
    short = next(t for t in result.trials if (t.learning_rate, t.mini_batch_size, t.epochs) == (0.01, 4, 1))
    from dataclasses import replace

    alone = train(spec, training, replace(read_parameters(spec), learning_rate=0.01, mini_batch_size=4, epochs=1),
                  validation=validation)
    assert short.validation_loss == alone.history[-1].validation_loss
    assert short.loss == alone.history[-1].loss


def test_a_divergent_learning_rate_is_a_row_marked_diverged_ranked_last():
    result = tune(_regressor(), _data(40, 1), _data(16, 2), trials=2)
    diverged = [t for t in result.trials if t.diverged]
    assert diverged and all(t.learning_rate == 1000 for t in diverged)
    assert result.trials[-len(diverged):] == diverged
    assert all(t.validation_loss is None or not math.isfinite(t.validation_loss) for t in diverged)
    assert result.best is not None and result.best.learning_rate == 0.01 and result.best.epochs == 3
    losses = [t.validation_loss for t in result.trials if not t.diverged]
    assert losses == sorted(losses)
