"""mlsurgery.backprop: Core ML's backprop walk (with its single-flag quirk), the explainer and the frontier."""

import pytest
from conftest import FIXTURES

from mlsurgery._proto import model_pb2
from mlsurgery.backprop import (
    LossNode,
    blocking_layer,
    clean_path,
    coreml_walk,
    explain_updatable_layers,
    trace_layer,
    trainable_frontier,
)
from mlsurgery.coreml import LossKind
from mlsurgery.errors import UsageError
from mlsurgery.network import LayerGraph
from mlsurgery.io import load_spec
from mlsurgery.validate import validate_spec


def network(*layers, updatable=()):
    """A neuralNetwork spec from (name, kind, inputs, outputs); only the graph matters to these functions."""
    spec = model_pb2().Model()
    for name, kind, inputs, outputs in layers:
        layer = spec.neuralNetwork.layers.add()
        layer.name = name
        layer.input.extend(inputs)
        layer.output.extend(outputs)
        layer.isUpdatable = name in updatable
        if kind == "relu":
            layer.activation.ReLU.SetInParent()
        else:
            getattr(layer, kind).SetInParent()
    return LayerGraph.trainable(spec)


def names(layers):
    return [layer.name for layer in layers]


def two_branch_graph(conv_inputs):
    """fc_a → cat (blocks) and fc_b both feed a two-input convolution, which feeds a softmax."""
    return network(("fc_a", "innerProduct", ["x"], ["a"]), ("cat", "concat", ["a"], ["c"]),
                   ("fc_b", "innerProduct", ["x"], ["b"]), ("conv", "convolution", conv_inputs, ["y"]),
                   ("sm", "softmax", ["y"], ["p"]), updatable={"fc_b"})


def test_squeezenet_frontier_stops_at_the_last_concat():
    spec = load_spec(FIXTURES / "turi_squeezenet.mlmodel")
    assert names(trainable_frontier(spec, "labelProbability")) == ["fullyconnected0", "conv10"]


def test_squeezenet_refusal_names_the_concat():
    spec = load_spec(FIXTURES / "turi_squeezenet.mlmodel")
    assert blocking_layer(spec, "fire9/expand1x1", "labelProbability").name == "fire9/concat"
    assert blocking_layer(spec, "conv10", "labelProbability") is None


def test_unknown_layer_name_is_a_usage_error_with_suggestions():
    spec = load_spec(FIXTURES / "turi_squeezenet.mlmodel")
    with pytest.raises(UsageError, match="fire9/expand1x1"):
        blocking_layer(spec, "fire9/expand1x2", "labelProbability")


def test_mlp_frontier_is_nearest_first():
    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    assert names(trainable_frontier(spec, "labelProbabilities")) == ["dense_3", "dense_2", "dense_1"]


def test_softmax_only_passes_gradients_straight_into_cross_entropy():
    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    assert trainable_frontier(spec, "labelProbabilities", loss="mse") == []
    assert blocking_layer(spec, "dense_3", "labelProbabilities", loss=LossKind.MSE).name == "softmax"
    assert names(trainable_frontier(spec, "dense_3", loss="mse")) == ["dense_3", "dense_2", "dense_1"]


def test_loss_argument_is_checked():
    spec = load_spec(FIXTURES / "mnist_mlp.mlmodel")
    with pytest.raises(UsageError, match="unknown loss 'hinge'"):
        trainable_frontier(spec, "labelProbabilities", loss="hinge")


def test_frontier_skips_layers_core_ml_cannot_update_but_walks_through_them():
    graph = network(("fc1", "innerProduct", ["x"], ["h"]), ("bn", "batchnorm", ["h"], ["n"]),
                    ("dense", "batchedMatmul", ["n"], ["d"]), ("sm", "softmax", ["d"], ["p"]))
    assert names(trainable_frontier(graph, "p")) == []  # batchedMatmul blocks, and cannot be updatable
    graph = network(("fc1", "innerProduct", ["x"], ["h"]), ("bn", "batchnorm", ["h"], ["n"]),
                    ("fc2", "innerProduct", ["n"], ["d"]), ("sm", "softmax", ["d"], ["p"]))
    graph.layer("fc2").params.weights.quantization.numberOfBits = 8
    assert names(trainable_frontier(graph, "p")) == ["fc1"]


