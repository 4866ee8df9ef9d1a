"""The training interface an app sees: training inputs with their Swift types and every ``MLParameterKey``.

``training_contract`` returns the documented, stable ``mlsurgery contract --format json`` shape (docs/contract.md).
Only models Core ML can train on device have one: an updatable neural network, or an updatable k-NN classifier,
at the root or as the last stage of a pipeline (Core ML only lets a pipeline's last model be updatable:
mlmodel/src/Validation/PipelineValidator.cpp). Everything else raises ``NotUpdatableError`` (exit 1) saying why.

Where the facts come from:

* parameter names are Core ML's ``MLParameterKey`` names, which are the field names of the spec's messages:
  ``SGDOptimizer`` (learningRate, miniBatchSize, momentum), ``AdamOptimizer`` (learningRate, miniBatchSize,
  beta1, beta2, eps), ``NetworkUpdateParameters`` (epochs, shuffle, seed) in NeuralNetwork.proto and
  ``KNearestNeighborsClassifier.numberOfNeighbors`` in NearestNeighbors.proto. A model accepts the keys its spec
  declares; Core ML requires learningRate and miniBatchSize (and beta1, beta2, eps for Adam) and epochs, and
  the rest are optional (UpdatableNeuralNetworkValidator.cpp, ``validateOptimizer`` and
  ``validateUpdateParameters``).
* defaults and allowed values are read by ``mlsurgery.inspection`` (the same reader ``inspect`` uses), so both
  commands always agree.
* a pipeline stage's parameters may need ``MLParameterKey.scoped(to:)`` with the stage's name, which is
  ``Pipeline.names[i]`` or, when the spec gives none, ``model<i>`` (Model.proto, ``Pipeline``).
"""

from __future__ import annotations

from .errors import InvalidModelError, NotUpdatableError
from .coreml import NETWORK_KINDS, PIPELINE_KINDS, pipeline_message, read_update_parameters
from .network import pipeline_stages
from .inspection import describe_features, int64_parameter, loss_layers, optimizer_parameters

KNN_KIND = "kNearestNeighborsClassifier"

# Swift value type of each MLParameterKey Core ML reads (MLParameterKey documentation: Double for rates,
# Int for counts and sizes, Bool for shuffle).
PARAMETER_SWIFT_TYPES = {"learningRate": "Double", "momentum": "Double", "beta1": "Double", "beta2": "Double",
                         "eps": "Double", "miniBatchSize": "Int", "epochs": "Int", "seed": "Int",
                         "shuffle": "Bool", "numberOfNeighbors": "Int"}

# What CVPixelBuffer format Core ML expects for each image colour space (FeatureTypes.proto, ImageFeatureType).
_PIXEL_FORMATS = {"GRAYSCALE": "kCVPixelFormatType_OneComponent8", "RGB": "kCVPixelFormatType_32BGRA",
                  "BGR": "kCVPixelFormatType_32BGRA", "GRAYSCALE_FLOAT16": "kCVPixelFormatType_OneComponent16Half"}


def training_contract(spec, path: str | None = None) -> dict:
    """What an app may do with ``spec`` when it trains it on device, as JSON-ready data.

    Raises ``NotUpdatableError`` for a model Core ML cannot train and ``InvalidModelError`` for an updatable model
    Core ML would reject (its first finding is the message), both exit 1.
    """
    source = path or "model"
    if not spec.isUpdatable:
        raise NotUpdatableError(
            f"{source}: is not updatable, so Core ML gives it no training interface; make it updatable first "
            "with `mlsurgery make-updatable MODEL --layers auto -o OUT` (or name the layers to train)")
    model, where, scope = _updatable_model(spec, source)
    from .validate import validate_spec

    report = validate_spec(spec)
    if not report.valid:
        first = report.coreml_first
        raise InvalidModelError(f"{source}: Core ML would reject this updatable model, so it cannot be trained: "
                                f"[{first.code}] {first.message}", report)
    kind = model.WhichOneof("Type")
    input_names = {feature.name for feature in spec.description.input}
    training_inputs = []
    for feature in describe_features(spec.description.trainingInput):
        feature["role"] = "input" if feature["name"] in input_names else "target"
        feature["swift"] = swift_feature_type(feature["type"])
        training_inputs.append(feature)
    if kind == KNN_KIND:
        parameters, losses, optimizer, updatable_layers = _knn_parameters(model), [], None, []
    else:
        network = getattr(model, kind)
        optimizer, parameters, losses = _network_parameters(network.updateParams)
        updatable_layers = [layer.name for layer in network.layers if layer.isUpdatable]
    for key, parameter in parameters.items():
        parameter["swift_type"] = PARAMETER_SWIFT_TYPES[key]
    return {
        "path": path,
        "model_type": spec.WhichOneof("Type"),
        "updatable_model": {"type": kind, "where": where, "scope": scope},
        "training_inputs": training_inputs,
        "parameters": parameters,
        "optimizer": optimizer,
        "losses": losses,
        "updatable_layers": updatable_layers,
    }


