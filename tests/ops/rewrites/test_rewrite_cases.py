"""Run every before/after case of tests/ops/rewrites/cases/: the rewrite applies, keeps the interface, Core ML's
validator accepts the result, gradients from an MSE loss on the output then reach the layer the case names (by
default the convolution before the rewritten layer) and did not before, and the engine's outputs before and
after agree with each other and with the NumPy reference."""

import copy
import importlib
import pkgutil

import numpy as np
import pytest

from mlsurgery.backprop import trainable_frontier
from mlsurgery.coreml import LossKind
from mlsurgery.engine import build_model
from mlsurgery.network import LayerGraph
from mlsurgery.ops.rewrites import rewrite
from mlsurgery.rewrite_matches import NetworkFacts, find_matches
from mlsurgery.rewrite_matches.base import before_trailing_regrouping
from mlsurgery.validate import validate_spec

from ops.rewrites import cases

MODULES = {info.name: importlib.import_module(f"{cases.__name__}.{info.name}")
           for info in pkgutil.iter_modules(cases.__path__) if info.name.startswith("MLS")}
CASES = [pytest.param(code, getattr(module, name), id=f"{code}-{name}")
         for code, module in sorted(MODULES.items()) for name in sorted(vars(module)) if name.startswith("before_")]


def _apply(spec, code):
    fixed = copy.deepcopy(spec)
    matches = [match for match in find_matches(NetworkFacts.of_spec(fixed)) if match.code == code]
    assert matches and all(match.fixable for match in matches), matches
    for match in matches:
        rewrite(code).apply(fixed, match)
    return fixed


@pytest.mark.parametrize(("code", "build"), CASES)
def test_rewrite_keeps_predictions_and_opens_the_gradient_path(code, build):
    built = build()  # (spec, reference[, the layer that becomes trainable[, the loss kind]])
    spec, reference = built[:2]
    trained = built[2] if len(built) > 2 else "conv"
    loss = built[3] if len(built) > 3 else LossKind.MSE
    spec.specificationVersion = max(spec.specificationVersion, 4)
    fixed = _apply(spec, code)
    assert fixed.description == spec.description  # names, types and shapes the app sees are unchanged
    assert validate_spec(fixed).valid
    # The loss reads the output, or the blob before a trailing reshape (where make-updatable puts it).
    before_graph, after_graph = LayerGraph.trainable(spec), LayerGraph.trainable(fixed)
    before_reach = trainable_frontier(before_graph, before_trailing_regrouping(before_graph, "out"), loss=loss)
    assert trained not in [layer.name for layer in before_reach]
    reachable = trainable_frontier(after_graph, before_trailing_regrouping(after_graph, "out"), loss=loss)
    assert trained in [layer.name for layer in reachable]
    rng = np.random.default_rng(0)
    shape = tuple(spec.description.input[0].type.multiArrayType.shape)
    for _ in range(3):
        x = rng.standard_normal(shape).astype(np.float32)
        before = build_model(spec).predict({"x": x})["out"]
        after = build_model(fixed).predict({"x": x})["out"]
        expected = reference(x)
        np.testing.assert_allclose(np.asarray(after).reshape(expected.shape), expected, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(np.asarray(after), np.asarray(before), rtol=1e-5, atol=1e-5)
