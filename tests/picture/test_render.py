"""The SVG and HTML carry every layer once, with its role, storage and hover text; folds hide nothing."""

import re
import xml.etree.ElementTree as ElementTree

import pytest

from conftest import FIXTURES, SHARED_MODELS
from mlsurgery.network import LayerGraph, find_networks
from mlsurgery.io import load_spec
from mlsurgery.picture import render_picture
from updatable_models import updatable_models  # noqa: F401 (a pytest fixture)

SVG = "{http://www.w3.org/2000/svg}"


def layer_groups(svg_text: str) -> dict[str, dict]:
    root = ElementTree.fromstring(svg_text)
    return {group.get("data-layer"): {**group.attrib, "title": group.findtext(f"{SVG}title") or ""}
            for group in root.iter(f"{SVG}g") if group.get("data-layer") is not None}


def all_layer_names(spec) -> list[str]:
    return [layer.name for location in find_networks(spec) for layer in LayerGraph(location).layers]


@pytest.mark.parametrize("path", [SHARED_MODELS / "pose_cpm_757_layers.mlmodel",
                                  SHARED_MODELS / "healthysnacks_pipeline.mlmodel",
                                  SHARED_MODELS / "int8_segmentation.mlmodel", FIXTURES / "turi_squeezenet.mlmodel"],
                         ids=lambda p: p.name)
def test_svg_has_every_layer_with_its_storage(path):
    spec = load_spec(path)
    groups = layer_groups(render_picture(spec, path.name, "svg"))
    assert sorted(groups) == sorted(all_layer_names(spec))
    storages = {layer.name: layer.storage for location in find_networks(spec)
                for layer in LayerGraph(location).layers}
    for name, group in groups.items():
        assert group["data-storage"] == storages[name]
        assert group["title"].startswith(name)  # hover text names the layer


def test_quantized_storage_is_shown_in_the_box():
    svg = render_picture(load_spec(SHARED_MODELS / "int8_segmentation.mlmodel"), "x", "svg")
    assert re.search(r">8(-|&#45;)bit quantized · [\d,]+ weights<", svg)  # dot writes "-" as &#45;


def test_html_folds_hide_layers_only_inside_their_interior(updatable_models):
    path = updatable_models["squeezenet"]
    page = render_picture(load_spec(path), path.name, "html")
    names = re.findall(r'data-layer="([^"]+)"', page)
    assert sorted(names) == sorted(all_layer_names(load_spec(path)))  # each layer exactly once
    folds = re.findall(r'<g id="([^"]+)" class="node fold"', page)
    assert folds
    for fold in folds:
        assert f'data-fold-interior="{fold}"' in page
    assert "<script src" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") \
        .replace('xmlns:xlink="http://www.w3.org/1999/xlink"', "").replace("http://www.w3.org/Graphics/SVG", "")


def test_svg_draws_the_backprop_route_and_the_blocked_edge(updatable_models):
    svg = render_picture(load_spec(updatable_models["squeezenet"]), "x", "svg")
    assert len(re.findall(r'class="edge route"', svg)) == 6  # softmax→loss … conv10→relu_conv10
    assert len(re.findall(r'class="edge blocked"', svg)) == 1
    assert "gradients stop" in svg


def test_a_model_that_is_not_a_network_is_one_box():
    from mlsurgery._proto import model_pb2

    spec = model_pb2().Model(specificationVersion=1)
    feature = spec.description.input.add(name="x")
    feature.type.multiArrayType.shape.append(3)
    spec.description.output.add(name="y").type.doubleType.SetInParent()
    spec.glmRegressor.SetInParent()
    svg = render_picture(spec, "glm", "svg")
    assert 'data-stage-model="glmRegressor"' in svg and layer_groups(svg) == {}


def test_a_knn_stage_is_the_updatable_box_of_its_pipeline(updatable_models):
    svg = render_picture(load_spec(updatable_models["knn_drawing"]), "x", "svg")
    assert re.search(r'data-stage-model="kNearestNeighborsClassifier" data-role="updatable"', svg)
    assert set(group["data-role"] for group in layer_groups(svg).values()) == {"frozen"}
