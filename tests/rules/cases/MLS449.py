"""MLS449 categorical-mapping."""

from rules import model_specs

def bad_no_map():
    spec = model_specs.categorical_mapping()
    spec.categoricalMapping.ClearField("stringToInt64Map")
    return spec


def bad_string_default_for_a_map_to_int64():
    spec = model_specs.categorical_mapping()
    spec.categoricalMapping.strValue = "unknown"
    return spec


def good_int64_to_string_with_a_string_default():
    spec = model_specs.categorical_mapping()
    spec.categoricalMapping.int64ToStringMap.map[1] = "a"
    spec.categoricalMapping.strValue = "unknown"
    model_specs.set_type(spec.description.input[0], "int64Type")
    model_specs.set_type(spec.description.output[0], "stringType")
    return spec
