"""Each rewrite on small specs: what it finds, what it refuses and why, and that the engine sees no change."""

import copy

import numpy as np
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder

from mlsurgery.engine import build_model, compare_predictions
from mlsurgery.ops.rewrites import rewrite
from mlsurgery.rewrite_matches import NetworkFacts, find_matches
from mlsurgery.validate import validate_spec
from rules import converted_specs as c


def _matches(spec, code):
    return [match for match in find_matches(NetworkFacts.of_spec(spec)) if match.code == code]


def _apply_all(spec, code):
    fixed = copy.deepcopy(spec)
    while True:
        found = [match for match in _matches(fixed, code) if match.fixable]
        if not found:
            return fixed
        rewrite(code).apply(fixed, found[0])


def test_softmax_nd_over_the_last_axis_becomes_softmax_with_equal_outputs():
    spec = c.classifier_head(axis=-1)
    fixed = _apply_all(spec, "MLS500")
    kinds = [layer.WhichOneof("layer") for layer in fixed.neuralNetwork.layers]
    assert "softmaxND" not in kinds and "softmax" in kinds
    assert validate_spec(fixed).valid
    x = np.random.default_rng(0).standard_normal((1, 4)).astype(np.float32)
    logits = build_model(spec).predict({"x": x})["probs"]
    np.testing.assert_allclose(logits.sum(), 1.0, rtol=1e-6)
    assert compare_predictions(spec, fixed).agree


def test_softmax_nd_over_another_axis_is_refused_saying_why():
    (match,) = _matches(c.classifier_head(axis=0), "MLS500")
    assert not match.fixable and "softmax normalises the channel axis" in match.detail


def test_batched_matmul_with_constant_weight_becomes_inner_product():
    spec = c.batched_matmul_head((2, 4))
    fixed = _apply_all(spec, "MLS501")
    assert fixed.neuralNetwork.layers[0].WhichOneof("layer") == "innerProduct"
    assert compare_predictions(spec, fixed).agree


def test_batched_matmul_refusals_name_the_reason():
    (two_inputs,) = [m for m in _matches(c.batched_matmul_head(two_inputs=True), "MLS501")]
    assert not two_inputs.fixable and "two inputs" in two_inputs.detail
    (rank4,) = _matches(c.batched_matmul_head((1, 2, 3, 4)), "MLS501")
    assert not rank4.fixable and "rank 4" in rank4.detail


def test_flattening_reshape_becomes_flatten_and_the_convolution_becomes_trainable():
    spec = c.conv_head((1, 8))
    (match,) = _matches(spec, "MLS502")
    assert match.fixable
    fixed = _apply_all(spec, "MLS502")
    kinds = [layer.WhichOneof("layer") for layer in fixed.neuralNetwork.layers]
    assert kinds[:3] == ["convolution", "flatten", "innerProduct"]
    assert compare_predictions(spec, fixed).agree


def test_reshape_that_reorders_is_not_a_flatten():
    (match,) = _matches(c.conv_head((1, 2, 4)), "MLS502")
    assert not match.fixable and "not a flatten" in match.detail


def test_rank5_reshape_to_c_h_w_is_replaced_by_flatten_in_place():
    rng = np.random.default_rng(1)
    builder = NeuralNetworkBuilder([("x", datatypes.Array(2, 3, 3))], [("out", datatypes.Array(4))])
    builder.add_convolution("conv", 2, 2, 1, 1, 1, 1, "valid", groups=1, W=rng.standard_normal((1, 1, 2, 2)),
                            b=None, has_bias=False, input_name="x", output_name="features")
    builder.add_reshape("flat", "features", "flat", (18, 1, 1), mode=0)
    builder.add_inner_product("dense", rng.standard_normal((4, 18)), None, 18, 4, False, "flat", "out")
    spec = builder.spec
    fixed = _apply_all(spec, "MLS502")
    assert [layer.WhichOneof("layer") for layer in fixed.neuralNetwork.layers] == [
        "convolution", "flatten", "innerProduct"]
    assert compare_predictions(spec, fixed).agree


def test_identity_before_an_output_is_removed_and_the_output_keeps_its_name():
    spec = c.identity_before_output()
    fixed = _apply_all(spec, "MLS503")
    (layer,) = fixed.neuralNetwork.layers
    assert layer.WhichOneof("layer") == "innerProduct" and list(layer.output) == ["out"]
    assert compare_predictions(spec, fixed).agree
    assert not _matches(c.identity_before_output(alpha=2.0), "MLS503")


def test_loss_on_a_trailing_reshape_moves_before_it_with_the_target_shape():
    from rules.cases import MLS504

    spec = MLS504.bad_mse_on_reshaped_output()
    assert not validate_spec(spec).valid
    fixed = _apply_all(spec, "MLS504")
    loss = fixed.neuralNetwork.updateParams.lossLayers[0].meanSquaredErrorLossLayer
    assert loss.input == "squashed"
    target = next(f for f in fixed.description.trainingInput if f.name == loss.target)
    assert list(target.type.multiArrayType.shape) == [1, 3]
    assert validate_spec(fixed).valid


def test_softmax_nd_over_the_channel_axis_of_a_rank4_blob_is_replaced_in_place():
    builder = c.builder((1, 3, 2, 2))
    builder.add_softmax_nd("softmax", "x", "probs", axis=1)
    spec = builder.spec
    fixed = _apply_all(spec, "MLS500")
    assert [layer.WhichOneof("layer") for layer in fixed.neuralNetwork.layers] == ["softmax"]
    assert compare_predictions(spec, fixed).agree


def test_an_identity_whose_blob_a_loop_body_reads_is_not_removed():
    """A blob a loop's body reads would need the body rewritten too if the identity that writes it were removed
    (the body would read a name no layer writes), so MLS503 refuses."""
    spec = c.identity_before_output()
    assert [match.fixable for match in _matches(spec, "MLS503")] == [True]
    loop = spec.neuralNetwork.layers.add(name="loop", input=["out"], output=[])
    loop.loop.maxLoopIterations = 2
    loop.loop.bodyNetwork.layers.add(name="inside", input=["out"], output=["inside_copy"]).copy.SetInParent()
    (match,) = _matches(spec, "MLS503")
    assert not match.fixable and "inside a loop or branch" in match.detail
