"""MLS055 optional-input-not-allowed."""

from rules import specs


def bad_optional_input_to_nearest_neighbors():
    model = specs.valid_nearest_neighbors()
    model.description.input[0].type.isOptional = True
    return model


def good_required_input():
    return specs.valid_nearest_neighbors()
