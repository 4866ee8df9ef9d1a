"""fix on real models: it never changes a prediction, and a rewrite the engine cannot prove is refused."""

import copy
import functools

import pytest

from conftest import FIXTURES, shared_models
from mlsurgery.engine import compare_predictions
from mlsurgery.errors import ModelLoadError, UsageError
from mlsurgery.network import trainable_network
from mlsurgery.io import load_spec
from mlsurgery.engine.proof import prove_with_engine
from mlsurgery.ops.fix import fix, parse_codes
from mlsurgery.rewrite_matches import NetworkFacts, find_matches
from mlsurgery.validate import validate_spec



def _has_trainable_network(path) -> bool:
    try:
        trainable_network(load_spec(path))
    except ModelLoadError:  # e.g. a Create ML pipeline ending in a GLM
        return False
    return True


NETWORK_MODELS = [path for path in sorted(FIXTURES.glob("*.mlmodel")) + shared_models()
                  if _has_trainable_network(path)]


@pytest.mark.parametrize("path", NETWORK_MODELS, ids=lambda path: path.name)
def test_fix_never_changes_predictions(path):
    original = load_spec(path)
    fixed = copy.deepcopy(original)
    # Two input sets per proof keep the 757-layer model (4 s per prediction in the engine) affordable.
    result = fix(fixed, prove=functools.partial(prove_with_engine, count=2))
    if result.applied:
        # Proven again, on other random inputs than the ones fix used.
        comparison = compare_predictions(original, fixed, seed=7, count=1)
        assert comparison.agree, comparison.detail
        assert validate_spec(fixed).valid == validate_spec(original).valid
    else:
        assert fixed == original


def test_keras_batched_matmul_mlp_becomes_inner_products():
    spec = load_spec(FIXTURES / "third_party" / "keras_batchedmatmul_mlp.mlmodel")
    result = fix(spec, prove=prove_with_engine)
    assert [match.code for match in result.applied] == ["MLS501"] * 3 and not result.refused
    assert [layer.WhichOneof("layer") for layer in spec.neuralNetwork.layers] == [
        "innerProduct", "activation", "innerProduct", "activation", "innerProduct"]


def test_only_limits_the_rewrites_and_unknown_codes_are_refused():
    from pytorch_models import converted

    _, _, spec = converted("cnn")
    assert not fix(spec, only=["MLS501"], prove=prove_with_engine).applied
    assert {match.code for match in fix(spec, only=["mls502"], prove=prove_with_engine).applied} == {"MLS502"}
    kinds = [layer.WhichOneof("layer") for layer in spec.neuralNetwork.layers]
    # The flatten keeps rank 4, so the dense head after it runs lifted (its softmaxND becomes softmax with it).
    assert kinds[kinds.index("flatten") + 1] == "innerProduct" and "reshapeStatic" not in kinds[:kinds.index("flatten")]
    with pytest.raises(UsageError, match="MLS999"):
        parse_codes(["MLS999"])


def test_a_rewrite_the_engine_cannot_run_is_refused_with_the_reason():
    from pytorch_models import converted

    _, _, spec = converted("gru")
    before = copy.deepcopy(spec)
    result = fix(spec, only=["MLS500"], prove=prove_with_engine)
    if result.applied:  # the engine runs loops: then the rewrite must hold
        assert compare_predictions(before, spec, seed=5).agree
    else:
        (match, why), = result.refused
        assert match.code == "MLS500" and "loop" in why
        assert spec == before
    assert any(m.code == "MLS500" for m in find_matches(NetworkFacts.of_spec(before)))
