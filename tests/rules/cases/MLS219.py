"""MLS219 training-inputs-missing."""

from rules import specs


def bad_only_the_model_input():
    model = specs.valid_updatable_network()
    del model.description.trainingInput[1:]
    return model


def good_input_and_target():
    return specs.valid_updatable_network()