def _updatable_model(spec, source: str) -> tuple[object, str, str | None]:
    """The model Core ML trains: the spec itself, or the last stage of its (nested) pipeline, with its position
    (``where``) and the name that scopes its parameters (None at the root)."""
    model, positions, scope = spec, [], None
    while model.WhichOneof("Type") in PIPELINE_KINDS:
        stages = pipeline_stages(model)
        if not stages:
            raise NotUpdatableError(f"{source}: the pipeline has no stages, so nothing in it can be trained")
        kind = model.WhichOneof("Type")
        names = list(pipeline_message(model).names)
        last = len(stages) - 1
        scope = names[last] if last < len(names) else f"model{last}"
        positions.append(f"pipeline stage {last + 1}")
        model = stages[last]
    kind = model.WhichOneof("Type")
    if kind not in NETWORK_KINDS and kind != KNN_KIND:
        where = f" ({' › '.join(positions)})" if positions else ""
        raise NotUpdatableError(
            f"{source}: its updatable model{where} is a {kind}; Core ML trains only neural networks and k-NN "
            "classifiers on device, so there is no training interface")
    return model, " › ".join(positions), scope


def _network_parameters(update_params) -> tuple[str | None, dict[str, dict], list[dict]]:
    update = read_update_parameters(update_params)
    optimizer, parameters = optimizer_parameters(update)
    declared = update.declared
    if "epochs" in declared:
        parameters["epochs"] = int64_parameter(declared["epochs"])
    if "shuffle" in declared:
        parameters["shuffle"] = {"default": declared["shuffle"].defaultValue, "allowed_values": [False, True]}
    if "seed" in declared:
        parameters["seed"] = int64_parameter(declared["seed"])
    return optimizer, parameters, loss_layers(update.losses)


def _knn_parameters(model) -> dict[str, dict]:
    knn = model.kNearestNeighborsClassifier
    return {"numberOfNeighbors": int64_parameter(knn.numberOfNeighbors)} if knn.HasField("numberOfNeighbors") \
        else {}


def swift_feature_type(described: dict) -> dict:
    """How a feature described by ``summary.feature_type`` looks to Swift: the value type an app builds and the
    ``MLFeatureValue`` initialiser that wraps it, with image size and pixel format or array shape and data type."""
    kind = described["kind"]
    if kind == "imageType":
        return {"type": "CVPixelBuffer", "feature_value": "pixelBuffer", "width": described["width"],
                "height": described["height"],
                "pixel_format": _PIXEL_FORMATS.get(described["color_space"], "kCVPixelFormatType_32BGRA")}
    if kind == "multiArrayType":
        return {"type": "MLMultiArray", "feature_value": "multiArray", "shape": described["shape"],
                "data_type": described["data_type"]}
    if kind == "dictionaryType":
        key = "String" if described["key"] == "stringKeyType" else "Int64"
        return {"type": f"[{key}: Double]", "feature_value": "dictionary"}
    simple = {"stringType": ("String", "string"), "int64Type": ("Int64", "int64"),
              "doubleType": ("Double", "double")}
    if kind in simple:
        swift_type, feature_value = simple[kind]
        return {"type": swift_type, "feature_value": feature_value}
    return {"type": "MLFeatureValue", "feature_value": None}
