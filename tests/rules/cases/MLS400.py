"""MLS400 model-feature-type."""

from rules import model_specs

def bad_one_hot_encoder_double_input():
    spec = model_specs.one_hot_encoder()
    model_specs.set_type(spec.description.input[0], "doubleType")
    return spec


def bad_regressor_prediction_is_int64():
    spec = model_specs.glm_regressor()
    model_specs.set_type(spec.description.output[0], "int64Type")
    return spec


def bad_classifier_label_output_type_differs_from_labels():
    spec = model_specs.glm_classifier()
    model_specs.set_type(spec.description.output[0], "int64Type")
    return spec


def bad_probit_regressor_string_input():
    spec = model_specs.bayesian_probit_regressor()
    model_specs.set_type(spec.description.input[0], "stringType")
    return spec


def good_one_hot_encoder_int64_input():
    spec = model_specs.one_hot_encoder()
    model_specs.set_type(spec.description.input[0], "int64Type")
    spec.oneHotEncoder.int64Categories.vector.extend([1, 2, 3])
    return spec


def good_sparse_one_hot_encoder_gives_a_dictionary():
    spec = model_specs.one_hot_encoder()
    spec.oneHotEncoder.outputSparse = True
    model_specs.set_type(spec.description.output[0], "dictionaryType", key="int64KeyType")
    return spec
