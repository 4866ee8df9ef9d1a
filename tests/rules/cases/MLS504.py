"""MLS504 loss-before-reshape."""

from mlsurgery.ops.loss import set_loss
from mlsurgery.ops.mark_updatable import mark_updatable
from mlsurgery.ops.update_parameters import OptimizerSettings, set_optimizer, set_epochs, EpochSettings
from rules import converted_specs as c


def _updatable_with_mse_on(spec, blob):
    mark_updatable(spec, ["dense"])
    set_loss(spec, "mse", blob, target_shape=[1, 3])
    set_optimizer(spec, OptimizerSettings())
    set_epochs(spec, EpochSettings())
    return spec


def _reshaped_output():
    build = c.builder(output="out")
    c.dense(build, "dense", "x", "hidden", 4, 3)
    build.add_activation("sigmoid", "SIGMOID", "hidden", "squashed")
    build.add_reshape_static("reshape", "squashed", "out", (3, 1))
    return build.spec


def bad_mse_on_reshaped_output():
    return _updatable_with_mse_on(_reshaped_output(), "out")


def good_mse_before_the_reshape():
    return _updatable_with_mse_on(_reshaped_output(), "squashed")
