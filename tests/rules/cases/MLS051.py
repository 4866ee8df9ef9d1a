"""MLS051 model-type-not-updatable."""

from rules import specs


def _identity(updatable: bool):
    model = specs.new_model()
    specs.add_array_feature(model.description.input, "x", 1)
    specs.add_array_feature(model.description.output, "y", 1)
    model.identity.SetInParent()
    model.specificationVersion = specs.IOS13
    model.isUpdatable = updatable
    return model


def bad_updatable_identity():
    return _identity(True)


def good_frozen_identity():
    return _identity(False)


def good_updatable_nearest_neighbors():
    return specs.valid_nearest_neighbors(updatable=True)
