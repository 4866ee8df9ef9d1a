"""MLS441 transform-array-shape."""

from rules import model_specs

def bad_scaler_two_dimensional_input():
    spec = model_specs.scaler()
    spec.description.input[0].type.multiArrayType.shape.append(2)
    return spec


def bad_imputer_output_length():
    spec = model_specs.imputer()
    spec.description.output[0].type.multiArrayType.shape[0] = 4
    return spec


def good_scaler_one_element_arrays():
    spec = model_specs.scaler()
    for feature in (spec.description.input[0], spec.description.output[0]):
        feature.type.multiArrayType.shape[0] = 1
    del spec.scaler.shiftValue[1:]
    del spec.scaler.scaleValue[1:]
    return spec
