"""Core ML's updatable-parameter tests (ParameterTests.cpp), run through mlsurgery's validator.

Upstream: apple/coremltools mlmodel/tests/ParameterTests.cpp; each function is the upstream test of the same name
in snake_case. The specs have no loss layer; the optimizer is checked before anything that needs one.
"""

from rules import specs
from rules.specs import ADAM, SGD
from rules.verdicts import assert_coreml_first


def _network():
    model = specs.new_model()
    return model, specs.basic_network(model, updatable=True)


def test_mini_batch_size_out_of_allowed_range():
    """testMiniBatchSizeOutOfAllowedRange."""
    model, network = _network()
    specs.add_learning_rate(network, SGD)
    specs.add_mini_batch_size(network, SGD, 5, 10, 100)
    assert_coreml_first(model, "MLS217")


def test_mini_batch_size_out_of_allowed_set():
    """testMiniBatchSizeOutOfAllowedSet."""
    model, network = _network()
    specs.add_learning_rate(network, SGD)
    specs.add_mini_batch_size(network, SGD, 5, 10, 100, allowed=(10, 20, 30, 40))
    assert_coreml_first(model, "MLS215")


def test_learning_rate_out_of_allowed_range():
    """testLearningRateOutOfAllowedRange."""
    model, network = _network()
    specs.add_learning_rate(network, SGD, 5.0, 0.1, 1.0)
    assert_coreml_first(model, "MLS217")


def test_momentum_out_of_allowed_range():
    """testMomentumOutOfAllowedRange: momentum is never range-checked; the missing learning rate fails."""
    model, network = _network()
    specs.add_momentum(network, 5.0, 0.1, 1.0)
    report = assert_coreml_first(model, "MLS210")
    assert "learningRate" in report.coreml_first.message
    assert "momentum" not in " ".join(finding.message for finding in report.findings)


def _adam_only(add):
    model, network = _network()
    add(network, 5.0, 0.1, 1.0)
    report = assert_coreml_first(model, "MLS210")
    assert "learningRate" in report.coreml_first.message
    return report


def test_beta1_out_of_allowed_range():
    """testBeta1OutOfAllowedRange: the Adam optimizer misses its learning rate first."""
    report = _adam_only(specs.add_beta1)
    assert any(f.code == "MLS217" and "'beta1'" in f.message for f in report.findings)


def test_beta2_out_of_allowed_range():
    """testBeta2OutOfAllowedRange."""
    report = _adam_only(specs.add_beta2)
    assert any(f.code == "MLS217" and "'beta2'" in f.message for f in report.findings)


def test_eps_out_of_allowed_range():
    """testEpsOutOfAllowedRange."""
    report = _adam_only(specs.add_eps)
    assert any(f.code == "MLS217" and "'eps'" in f.message for f in report.findings)


def test_epochs_out_of_allowed_range():
    """testEpochsOutOfAllowedRange."""
    model, network = _network()
    specs.add_learning_rate(network, SGD)
    specs.add_mini_batch_size(network, SGD, 20, 10, 100)
    specs.add_epochs(network, 100, 1, 50)
    assert_coreml_first(model, "MLS217")


def test_epochs_out_of_allowed_set():
    """testEpochsOutOfAllowedSet."""
    model, network = _network()
    specs.add_learning_rate(network, SGD)
    specs.add_mini_batch_size(network, SGD, 20, 10, 100)
    specs.add_epochs(network, 100, 0, 0, allowed=(10, 20, 30, 40))
    assert_coreml_first(model, "MLS215")


def test_adam_parameters_are_checked_in_order():
    """Not upstream: Adam's required parameters are reported in Core ML's order."""
    model, network = _network()
    specs.add_mini_batch_size(network, ADAM)
    report = assert_coreml_first(model, "MLS210")
    missing = [f.message.split(" no ")[1].split(";")[0] for f in report.findings if f.code == "MLS210"]
    assert missing == ["learningRate", "beta1", "beta2", "eps"]
