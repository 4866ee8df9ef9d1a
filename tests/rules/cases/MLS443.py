"""MLS443 scaler-parameters."""

from rules import model_specs

def bad_two_shift_values_for_three_elements():
    spec = model_specs.scaler()
    del spec.scaler.shiftValue[2:]
    return spec


def bad_two_scale_values_for_a_scalar():
    spec = model_specs.scaler("doubleType")
    spec.scaler.scaleValue.append(3.0)
    return spec


def good_no_shift_values():
    spec = model_specs.scaler()
    spec.scaler.ClearField("shiftValue")
    return spec
