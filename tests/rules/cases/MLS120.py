"""MLS120 output-not-produced (NeuralNetworkValidator.cpp validate<neuralNetwork>, validate<neuralNetworkClassifier>).

Upstream tests: NNValidatorTests.cpp testNNValidatorMissingOutput, testNNValidatorBadOutput.
"""

from rules import general_specs as g


def rejects_output_renamed():
    model = g.plain_network()
    model.description.output[0].name = "scores"
    return model


def rejects_plain_network_listing_an_output_twice():
    model = g.plain_network()
    model.description.output.add().CopyFrom(model.description.output[0])
    return model


def rejects_classifier_output_not_produced():
    model = g.classifier()
    g.array_feature(model.description.output, "embedding", [4])
    return model


def accepts_classifier_predicted_outputs_not_written_by_layers():
    return g.classifier()


def accepts_regressor_output_not_written_by_layers():
    """Upstream quirk: validate<neuralNetworkRegressor> never checks that its outputs are produced."""
    model = g.regressor()
    model.description.output[0].name = "price"
    model.description.predictedFeatureName = "price"
    return model
