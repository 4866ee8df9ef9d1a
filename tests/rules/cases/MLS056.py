"""MLS056 optional-output."""

from rules import specs


def bad_optional_label_output():
    model = specs.valid_nearest_neighbors()
    model.description.output[0].type.isOptional = True
    return model


def bad_optional_network_output():
    model = specs.valid_updatable_network()
    model.description.output[0].type.isOptional = True
    return model


def good_required_outputs():
    return specs.valid_nearest_neighbors()
