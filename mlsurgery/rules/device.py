"""Device-time failures of updatable networks that Core ML's validator accepts (MLS9xx, severity "warning").

These specs pass the validator (the verdict stays exactly Core ML's: warnings never change ``valid``) but fail
when the device compiles or trains them, as reported in coremltools issues. Each rule cites its report.
``mlsurgery validate --strict`` turns them into failures.
"""

from __future__ import annotations

from ..backprop import loss_nodes
from ..coreml import NETWORK_KINDS
from ..network import LayerGraph, NetworkLocation, ancestors
from .base import WARNING, Finding, Rule, define_rule

_LSTM_KINDS = ("uniDirectionalLSTM", "biDirectionalLSTM")

FP16_WEIGHTS = define_rule(
    code="MLS900", name="fp16-weights-in-updatable-network", severity=WARNING,
    summary="An updatable network must not store any weights as fp16.",
    explanation="Core ML's validator accepts fp16 weights anywhere, even in the updatable layer, but Core ML "
                "compiles a network with any fp16 WeightParams into a full-FP16 model, which cannot be updated: "
                "compiling fails in Xcode (\"CoreMLModelCompile failed\") or the update task fails on device. "
                "coremltools' make_updatable refuses such networks, but its check only ever looks at the first "
                "layer (an indentation bug), so a network with fp16 weights further down slips through.",
    fix="Store the network's weights as fp32; to keep a large frozen part in fp16, split the model into a pipeline "
        "whose first stage holds the fp16 layers and whose last, updatable stage is all fp32.",
    upstream="coremltools issue #604; coremltools/models/neural_network/builder.py "
             "(_check_fp16_weight_param_exists, fixed in PR #2858)")

LSTM_BEFORE_UPDATABLE = define_rule(
    code="MLS901", name="lstm-before-updatable-layer", severity=WARNING,
    summary="Training fails on device when an LSTM feeds the updatable part of the network.",
    explanation="A network with an LSTM layer upstream of its updatable layer (even when only a final dense layer "
                "is updatable) passes validation and predicts, but the update task aborts in Espresso "
                "(\"generic_expand_dims_kernel: Output rank cannot be more than 5\").",
    fix="Split the model: run the LSTM part as a frozen first pipeline stage and train only the layers after it "
        "in the last stage.",
    upstream="coremltools issue #2074")

INNER_PRODUCT_INTO_LOSS = define_rule(
    code="MLS902", name="frozen-inner-product-feeds-loss", severity=WARNING,
    summary="A frozen innerProduct layer writing the loss input straight from an updatable layer fails to compile.",
    explanation="With an updatable layer upstream, a non-updatable innerProduct whose output is read directly by "
                "the loss makes Core ML's compiler fail building the gradient kernels (\"inner_product needs at "
                "least 2 inputs for gradients, got 1\"); the report notes the error goes away when an activation "
                "follows that layer.",
    fix="Make that innerProduct layer updatable too, or end the network with an activation before the loss.",
    upstream="coremltools issue #1983")

BATCHNORM_ON_GRADIENT_PATH = define_rule(
    code="MLS903", name="batchnorm-on-gradient-path", severity=WARNING,
    summary="A batchnorm layer between an updatable layer and the loss fails to compile for training.",
    explanation="Core ML's validator lists batchnorm as passing gradients, but compiling the training graph fails "
                "for an inference-mode batchnorm that gradients must cross: \"in order to take gradient of a "
                "inference mode batchnorm layer, 2 inputs (x, batchnorm_coef) are needed\".",
    fix="Train only layers after the batchnorm (closer to the loss), or fold the batchnorm into the preceding "
        "convolution/innerProduct before making the model updatable.",
    upstream="coremltools issue #492")

UPDATABLE_LAYER_UNREACHABLE = define_rule(
    code="MLS904", name="updatable-layer-gets-no-gradient", severity=WARNING,
    summary="An updatable layer that is not upstream of the loss is never trained.",
    explanation="Core ML's walk back from the loss never meets a layer whose output does not lead to the loss, so "
                "it accepts the layer as updatable, but no gradient can ever reach it: its weights stay as they "
                "are while the update task reports success.",
    fix="Mark layers on the path to the loss instead, or point the loss at the output this layer feeds.",
    upstream="mlmodel/src/Validation/NeuralNetwork/UpdatableNeuralNetworkValidator.cpp (the walk only visits "
             "layers upstream of the loss)")

