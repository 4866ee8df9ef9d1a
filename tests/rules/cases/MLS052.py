"""MLS052 default-optional-value-model-type."""

from rules import specs


def _identity_with_optional_input(default: bool):
    model = specs.new_model()
    feature = specs.add_array_feature(model.description.input, "x", 1)
    feature.type.isOptional = True
    if default:
        feature.type.multiArrayType.floatDefaultValue = 0.5
    specs.add_array_feature(model.description.output, "y", 1)
    model.identity.SetInParent()
    model.specificationVersion = 5
    return model


def bad_default_value_on_identity():
    return _identity_with_optional_input(True)


def good_optional_input_without_default():
    return _identity_with_optional_input(False)
