"""MLS470 word-tagger-output-types."""

from rules import model_specs

def bad_int64_tags():
    spec = model_specs.word_tagger()
    model_specs.set_type(spec.description.output[0], "sequenceType", element="int64Type")
    return spec


def bad_string_token_locations():
    spec = model_specs.word_tagger()
    model_specs.set_type(spec.description.output[2], "sequenceType", element="stringType")
    return spec


def good_outputs_in_any_order():
    spec = model_specs.word_tagger()
    spec.description.output.reverse()
    return spec