RULES: list[Rule] = [FP16_WEIGHTS, LSTM_BEFORE_UPDATABLE, INNER_PRODUCT_INTO_LOSS, BATCHNORM_ON_GRADIENT_PATH,
                     UPDATABLE_LAYER_UNREACHABLE]


def check_device(spec, where: str = "") -> list[Finding]:
    """Device-time warnings for an NN-kind ``spec`` marked updatable (other specs: none)."""
    kind = spec.WhichOneof("Type")
    if kind not in NETWORK_KINDS or not spec.isUpdatable:
        return []
    graph = LayerGraph(NetworkLocation(spec, kind))
    findings = _fp16_weights(graph, where)
    findings += _lstm_before_updatable(graph, where)
    loss_inputs = [loss.input for loss in loss_nodes(graph.network) if loss.input is not None]
    findings += _inner_product_into_loss(graph, loss_inputs, where)
    findings += _batchnorm_on_gradient_path(graph, loss_inputs, where)
    findings += _unreachable_updatable_layers(graph, loss_inputs, where)
    return findings


def _fp16_weights(graph: LayerGraph, where: str) -> list[Finding]:
    offenders = [layer for layer in graph.layers if any(len(w.float16Value) for _, w in layer.weights)]
    if not offenders:
        return []
    names = ", ".join(f"'{layer.name}'" for layer in offenders[:3])
    more = f" and {len(offenders) - 3} more" if len(offenders) > 3 else ""
    return [FP16_WEIGHTS.finding(
        f"layer(s) {names}{more} store fp16 weights; Core ML compiles this network to full FP16, which cannot be "
        "updated — store them as fp32 or move them to a frozen first pipeline stage",
        layer=offenders[0].name, where=where)]


def _lstm_before_updatable(graph: LayerGraph, where: str) -> list[Finding]:
    updatable = [layer for layer in graph.layers if layer.is_updatable]
    lstms = [layer for layer in ancestors(updatable) if layer.kind in _LSTM_KINDS]
    lstms += [layer for layer in updatable if layer.kind in _LSTM_KINDS and layer not in lstms]
    return [LSTM_BEFORE_UPDATABLE.finding(
        f"LSTM layer '{layer.name}' feeds the updatable part of the network; on-device training of such networks "
        "aborts in Espresso — train only layers after it in a separate last pipeline stage",
        layer=layer.name, where=where) for layer in sorted(lstms, key=lambda layer: layer.index)]


def _inner_product_into_loss(graph: LayerGraph, loss_inputs: list[str], where: str) -> list[Finding]:
    findings = []
    for blob in loss_inputs:
        producer = graph.blob_producer.get(blob)
        if producer is None or producer.kind != "innerProduct" or producer.is_updatable:
            continue
        if any(layer.is_updatable for layer in ancestors([producer])):
            findings.append(INNER_PRODUCT_INTO_LOSS.finding(
                f"frozen innerProduct '{producer.name}' writes the loss input '{blob}' and gradients must cross it; "
                "Core ML's compiler fails on this — make it updatable too or add an activation before the loss",
                layer=producer.name, where=where))
    return findings


def _batchnorm_on_gradient_path(graph: LayerGraph, loss_inputs: list[str], where: str) -> list[Finding]:
    producers = [graph.blob_producer[blob] for blob in loss_inputs if blob in graph.blob_producer]
    upstream_of_loss = {id(layer): layer for layer in producers + ancestors(producers)}
    findings = []
    for layer in sorted(upstream_of_loss.values(), key=lambda layer: layer.index):
        if layer.kind == "batchnorm" and any(a.is_updatable for a in ancestors([layer])):
            findings.append(BATCHNORM_ON_GRADIENT_PATH.finding(
                f"batchnorm '{layer.name}' lies between an updatable layer and the loss; compiling the training "
                "graph fails for it — train only layers after it, or fold it into the layer before",
                layer=layer.name, where=where))
    return findings


def _unreachable_updatable_layers(graph: LayerGraph, loss_inputs: list[str], where: str) -> list[Finding]:
    producers = [graph.blob_producer[blob] for blob in loss_inputs if blob in graph.blob_producer]
    if not producers:
        return []
    upstream = {id(layer) for layer in producers + ancestors(producers)}
    return [UPDATABLE_LAYER_UNREACHABLE.finding(
        f"updatable layer '{layer.name}' is not upstream of the loss input, so training never changes it; mark "
        "layers on the path to the loss instead", layer=layer.name, where=where)
        for layer in graph.layers if layer.is_updatable and id(layer) not in upstream]
