"""MLS483 vggish-arrays."""

from rules import model_specs

def bad_input_length():
    spec = model_specs.vggish_preprocessing()
    spec.description.input[0].type.multiArrayType.shape[0] = 15599
    return spec


def bad_double_input():
    spec = model_specs.vggish_preprocessing()
    spec.description.input[0].type.multiArrayType.dataType = model_specs.DOUBLE
    return spec


def bad_output_without_leading_1():
    spec = model_specs.vggish_preprocessing()
    del spec.description.output[0].type.multiArrayType.shape[0]
    return spec


def good_vggish_arrays():
    return model_specs.vggish_preprocessing()
