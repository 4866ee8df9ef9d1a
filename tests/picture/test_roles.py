"""Layer roles follow Core ML's backprop semantics (only conv/innerProduct/LSTM are updatable; concat, add,
upsample, … stop gradients; softmax passes them only into a cross-entropy loss), and folds keep a DAG."""

import pytest

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery.network import LayerGraph, find_networks
from mlsurgery.io import load_spec
from mlsurgery.picture.roles import FOLD_MAX, FOLD_MIN, fold_runs, network_roles
from updatable_models import updatable_models  # noqa: F401 (a pytest fixture)


def _roles(path, trains=True):
    graph = LayerGraph(find_networks(load_spec(path))[-1])
    return graph, network_roles(graph, trains=trains)


def test_squeezenet_made_updatable(updatable_models):
    graph, roles = _roles(updatable_models["squeezenet"])
    by_name = {layer.name: roles.role[layer.index] for layer in graph.layers}
    assert {name for name, role in by_name.items() if role == "updatable"} == {"fullyconnected0", "conv10"}
    assert {name for name, role in by_name.items() if role == "blocking"} == {"fire9/concat"}
    assert {name for name, role in by_name.items() if role == "trainable"} == set()
    route = {layer.name for layer in graph.layers if layer.index in roles.route}
    assert route == {"softmax", "fullyconnected0", "flatten", "pool10", "relu_conv10", "conv10"}


def test_a_model_without_a_loss_shows_what_make_updatable_could_train():
    # Not updatable: the default loss is cross-entropy on the probabilities softmax, so the two layers between
    # it and fire9/concat can be trained.
    graph, roles = _roles(FIXTURES / "turi_squeezenet.mlmodel")
    assert roles.proposed_loss
    trainable = {layer.name for layer in graph.layers if roles.role[layer.index] == "trainable"}
    assert trainable == {"fullyconnected0", "conv10"}


def test_a_stage_core_ml_does_not_train_is_all_frozen():
    graph, roles = _roles(FIXTURES / "pipeline.mlmodel", trains=False)
    assert set(roles.role.values()) == {"frozen"} and not roles.route


def test_folds_are_contiguous_frozen_runs_of_bounded_length():
    graph, roles = _roles(SHARED_MODELS / "pose_cpm_757_layers.mlmodel")
    runs = fold_runs(graph, roles)
    assert runs
    for run in runs:
        assert FOLD_MIN <= len(run) <= FOLD_MAX
        assert [layer.index for layer in run] == list(range(run[0].index, run[0].index + len(run)))
        assert all(roles.role[layer.index] == "frozen" and layer.index not in roles.route for layer in run)


@pytest.mark.parametrize("name", ["mnist_adam", "updatable_embedding_concat_regressor", "split_1d"])
def test_every_updatable_layer_core_ml_accepts_is_on_the_route(updatable_models, name):
    graph, roles = _roles(updatable_models[name])
    for layer in graph.layers:
        if layer.is_updatable:
            assert roles.role[layer.index] == "updatable"
            assert layer.index in roles.route
