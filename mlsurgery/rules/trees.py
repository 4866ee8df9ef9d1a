"""Checks of tree ensembles (MLS430–MLS434): the structure of every tree and the output dimension.

Upstream: mlmodel/src/Validation/TreeEnsembleValidator.cpp, which only runs
``constructAndValidateTreeEnsembleFromSpec`` (mlmodel/src/TreeEnsembleCommon.cpp); tree ensembles get no
interface check beyond the generic ones. That function collects its errors into one message, in this order:
each node as read (duplicates, leaf values), then each branch's children in (treeId, nodeId) order, roots per
tree, nodes no root reaches, the base prediction values and, for a classifier, the class count. Three things
end it at once: an output dimension of 0, a node behaviour that is not a known value (whose message then
replaces everything collected before), and a branch reached from a root whose child could not be linked. It
gives up after 50 errors. The findings here are those errors, one each, in that order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby

from .base import Check, Problem, Rule, define_rule
from .other_models import model_check

_UPSTREAM = "mlmodel/src/TreeEnsembleCommon.cpp (constructAndValidateTreeEnsembleFromSpec)"
_MAX_ERRORS = 50
_LEAF = 6  # TreeNodeBehavior.LeafNode; 0–5 are the branch comparisons.
_BRANCHES = range(0, 6)


TREE_DIMENSIONS = define_rule(
    "MLS430", "tree-dimensions", "A tree ensemble's output dimension is 0 or disagrees with its defaults or classes.",
    "numPredictionDimensions must be positive; basePredictionValue is empty or has one value per dimension; "
    "a classifier's label count must match the dimension (two labels for dimension 1, n labels for n ≥ 2), or "
    "the labels must be left out.",
    "Set numPredictionDimensions to the number of outputs (classes; 1 for a binary classifier) and size the "
    "base prediction values and labels to match.", _UPSTREAM)

TREE_NODE_BEHAVIOR = define_rule(
    "MLS431", "tree-node-behavior", "A tree node's behaviour is not a known value.",
    "nodeBehavior must be LeafNode or one of the six branch comparisons; any other number (from a newer or "
    "damaged file) stops Core ML's tree construction: \"Branch mode hit bad value\".",
    "Set nodeBehavior to a branch comparison or LeafNode.", _UPSTREAM)

TREE_NODE_IDS = define_rule(
    "MLS432", "tree-node-ids", "A tree node id is duplicated or a branch refers to an undeclared node.",
    "(treeId, nodeId) identifies a node and must be unique, and each branch's trueChildNodeId and "
    "falseChildNodeId must be nodes of the same tree: \"Tree Node with TreeID=... and NodeID=... referenced but "
    "not declared in specification\".",
    "Give every node a unique id within its tree and point the branches at declared nodes.", _UPSTREAM)

TREE_LEAF_VALUES = define_rule(
    "MLS433", "tree-leaf-values", "A leaf's evaluation values are missing, out of range or repeated.",
    "A leaf needs at least one evaluationInfo, each evaluationIndex below numPredictionDimensions and used "
    "once.",
    "Give each leaf one value per output dimension it contributes to, with indices below the output dimension.",
    _UPSTREAM)

TREE_STRUCTURE = define_rule(
    "MLS434", "tree-structure", "The nodes of a tree do not form a single tree.",
    "No branch may be its own child, no node may be the child of two branches, each tree has exactly one root "
    "(a node that is nobody's child) and every node must be reachable from a root (unreachable nodes mean a "
    "cycle).",
    "Rebuild the tree so that every node except the root has exactly one parent.", _UPSTREAM)

RULES: list[Rule] = [TREE_DIMENSIONS, TREE_NODE_BEHAVIOR, TREE_NODE_IDS, TREE_LEAF_VALUES, TREE_STRUCTURE]

NodeKey = tuple[int, int]  # (treeId, nodeId)


@dataclass
class _Tree:
    """What construction learns about the nodes: which are leaves, and the child links it could make."""

    leaves: set[NodeKey] = field(default_factory=set)
    branches: dict[NodeKey, tuple[int, int]] = field(default_factory=dict)  # key -> (false child, true child)
    children: dict[NodeKey, list[NodeKey]] = field(default_factory=dict)
    parents: dict[NodeKey, NodeKey] = field(default_factory=dict)

    @property
    def keys(self) -> list[NodeKey]:
        return sorted(self.leaves | set(self.branches))


@model_check
def tree_ensemble_problems(spec) -> Iterator[Problem]:
    """``validate<treeEnsembleRegressor>`` / ``validate<treeEnsembleClassifier>``."""
    ensemble = getattr(spec, spec.WhichOneof("Type")).treeEnsemble
    dimension = ensemble.numPredictionDimensions
    if dimension == 0:
        yield (TREE_DIMENSIONS, "numPredictionDimensions is 0; set it to the number of outputs")
        return
    tree = _Tree()
    problems: list[Problem] = []
    for node in ensemble.nodes:
        key = (node.treeId, node.nodeId)
        if key in tree.leaves or key in tree.branches:
            problems.append((TREE_NODE_IDS, f"tree {key[0]} declares node {key[1]} twice; give each node a unique "
                                            "nodeId"))
        elif node.nodeBehavior == _LEAF:
            tree.leaves.add(key)
            problems += _leaf_problems(node, key, dimension)
        elif node.nodeBehavior in _BRANCHES:
            tree.branches[key] = (node.falseChildNodeId, node.trueChildNodeId)
        else:
            # Core ML throws here, and its message replaces the errors collected so far.
            yield (TREE_NODE_BEHAVIOR, f"tree {key[0]} node {key[1]} has nodeBehavior {node.nodeBehavior}; use a "
                                       "branch comparison or LeafNode")
            return
        if len(problems) >= _MAX_ERRORS:
            break
    for stage in (_link_children, _root_problems, _reachability_problems):
        if len(problems) >= _MAX_ERRORS:
            break
        stage_problems, fatal = stage(tree)
        problems += stage_problems
        if fatal:
            yield from problems[:_MAX_ERRORS]
            return
    problems += _dimension_problems(spec, ensemble, dimension)
    yield from problems[:_MAX_ERRORS]


def _leaf_problems(node, key: NodeKey, dimension: int) -> list[Problem]:
    where = f"tree {key[0]} leaf {key[1]}"
    if not len(node.evaluationInfo):
        return [(TREE_LEAF_VALUES, f"{where} has no evaluation values; add at least one evaluationInfo")]
    indices = sorted(info.evaluationIndex for info in node.evaluationInfo)
    problems = [(TREE_LEAF_VALUES, f"{where} sets a value for dimension {index}, but numPredictionDimensions is "
                                   f"{dimension}; use indices below it") for index in indices if index >= dimension]
    problems += [(TREE_LEAF_VALUES, f"{where} sets dimension {index} more than once; keep one value per dimension")
                 for index, following in zip(indices, indices[1:]) if index == following]
    return problems


def _link_children(tree: _Tree) -> tuple[list[Problem], bool]:
    """Stage 2: link each branch to its false child, then its true child; a failed link skips the rest."""
    problems = []
    for key in sorted(tree.branches):
        tree_id, node_id = key
        linked = []
        for side, child_id in zip(("false", "true"), tree.branches[key]):
            child = (tree_id, child_id)
            if child not in tree.leaves and child not in tree.branches:
                problems.append((TREE_NODE_IDS, f"tree {tree_id} node {node_id} has {side} child {child_id}, which "
                                                "is not declared; add that node or fix the child id"))
            elif child == key:
                problems.append((TREE_STRUCTURE, f"tree {tree_id} node {node_id} is its own {side} child; point it "
                                                 "at another node"))
            elif child in tree.parents:
                problems.append((TREE_STRUCTURE, f"tree {tree_id}: the {side} child of node {node_id} is already "
                                                 f"the child of node {tree.parents[child][1]}; give each node one "
                                                 "parent"))
            else:
                tree.parents[child] = key
                linked.append(child)
                continue
            break
        tree.children[key] = linked
    return problems, False


def _root_problems(tree: _Tree) -> tuple[list[Problem], bool]:
    """Stage 3a: exactly one root per tree."""
    roots = [key for key in tree.keys if key not in tree.parents]
    problems = []
    for tree_id, group in groupby(roots, key=lambda key: key[0]):
        node_ids = [node_id for _, node_id in group]
        if len(node_ids) > 1:
            problems.append((TREE_STRUCTURE, f"tree {tree_id} has {len(node_ids)} root nodes ({node_ids}); link "
                                             "them under one root"))
    return problems, False


def _reachability_problems(tree: _Tree) -> tuple[list[Problem], bool]:
    """Stage 3b: walk down from every root; an unlinked child ends construction, unreached nodes are a cycle."""
    reached = set()
    pending = [key for key in tree.keys if key not in tree.parents]
    while pending:
        key = pending.pop()
        reached.add(key)
        if key in tree.branches:
            if len(tree.children[key]) < 2:
                # Core ML meets a null child here and aborts; the link error above already says why.
                return [], True
            pending += tree.children[key]
    unreached = [key for key in tree.keys if key not in reached]
    if not unreached:
        return [], False
    listed = ", ".join(f"tree {tree_id} node {node_id}" for tree_id, node_id in unreached)
    return [(TREE_STRUCTURE, f"no root reaches {listed} (a cycle); make them descendants of their tree's root")], False


def _dimension_problems(spec, ensemble, dimension: int) -> list[Problem]:
    """Stages 4 and 5: base prediction values, then a classifier's labels."""
    problems = []
    base = len(ensemble.basePredictionValue)
    if base not in (0, dimension):
        problems.append((TREE_DIMENSIONS, f"there are {base} basePredictionValue entries for {dimension} output "
                                          "dimensions; give one per dimension or none"))
    if spec.WhichOneof("Type") == "treeEnsembleClassifier":
        classifier = spec.treeEnsembleClassifier
        labels = classifier.WhichOneof("ClassLabels")
        classes = len(getattr(classifier, labels).vector) if labels else 0
        if classes and not ((dimension == 1 and classes == 2) or (dimension >= 2 and classes == dimension)):
            problems.append((TREE_DIMENSIONS, f"numPredictionDimensions is {dimension} but there are {classes} class "
                                              "labels; use n dimensions for n classes (1 for two classes)"))
    return problems


CHECKS: dict[str, Check] = {
    "treeEnsembleRegressor": tree_ensemble_problems,
    "treeEnsembleClassifier": tree_ensemble_problems,
}
