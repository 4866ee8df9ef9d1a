"""MLS119 probability-blob-missing (NeuralNetworkValidator.cpp validate<neuralNetworkClassifier>).

Upstream tests: NNValidatorTests.cpp testNNCompilerValidationBadProbBlob, testNNCompilerValidationGoodProbBlob.
"""

from rules import general_specs as g


def rejects_probability_blob_not_produced():
    model = g.classifier()
    model.neuralNetworkClassifier.labelProbabilityLayerName = "softmax"
    return model


def accepts_probability_blob_of_the_softmax():
    return g.classifier()


def accepts_probability_blob_left_empty():
    model = g.classifier()
    model.neuralNetworkClassifier.labelProbabilityLayerName = ""
    return model
