"""MLS461 nms-element-type."""

from rules import model_specs

def bad_mixed_data_types():
    spec = model_specs.non_maximum_suppression()
    spec.description.output[1].type.multiArrayType.dataType = model_specs.DOUBLE
    return spec


def bad_float32_before_ios14():
    return model_specs.non_maximum_suppression(version=4)


def bad_int32_arrays():
    return model_specs.non_maximum_suppression(data_type=model_specs.INT32)


def good_double_before_ios14():
    return model_specs.non_maximum_suppression(version=4, data_type=model_specs.DOUBLE)
