"""MLUpdateTask's mini-batches: ``ceil(N / miniBatchSize)`` per epoch, in order or, with ``shuffle``, in an order
drawn from ``seed`` (one generator for the whole run, a new permutation each epoch); a short last mini-batch is
filled up with examples from the start of that epoch's order."""

from __future__ import annotations

import numpy as np

from .update_parameters import TrainingParameters


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
