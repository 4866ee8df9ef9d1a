"""MLS450 categorical-mapping-sequence."""

from rules import model_specs

def bad_int64_sequence_into_a_string_map():
    spec = model_specs.categorical_mapping(sequences=True)
    model_specs.set_type(spec.description.input[0], "sequenceType", element="int64Type")
    return spec


def bad_sequence_in_single_value_out():
    spec = model_specs.categorical_mapping(sequences=True)
    model_specs.set_type(spec.description.output[0], "int64Type")
    return spec


def bad_string_sequence_out_of_a_map_to_int64():
    spec = model_specs.categorical_mapping(sequences=True)
    model_specs.set_type(spec.description.output[0], "sequenceType", element="stringType")
    return spec


def good_sequences_of_the_map_types():
    return model_specs.categorical_mapping(sequences=True)


def good_single_value_in_sequence_out():
    # Core ML only checks the output's element type when the input is a sequence.
    spec = model_specs.categorical_mapping(sequences=True)
    model_specs.set_type(spec.description.input[0], "stringType")
    model_specs.set_type(spec.description.output[0], "sequenceType", element="stringType")
    return spec
