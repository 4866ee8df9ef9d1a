"""MLS405 unclaimed-feature."""

from rules import model_specs

def bad_nms_input_named_by_no_parameter():
    spec = model_specs.non_maximum_suppression()
    spec.nonMaximumSuppression.iouThresholdInputFeatureName = ""
    return spec


def bad_word_tagger_extra_output():
    spec = model_specs.word_tagger()
    model_specs.feature(spec.description.output, "extra", "sequenceType")
    return spec


def bad_objects_print_output_not_listed():
    spec = model_specs.objects_print()
    spec.description.output[1].name = "embedding"
    return spec


def good_word_tagger_with_only_the_tags_output():
    spec = model_specs.word_tagger()
    for field in ("tokensOutputFeatureName", "tokenLocationsOutputFeatureName", "tokenLengthsOutputFeatureName"):
        setattr(spec.wordTagger, field, "")
    del spec.description.output[1:]
    return spec
