"""Specs shaped like the classifiers Create ML and scikit-learn export: a feature extractor, then a GLM classifier.

Built with coremltools' protobuf classes, field by field as the exporters lay them out (the image classifier as
fixtures' third-party createml_flower_classifier.mlmodel does; the sound classifier as Create ML's
MLSoundClassifier: VGGish preprocessing, a feature network, a classifier; the tabular one as a featureVectorizer
before the GLM). GLM weights are seeded random numbers.
"""

from __future__ import annotations

import numpy as np
from coremltools.proto import FeatureTypes_pb2, Model_pb2

DOUBLE = FeatureTypes_pb2.ArrayFeatureType.DOUBLE
FLOAT32 = FeatureTypes_pb2.ArrayFeatureType.FLOAT32
LOGIT, PROBIT = 0, 1
REFERENCE_CLASS, ONE_VS_REST = 0, 1


def _array(features, name, shape, data_type=DOUBLE):
    feature = features.add()
    feature.name = name
    feature.type.multiArrayType.shape.extend(shape)
    feature.type.multiArrayType.dataType = data_type
    return feature


def _classifier_outputs(description, labels, label_name="classLabel", probabilities_name="classLabelProbs"):
    label = description.output.add()
    label.name = label_name
    probabilities = description.output.add()
    probabilities.name = probabilities_name
    if isinstance(labels[0], str):
        label.type.stringType.SetInParent()
        probabilities.type.dictionaryType.stringKeyType.SetInParent()
    else:
        label.type.int64Type.SetInParent()
        probabilities.type.dictionaryType.int64KeyType.SetInParent()
    description.predictedFeatureName = label_name
    description.predictedProbabilitiesName = probabilities_name


def glm_stage(input_name, dimension, labels, *, encoding=REFERENCE_CLASS, transform=LOGIT, seed=0,
              data_type=DOUBLE):
    """A GLM classifier with as many weight rows as Core ML requires for ``encoding`` and ``len(labels)``."""
    rng = np.random.default_rng(seed)
    rows = 1 if len(labels) == 2 else (len(labels) - 1 if encoding == REFERENCE_CLASS else len(labels))
    stage = Model_pb2.Model()
    stage.specificationVersion = 1
    _array(stage.description.input, input_name, [dimension], data_type)
    _classifier_outputs(stage.description, labels)
    glm = stage.glmClassifier
    for _ in range(rows):
        glm.weights.add().value.extend(rng.normal(0, 1 / np.sqrt(dimension), dimension))
    glm.offset.extend(rng.normal(0, 0.5, rows))
    glm.postEvaluationTransform = transform
    glm.classEncoding = encoding
    if isinstance(labels[0], str):
        glm.stringClassLabels.vector.extend(labels)
    else:
        glm.int64ClassLabels.vector.extend(labels)
    return stage


def _pipeline(inputs_from, stages, labels):
    spec = Model_pb2.Model()
    spec.specificationVersion = 3
    spec.description.input.extend(inputs_from.description.input)
    _classifier_outputs(spec.description, labels)
    spec.description.metadata.author = "mlsurgery tests"
    spec.pipelineClassifier.pipeline.models.extend(stages)
    return spec


def image_classifier(labels=("daisy", "dandelion", "roses", "sunflowers", "tulips"), *, dimension=2048, **glm):
    """VisionFeaturePrint (scene) → GLM, as Create ML's MLImageClassifier exports it."""
    printer = Model_pb2.Model()
    printer.specificationVersion = 3
    image = printer.description.input.add()
    image.name = "image"
    image.type.imageType.width = image.type.imageType.height = 299
    image.type.imageType.colorSpace = FeatureTypes_pb2.ImageFeatureType.BGR
    _array(printer.description.output, "sceneprint", [dimension])
    printer.visionFeaturePrint.scene.version = 1
    labels = list(labels)
    return _pipeline(printer, [printer, glm_stage("sceneprint", dimension, labels, **glm)], labels)


