"""MLS220 training-inputs-without-target."""

from rules import specs


def bad_every_training_input_is_a_model_input():
    model = specs.valid_updatable_network()
    model.description.trainingInput[1].CopyFrom(model.description.input[0])
    return model


def good_target_listed():
    return specs.valid_updatable_network()
