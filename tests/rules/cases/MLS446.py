"""MLS446 feature-vectorizer-dimensions."""

from rules import model_specs

def bad_input_with_zero_dimensions():
    spec = model_specs.feature_vectorizer()
    spec.featureVectorizer.inputList[1].inputDimensions = 0
    return spec


def good_input_column_need_not_be_an_input():
    # Core ML does not look up the input column names.
    spec = model_specs.feature_vectorizer()
    spec.featureVectorizer.inputList[0].inputColumn = "elsewhere"
    return spec
