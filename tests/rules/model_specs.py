"""Valid specs of the other model types (GLM, SVM, trees, transforms, Create ML models, ...), built in Python.

Each builder returns a whole ``Model`` that Core ML accepts (checked against Core ML's own validator when the
builders were written); the MLS4xx case files break one thing at a time. Shapes follow what the converters in
coremltools write (e.g. sklearn's GLM classifier: one weight vector per class for OneVsRest).
"""

from __future__ import annotations

from mlsurgery._proto import feature_types_pb2, model_pb2

_TYPES = feature_types_pb2()
ARRAY = _TYPES.ArrayFeatureType
DOUBLE, FLOAT32, INT32 = ARRAY.DOUBLE, ARRAY.FLOAT32, ARRAY.INT32
LEAF = 6  # TreeNodeBehavior.LeafNode
BRANCH_LESS_THAN_EQUAL = 0


def model(version: int = 4):
    spec = model_pb2().Model()
    spec.specificationVersion = version
    return spec


def feature(features, name: str, kind: str, *, shape=(3,), data_type: int = DOUBLE, element: str = "stringType",
            key: str = "stringKeyType"):
    """Add a feature of FeatureType ``kind`` (``doubleType``, ``multiArrayType``, ``sequenceType``, ...)."""
    added = features.add()
    added.name = name
    set_type(added, kind, shape=shape, data_type=data_type, element=element, key=key)
    return added


def set_type(described, kind: str, *, shape=(3,), data_type: int = DOUBLE, element: str = "stringType",
             key: str = "stringKeyType"):
    described.type.Clear()
    feature_type = described.type
    if kind == "multiArrayType":
        feature_type.multiArrayType.shape.extend(shape)
        feature_type.multiArrayType.dataType = data_type
    elif kind == "imageType":
        feature_type.imageType.width = feature_type.imageType.height = 299
        feature_type.imageType.colorSpace = _TYPES.ImageFeatureType.RGB
    elif kind == "sequenceType":
        getattr(feature_type.sequenceType, element).SetInParent()
    elif kind == "dictionaryType":
        getattr(feature_type.dictionaryType, key).SetInParent()
    else:
        getattr(feature_type, kind).SetInParent()
    return described


def glm_regressor(inputs: int = 2):
    spec = model()
    feature(spec.description.input, "x", "multiArrayType", shape=(inputs,))
    feature(spec.description.output, "y", "doubleType")
    spec.description.predictedFeatureName = "y"
    spec.glmRegressor.weights.add().value.extend([0.5] * inputs)
    spec.glmRegressor.offset.append(0.1)
    return spec


def glm_classifier(classes=("a", "b", "c"), *, one_vs_rest: bool = True):
    """String labels, a label and a probability output; OneVsRest (one weight vector per class) by default."""
    spec = model()
    feature(spec.description.input, "x", "multiArrayType", shape=(2,))
    feature(spec.description.output, "label", "stringType")
    feature(spec.description.output, "probabilities", "dictionaryType")
    spec.description.predictedFeatureName = "label"
    spec.description.predictedProbabilitiesName = "probabilities"
    glm = spec.glmClassifier
    glm.stringClassLabels.vector.extend(classes)
    glm.classEncoding = glm.OneVsRest if one_vs_rest else glm.ReferenceClass
    vectors = (len(classes) if len(classes) > 2 else 1) if one_vs_rest else len(classes) - 1
    for _ in range(vectors):
        glm.weights.add().value.extend([0.3, -0.2])
        glm.offset.append(0.0)
    return spec


def svm_classifier(classes=("a", "b", "c"), per_class=(1, 2, 1)):
    """An RBF SVM with dense support vectors and probability estimates."""
    spec = model()
    feature(spec.description.input, "x", "multiArrayType", shape=(2,))
    feature(spec.description.output, "label", "stringType")
    spec.description.predictedFeatureName = "label"
    svm = spec.supportVectorClassifier
    svm.stringClassLabels.vector.extend(classes)
    svm.kernel.rbfKernel.gamma = 0.5
    svm.numberOfSupportVectorsPerClass.extend(per_class)
    for _ in range(sum(per_class)):
        svm.denseSupportVectors.vectors.add().values.extend([0.1, 0.2])
    for _ in range(len(classes) - 1):
        svm.coefficients.add().alpha.extend([0.5] * sum(per_class))
    pairs = len(classes) * (len(classes) - 1) // 2
    svm.rho.extend([0.0] * pairs)
    svm.probA.extend([1.0] * pairs)
    svm.probB.extend([1.0] * pairs)
    return spec


