"""MLS440 transform-output-type."""

from rules import model_specs

def bad_scaler_array_to_double():
    spec = model_specs.scaler()
    model_specs.set_type(spec.description.output[0], "doubleType")
    return spec


def bad_imputer_string_to_int64():
    spec = model_specs.imputer()
    model_specs.set_type(spec.description.input[0], "stringType")
    model_specs.set_type(spec.description.output[0], "int64Type")
    return spec


def good_scaler_int64_to_double():
    spec = model_specs.scaler("int64Type")
    model_specs.set_type(spec.description.output[0], "doubleType")
    return spec
