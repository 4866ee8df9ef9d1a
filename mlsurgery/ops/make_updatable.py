"""The whole ``make-updatable`` job: updatable layers, loss, training inputs, optimizer, epochs, shuffle.

Each step is its own operation (``mark_updatable``, ``set_loss``, ``set_optimizer``, ``set_epochs``,
``set_shuffle``); this module runs them in order and replaces, never accumulates, what an earlier run set, so
running it on its own output changes nothing.
"""

from __future__ import annotations

from .changes import Changes
from .loss import set_loss
from .mark_updatable import mark_updatable
from .training import EpochSettings, OptimizerSettings, set_epochs, set_optimizer, set_shuffle


def make_updatable(spec, layers: list[str], *, loss: str | None = None, loss_input: str | None = None,
                   target_shape: list[int] | None = None,
                   optimizer: OptimizerSettings = OptimizerSettings(),
                   epochs: EpochSettings = EpochSettings(), shuffle: bool = True,
                   seed: int | None = None) -> Changes:
    """Prepare ``spec`` (in place) so Core ML can train ``layers`` on device; returns what changed.

    This does not validate: call ``mlsurgery.validate.validate_spec`` on the result (the CLI refuses to write a
    model Core ML would reject).
    """
    changes = Changes("make-updatable")
    changes.extend(mark_updatable(spec, layers))
    changes.extend(set_loss(spec, loss, loss_input, target_shape=target_shape))
    changes.extend(set_optimizer(spec, optimizer))
    changes.extend(set_epochs(spec, epochs))
    changes.extend(set_shuffle(spec, shuffle, seed))
    return changes