def svm_regressor():
    spec = model()
    feature(spec.description.input, "x", "multiArrayType", shape=(2,))
    feature(spec.description.output, "y", "doubleType")
    spec.description.predictedFeatureName = "y"
    svm = spec.supportVectorRegressor
    svm.kernel.linearKernel.SetInParent()
    for index in (1, 2):
        node = svm.sparseSupportVectors.vectors.add().nodes.add()
        node.index, node.value = index, 0.5
    svm.coefficients.alpha.extend([0.1, 0.2])
    return spec


def add_tree(ensemble, tree_id: int = 0, dimensions: int = 1):
    """One stump: branch node 0 with false child 1 and true child 2, both leaves with a value per dimension."""
    branch = ensemble.nodes.add()
    branch.treeId, branch.nodeId = tree_id, 0
    branch.nodeBehavior = BRANCH_LESS_THAN_EQUAL
    branch.branchFeatureIndex, branch.branchFeatureValue = 0, 0.5
    branch.falseChildNodeId, branch.trueChildNodeId = 1, 2
    for node_id in (1, 2):
        leaf = ensemble.nodes.add()
        leaf.treeId, leaf.nodeId = tree_id, node_id
        leaf.nodeBehavior = LEAF
        for dimension in range(dimensions):
            value = leaf.evaluationInfo.add()
            value.evaluationIndex, value.evaluationValue = dimension, 0.1 * node_id
    return branch


def tree_regressor(trees: int = 2):
    spec = model()
    feature(spec.description.input, "x", "multiArrayType", shape=(2,))
    feature(spec.description.output, "y", "doubleType")
    spec.description.predictedFeatureName = "y"
    ensemble = spec.treeEnsembleRegressor.treeEnsemble
    ensemble.numPredictionDimensions = 1
    for tree_id in range(trees):
        add_tree(ensemble, tree_id)
    ensemble.basePredictionValue.append(0.0)
    return spec


def tree_classifier(classes=("a", "b", "c")):
    spec = model()
    feature(spec.description.input, "x", "multiArrayType", shape=(2,))
    feature(spec.description.output, "label", "stringType")
    spec.description.predictedFeatureName = "label"
    classifier = spec.treeEnsembleClassifier
    classifier.stringClassLabels.vector.extend(classes)
    dimensions = 1 if len(classes) == 2 else len(classes)
    classifier.treeEnsemble.numPredictionDimensions = dimensions
    add_tree(classifier.treeEnsemble, 0, dimensions)
    return spec


def one_hot_encoder():
    spec = model()
    feature(spec.description.input, "category", "stringType")
    feature(spec.description.output, "encoded", "multiArrayType", shape=(3,))
    spec.oneHotEncoder.stringCategories.vector.extend(["a", "b", "c"])
    return spec


def scaler(kind: str = "multiArrayType"):
    spec = model()
    feature(spec.description.input, "x", kind)
    feature(spec.description.output, "y", kind)
    values = 3 if kind == "multiArrayType" else 1
    spec.scaler.shiftValue.extend([0.5] * values)
    spec.scaler.scaleValue.extend([2.0] * values)
    return spec


def normalizer():
    spec = model()
    feature(spec.description.input, "x", "multiArrayType")
    feature(spec.description.output, "y", "multiArrayType")
    spec.normalizer.normType = spec.normalizer.L2
    return spec


def imputer():
    """An array imputer: a missing (NaN) element becomes its column mean."""
    spec = model()
    feature(spec.description.input, "x", "multiArrayType")
    feature(spec.description.output, "y", "multiArrayType")
    spec.imputer.imputedDoubleArray.vector.extend([1.0, 2.0, 3.0])
    spec.imputer.replaceDoubleValue = float("nan")
    return spec


def feature_vectorizer():
    spec = model()
    for name, kind, dimensions in (("a", "doubleType", 1), ("b", "multiArrayType", 3)):
        feature(spec.description.input, name, kind)
        column = spec.featureVectorizer.inputList.add()
        column.inputColumn, column.inputDimensions = name, dimensions
    feature(spec.description.output, "vector", "multiArrayType", shape=(4,))
    return spec