def test_a_clean_branch_met_after_a_blocker_is_rejected_anyway():
    graph = two_branch_graph(["c", "b"])
    loss = LossNode.proposed("p")
    trace = trace_layer(graph, graph.layer("fc_b"), loss)
    assert not trace.coreml_accepts and trace.coreml_blocker.name == "cat"
    assert trace.first_blocker is None  # nothing blocks on its own route
    assert names(trace.gradient_path) == ["sm", "conv", "fc_b"]
    assert trace.verdict_differs_from_paths
    assert names(trainable_frontier(graph, "p")) == ["conv"]
    assert blocking_layer(graph, "fc_b", "p").name == "cat"


def test_input_order_decides_the_verdict():
    graph = two_branch_graph(["b", "c"])
    trace = trace_layer(graph, graph.layer("fc_b"), LossNode.proposed("p"))
    assert trace.coreml_accepts and not trace.verdict_differs_from_paths
    assert names(trainable_frontier(graph, "p")) == ["conv", "fc_b"]


def test_layer_behind_a_blocker_has_the_blocker_on_its_route():
    graph = two_branch_graph(["b", "c"])
    trace = trace_layer(graph, graph.layer("fc_a"), LossNode.proposed("p"))
    assert names(trace.path) == ["sm", "conv", "cat", "fc_a"]
    assert trace.first_blocker.name == "cat" and trace.gradient_path is None
    assert blocking_layer(graph, "fc_a", "p").name == "cat"


def test_core_ml_names_the_most_recent_blocker_not_the_first():
    graph = network(("cat1", "concat", ["x"], ["c1"]), ("cat2", "concat", ["x"], ["c2"]),
                    ("fc", "innerProduct", ["x"], ["f"]), ("conv", "convolution", ["c1", "c2", "f"], ["y"]),
                    ("sm", "softmax", ["y"], ["p"]), updatable={"fc"})
    rejected = coreml_walk(graph, [LossNode.proposed("p")]).rejected
    assert [(d.layer.name, d.blocker.name) for d in rejected] == [("fc", "cat2")]


def test_visited_layers_are_shared_between_loss_layers():
    graph = network(("fc", "innerProduct", ["x"], ["p"]), ("abs", "unary", ["p"], ["q"]), updatable={"fc"})
    on_p = LossNode("loss_p", LossKind.MSE, "p", "t1")
    on_q = LossNode("loss_q", LossKind.MSE, "q", "t2")
    assert coreml_walk(graph, [on_p, on_q]).rejected == []
    assert names(d.layer for d in coreml_walk(graph, [on_q, on_p]).rejected) == ["fc"]


def test_loss_reads_the_last_writer_of_its_blob():
    graph = network(("fc", "innerProduct", ["x"], ["p"]), ("copy", "copy", ["x"], ["p"]))
    assert names(trainable_frontier(graph, "p", loss="mse")) == []
    assert clean_path(graph, graph.layer("fc"), LossNode.proposed("p", "mse")) is None


def test_unreachable_layer_is_neither_accepted_by_frontier_nor_blocked():
    graph = network(("fc", "innerProduct", ["x"], ["p"]), ("side", "innerProduct", ["x"], ["s"]))
    trace = trace_layer(graph, graph.layer("side"), LossNode.proposed("p", "mse"))
    assert not trace.reachable and trace.path == []
    assert blocking_layer(graph, "side", "p", loss="mse") is None
    assert names(trainable_frontier(graph, "p", loss="mse")) == ["fc"]


def test_explainer_uses_the_network_s_own_loss():
    graph = two_branch_graph(["c", "b"])
    graph.layer("fc_a").proto.isUpdatable = True
    loss = graph.network.updateParams.lossLayers.add()
    loss.name = "loss"
    loss.categoricalCrossEntropyLossLayer.input = "p"
    traces = {trace.layer.name: trace for trace in explain_updatable_layers(graph)}
    assert set(traces) == {"fc_a", "fc_b"}
    assert traces["fc_a"].first_blocker.name == "cat" and not traces["fc_a"].verdict_differs_from_paths
    assert traces["fc_b"].verdict_differs_from_paths
    assert traces["fc_b"].loss.kind == LossKind.CROSS_ENTROPY


def test_validator_reports_the_per_path_difference():
    graph = two_branch_graph(["c", "b"])
    spec = graph.model
    spec.isUpdatable = True
    spec.specificationVersion = 4
    loss = spec.neuralNetwork.updateParams.lossLayers.add()
    loss.name = "loss"
    loss.categoricalCrossEntropyLossLayer.input = "p"
    blocked = [f for f in validate_spec(spec).findings if f.code == "MLS218"]
    assert len(blocked) == 1 and blocked[0].layer == "fc_b"
    assert "'cat'" in blocked[0].message and "gradient path fc_b → conv → sm does exist" in blocked[0].message
