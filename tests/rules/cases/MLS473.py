"""MLS473 text-model-data."""

from rules import model_specs

def bad_text_classifier_without_data():
    spec = model_specs.text_classifier()
    spec.textClassifier.modelParameterData = b""
    return spec


def bad_word_embedding_without_data():
    spec = model_specs.word_embedding()
    spec.wordEmbedding.modelParameterData = b""
    return spec


def good_gazetteer_with_data():
    return model_specs.gazetteer()
