"""MLS401 model-feature-count."""

from rules import model_specs

def bad_scaler_with_two_inputs():
    spec = model_specs.scaler()
    model_specs.feature(spec.description.input, "x2", "multiArrayType")
    return spec


def bad_objects_print_with_three_outputs():
    spec = model_specs.objects_print()
    model_specs.feature(spec.description.output, "extra", "multiArrayType")
    return spec


def good_feature_vectorizer_takes_any_number_of_inputs():
    spec = model_specs.feature_vectorizer()
    model_specs.feature(spec.description.input, "c", "int64Type")
    column = spec.featureVectorizer.inputList.add()
    column.inputColumn, column.inputDimensions = "c", 1
    return spec