def sound_classifier(labels=("applause", "laughter", "silence"), **glm):
    """VGGish preprocessing → feature network → GLM, the layout of Create ML's MLSoundClassifier."""
    preprocessing = Model_pb2.Model()
    preprocessing.specificationVersion = 4
    _array(preprocessing.description.input, "audioSamples", [15600], FLOAT32)
    _array(preprocessing.description.output, "preprocessed", [1, 96, 64], FLOAT32)
    preprocessing.soundAnalysisPreprocessing.vggish.SetInParent()

    network = Model_pb2.Model()
    network.specificationVersion = 4
    _array(network.description.input, "preprocessed", [1, 96, 64], FLOAT32)
    _array(network.description.output, "features", [128], FLOAT32)
    rng = np.random.default_rng(1)
    flatten = network.neuralNetwork.layers.add()
    flatten.name, flatten.flatten.mode = "flatten", 0
    flatten.input.append("preprocessed")
    flatten.output.append("flat")
    dense = network.neuralNetwork.layers.add()
    dense.name = "embedding"
    dense.input.append("flat")
    dense.output.append("embedding_out")
    dense.innerProduct.inputChannels, dense.innerProduct.outputChannels = 96 * 64, 128
    dense.innerProduct.hasBias = True
    dense.innerProduct.weights.floatValue.extend(rng.normal(0, 0.01, 96 * 64 * 128).astype(np.float32))
    dense.innerProduct.bias.floatValue.extend(np.zeros(128, np.float32))
    relu = network.neuralNetwork.layers.add()
    relu.name = "embedding_relu"
    relu.input.append("embedding_out")
    relu.output.append("features")
    relu.activation.ReLU.SetInParent()

    labels = list(labels)
    stages = [preprocessing, network, glm_stage("features", 128, labels, data_type=FLOAT32, **glm)]
    return _pipeline(preprocessing, stages, labels)


def audio_print_classifier(labels=("dog", "cat"), **glm):
    """AudioFeaturePrint (sound) → GLM, the layout of newer Create ML sound classifiers."""
    printer = Model_pb2.Model()
    printer.specificationVersion = 6
    _array(printer.description.input, "audioSamples", [15600], FLOAT32)
    _array(printer.description.output, "audioprint", [512], FLOAT32)
    printer.audioFeaturePrint.sound.version = 1
    labels = list(labels)
    return _pipeline(printer, [printer, glm_stage("audioprint", 512, labels, data_type=FLOAT32, **glm)], labels)


def tabular_classifier(labels=(1, 2, 3, 4), **glm):
    """Double columns → featureVectorizer → GLM (int64 labels), as tabular exporters lay it out."""
    vectorizer = Model_pb2.Model()
    vectorizer.specificationVersion = 1
    for name in ("width", "height", "weight"):
        column = vectorizer.description.input.add()
        column.name = name
        column.type.doubleType.SetInParent()
        entry = vectorizer.featureVectorizer.inputList.add()
        entry.inputColumn, entry.inputDimensions = name, 1
    _array(vectorizer.description.output, "__vectorized_features__", [3])
    labels = list(labels)
    stages = [vectorizer, glm_stage("__vectorized_features__", 3, labels, encoding=ONE_VS_REST, **glm)]
    return _pipeline(vectorizer, stages, labels)


def all_shapes():
    """(name, spec) of every shape above, in the encodings and transforms Core ML allows."""
    return [
        ("image-reference-class", image_classifier()),
        ("image-one-vs-rest", image_classifier(encoding=ONE_VS_REST)),
        ("image-binary-probit", image_classifier(("cat", "dog"), transform=PROBIT)),
        ("image-binary-one-vs-rest", image_classifier(("cat", "dog"), encoding=ONE_VS_REST)),
        ("sound-vggish", sound_classifier()),
        ("sound-print-binary", audio_print_classifier()),
        ("tabular-int-labels", tabular_classifier()),
    ]
