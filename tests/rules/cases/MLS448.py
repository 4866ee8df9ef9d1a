"""MLS448 array-extractor-indices."""

from rules import model_specs

def bad_double_output_with_two_indices():
    spec = model_specs.array_feature_extractor()
    model_specs.set_type(spec.description.output[0], "doubleType")
    return spec


def good_double_output_with_one_index():
    spec = model_specs.array_feature_extractor()
    model_specs.set_type(spec.description.output[0], "doubleType")
    del spec.arrayFeatureExtractor.extractIndex[1:]
    return spec


def good_int64_output_with_two_indices():
    spec = model_specs.array_feature_extractor()
    model_specs.set_type(spec.description.output[0], "int64Type")
    return spec
