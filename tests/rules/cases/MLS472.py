"""MLS472 text-model-labels."""

from rules import model_specs

def bad_word_tagger_without_tags():
    spec = model_specs.word_tagger()
    spec.wordTagger.ClearField("stringTags")
    return spec


def bad_text_classifier_with_an_empty_label_list():
    spec = model_specs.text_classifier()
    del spec.textClassifier.stringClassLabels.vector[:]
    return spec


def good_word_embedding_has_no_labels():
    return model_specs.word_embedding()