def dict_vectorizer():
    spec = model()
    feature(spec.description.input, "dict", "dictionaryType")
    feature(spec.description.output, "vector", "dictionaryType")
    spec.dictVectorizer.stringToIndex.vector.extend(["a", "b", "c"])
    return spec


def array_feature_extractor():
    spec = model()
    feature(spec.description.input, "x", "multiArrayType", shape=(5,))
    feature(spec.description.output, "y", "multiArrayType", shape=(2,))
    spec.arrayFeatureExtractor.extractIndex.extend([1, 3])
    return spec


def categorical_mapping(*, sequences: bool = False):
    spec = model()
    if sequences:
        feature(spec.description.input, "words", "sequenceType", element="stringType")
        feature(spec.description.output, "ids", "sequenceType", element="int64Type")
    else:
        feature(spec.description.input, "words", "stringType")
        feature(spec.description.output, "ids", "int64Type")
    spec.categoricalMapping.stringToInt64Map.map["a"] = 1
    spec.categoricalMapping.int64Value = -1
    return spec


def identity():
    spec = model()
    feature(spec.description.input, "x", "multiArrayType")
    feature(spec.description.output, "y", "multiArrayType")
    spec.identity.SetInParent()
    return spec


def non_maximum_suppression(*, version: int = 5, data_type: int = FLOAT32):
    """Object detection post-processing as Create ML writes it: thresholds as inputs, 2-D shaped outputs."""
    spec = model(version)
    nms = spec.nonMaximumSuppression
    names = (("confidenceInputFeatureName", "raw_confidence", (10, 3)),
             ("coordinatesInputFeatureName", "raw_coordinates", (10, 4)))
    for field, name, shape in names:
        setattr(nms, field, name)
        feature(spec.description.input, name, "multiArrayType", shape=shape, data_type=data_type)
    for field, name in (("iouThresholdInputFeatureName", "iouThreshold"),
                        ("confidenceThresholdInputFeatureName", "confidenceThreshold")):
        setattr(nms, field, name)
        feature(spec.description.input, name, "doubleType")
    for field, name, shape in (("confidenceOutputFeatureName", "confidence", (10, 3)),
                               ("coordinatesOutputFeatureName", "coordinates", (10, 4))):
        setattr(nms, field, name)
        feature(spec.description.output, name, "multiArrayType", shape=shape, data_type=data_type)
    nms.iouThreshold, nms.confidenceThreshold = 0.45, 0.25
    nms.pickTop.perClass = True
    nms.stringClassLabels.vector.extend(["cat", "dog", "bird"])
    return spec


def item_similarity_recommender():
    spec = model()
    recommender = spec.itemSimilarityRecommender
    for item in range(3):
        similar = recommender.itemItemSimilarities.add()
        similar.itemId = item
        connected = similar.similarItemList.add()
        connected.itemId, connected.similarityScore = (item + 1) % 3, 0.5
    recommender.itemStringIds.vector.extend(["apple", "pear", "plum"])
    recommender.itemInputFeatureName = "items"
    feature(spec.description.input, "items", "dictionaryType")
    recommender.recommendedItemListOutputFeatureName = "recommendations"
    feature(spec.description.output, "recommendations", "sequenceType")
    return spec


def custom_model():
    spec = model()
    feature(spec.description.input, "x", "multiArrayType")
    feature(spec.description.output, "y", "multiArrayType")
    spec.customModel.className = "MyCustomModel"
    spec.customModel.parameters["scale"].doubleValue = 2.0
    return spec


def bayesian_probit_regressor():
    spec = model()
    feature(spec.description.input, "x", "multiArrayType", shape=(10, 10), data_type=INT32)
    feature(spec.description.output, "y", "multiArrayType", shape=(10,))
    spec.bayesianProbitRegressor.numberOfFeatures = 10
    return spec


