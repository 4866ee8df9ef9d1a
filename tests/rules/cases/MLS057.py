"""MLS057 model-type-unset."""

from rules import specs


def bad_no_model_type():
    model = specs.new_model()
    specs.add_array_feature(model.description.input, "x", 1)
    specs.add_array_feature(model.description.output, "y", 1)
    model.specificationVersion = specs.IOS13
    return model


def good_identity():
    model = bad_no_model_type()
    model.identity.SetInParent()
    return model
