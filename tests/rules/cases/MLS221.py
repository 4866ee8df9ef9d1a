"""MLS221 training-inputs-without-model-input."""

from rules import specs


def bad_model_input_listed_with_another_shape():
    model = specs.valid_updatable_network()
    del model.description.trainingInput[0].type.multiArrayType.shape[1:]
    return model


def good_optional_flag_and_description_are_ignored():
    model = specs.valid_updatable_network()
    model.description.trainingInput[0].type.isOptional = True
    model.description.trainingInput[0].shortDescription = "training copy"
    return model