def word_tagger():
    spec = model(3)
    feature(spec.description.input, "text", "stringType")
    tagger = spec.wordTagger
    tagger.revision, tagger.language = 1, "en"
    for field, name, element in (("tokenTagsOutputFeatureName", "tags", "stringType"),
                                 ("tokensOutputFeatureName", "tokens", "stringType"),
                                 ("tokenLocationsOutputFeatureName", "locations", "int64Type"),
                                 ("tokenLengthsOutputFeatureName", "lengths", "int64Type")):
        setattr(tagger, field, name)
        feature(spec.description.output, name, "sequenceType", element=element)
    tagger.stringTags.vector.extend(["NOUN", "VERB"])
    tagger.modelParameterData = b"\x01"
    return spec


def text_classifier():
    spec = model(3)
    feature(spec.description.input, "text", "stringType")
    feature(spec.description.output, "label", "stringType")
    spec.textClassifier.revision = 1
    spec.textClassifier.stringClassLabels.vector.extend(["positive", "negative"])
    spec.textClassifier.modelParameterData = b"\x01"
    return spec


def gazetteer():
    spec = model(5)
    feature(spec.description.input, "text", "stringType")
    feature(spec.description.output, "label", "stringType")
    spec.gazetteer.revision = 2
    spec.gazetteer.stringClassLabels.vector.append("city")
    spec.gazetteer.modelParameterData = b"\x01"
    return spec


def word_embedding():
    spec = model(5)
    feature(spec.description.input, "word", "stringType")
    feature(spec.description.output, "vector", "multiArrayType", shape=(300,))
    spec.wordEmbedding.revision = 2
    spec.wordEmbedding.modelParameterData = b"\x01"
    return spec


def scene_print():
    spec = model()
    feature(spec.description.input, "image", "imageType")
    feature(spec.description.output, "features", "multiArrayType", shape=(2048,))
    spec.visionFeaturePrint.scene.version = 1
    return spec


def objects_print():
    spec = model()
    feature(spec.description.input, "image", "imageType")
    for name in ("boxes", "features"):
        feature(spec.description.output, name, "multiArrayType", shape=(1,))
    spec.visionFeaturePrint.objects.version = 1
    spec.visionFeaturePrint.objects.output.extend(["boxes", "features"])
    return spec


def vggish_preprocessing():
    spec = model()
    feature(spec.description.input, "audio", "multiArrayType", shape=(15600,), data_type=FLOAT32)
    feature(spec.description.output, "mel", "multiArrayType", shape=(1, 96, 64), data_type=FLOAT32)
    spec.soundAnalysisPreprocessing.vggish.SetInParent()
    return spec


def audio_print():
    spec = model(6)
    feature(spec.description.input, "audio", "multiArrayType", shape=(15600,), data_type=FLOAT32)
    feature(spec.description.output, "embedding", "multiArrayType", shape=(512,), data_type=FLOAT32)
    spec.audioFeaturePrint.sound.version = 1
    return spec


def linked_model():
    spec = model()
    feature(spec.description.input, "x", "multiArrayType")
    feature(spec.description.output, "y", "multiArrayType")
    spec.linkedModel.linkedModelFile.linkedModelFileName.defaultValue = "Encoder.mlmodelc"
    return spec


def class_confidence_thresholding():
    spec = model(7)
    feature(spec.description.input, "probabilities", "multiArrayType", data_type=FLOAT32)
    feature(spec.description.output, "thresholded", "multiArrayType", data_type=FLOAT32)
    curve = spec.classConfidenceThresholding.precisionRecallCurves.add()
    curve.precisionValues.vector.extend([0.5, 0.9])
    curve.precisionConfidenceThresholds.vector.extend([0.1, 0.8])
    curve.recallValues.vector.extend([0.9, 0.2])
    curve.recallConfidenceThresholds.vector.extend([0.1, 0.8])
    return spec


# Every builder above, by the model type it builds (the tests check all of them are valid).
VALID_BUILDERS = [glm_regressor, glm_classifier, svm_classifier, svm_regressor, tree_regressor, tree_classifier,
                  one_hot_encoder, scaler, normalizer, imputer, feature_vectorizer, dict_vectorizer,
                  array_feature_extractor, categorical_mapping, identity, non_maximum_suppression,
                  item_similarity_recommender, custom_model, bayesian_probit_regressor, word_tagger, text_classifier,
                  gazetteer, word_embedding, scene_print, objects_print, vggish_preprocessing, audio_print,
                  linked_model, class_confidence_thresholding]
