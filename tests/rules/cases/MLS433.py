"""MLS433 tree-leaf-values."""

from rules import model_specs

def bad_leaf_without_values():
    spec = model_specs.tree_regressor()
    spec.treeEnsembleRegressor.treeEnsemble.nodes[1].ClearField("evaluationInfo")
    return spec


def bad_value_for_a_dimension_out_of_range():
    spec = model_specs.tree_regressor()
    spec.treeEnsembleRegressor.treeEnsemble.nodes[2].evaluationInfo[0].evaluationIndex = 1
    return spec


def bad_dimension_set_twice():
    spec = model_specs.tree_classifier()
    leaf = spec.treeEnsembleClassifier.treeEnsemble.nodes[1]
    leaf.evaluationInfo[2].evaluationIndex = 0
    return spec


def good_leaf_sets_some_dimensions_only():
    spec = model_specs.tree_classifier()
    del spec.treeEnsembleClassifier.treeEnsemble.nodes[1].evaluationInfo[1:]
    return spec
