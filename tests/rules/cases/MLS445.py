"""MLS445 imputer-values."""

from rules import model_specs

def bad_no_imputed_value():
    spec = model_specs.imputer()
    spec.imputer.ClearField("imputedDoubleArray")
    return spec


def bad_string_imputed_for_an_array():
    spec = model_specs.imputer()
    spec.imputer.imputedStringValue = "?"
    return spec


def bad_int64_replace_value_for_doubles():
    spec = model_specs.imputer()
    spec.imputer.replaceInt64Value = -1
    return spec


def bad_imputed_array_length():
    spec = model_specs.imputer()
    spec.imputer.imputedDoubleArray.vector.append(4.0)
    return spec


def good_one_double_for_an_array():
    spec = model_specs.imputer()
    spec.imputer.imputedDoubleValue = 0.0
    return spec
