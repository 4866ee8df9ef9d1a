"""MLS465 custom-model-parameters."""

from rules import model_specs

def bad_no_class_name():
    spec = model_specs.custom_model()
    spec.customModel.className = ""
    return spec


def bad_parameter_without_value():
    spec = model_specs.custom_model()
    spec.customModel.parameters["offset"].SetInParent()
    return spec


def bad_parameter_with_an_empty_key():
    spec = model_specs.custom_model()
    spec.customModel.parameters[""].intValue = 1
    return spec


def good_no_parameters():
    spec = model_specs.custom_model()
    spec.customModel.parameters.clear()
    return spec
