"""MLS471 text-model-revision."""

from rules import model_specs

def bad_word_tagger_without_revision():
    spec = model_specs.word_tagger()
    spec.wordTagger.revision = 0
    return spec


def bad_gazetteer_revision_1():
    spec = model_specs.gazetteer()
    spec.gazetteer.revision = 1
    return spec


def bad_word_embedding_revision_1():
    spec = model_specs.word_embedding()
    spec.wordEmbedding.revision = 1
    return spec


def good_text_classifier_revision_1():
    return model_specs.text_classifier()
