"""k-nearest-neighbours classifiers (mlmodel/format/NearestNeighbors.proto) on the engine: the runner.

Prediction, as KNearestNeighborsClassifier.proto describes it: the k stored examples nearest the input by squared
Euclidean distance (k = numberOfNeighbors' default value, or every example when fewer are stored) vote for their
labels — each with weight 1 (uniformWeighting) or 1 / distance (inverseDistanceWeighting: "a nearest neighbor with
highest sum of (1 / distance) is picked") — and the label with the largest total wins. Where the proto is silent,
the engine decides, and says so here: neighbours at distance 0 outvote every other (1 / 0 is infinite), sharing
the vote equally among themselves; equal totals go to the label of the nearest neighbour among them; the
probabilities output is each label's share of the total vote (labels in order of first appearance among the stored
examples); an empty model predicts its default label with an empty probability dictionary.

Training (storing examples) is ``engine.knn_training``.
"""

from __future__ import annotations

import numpy as np
import torch

from ..coreml import PIPELINE_KINDS
from ..errors import UsageError
from ..network import pipeline_stages
from .errors import InputError, UnsupportedModelError
from .runner import ClassProbabilities, EngineModel


class KNearestNeighborsModel(EngineModel):
    def __init__(self, spec):
        super().__init__(spec)
        knn = spec.kNearestNeighborsClassifier
        index = knn.nearestNeighborsIndex
        if index.WhichOneof("DistanceFunction") != "squaredEuclideanDistance":
            raise UnsupportedModelError("kNearestNeighborsClassifier sets no squaredEuclideanDistance")
        self.dimensions = index.numberOfDimensions
        self.samples = torch.tensor(np.array([list(s.vector) for s in index.floatSamples], dtype=np.float64)
                                    .reshape(len(index.floatSamples), self.dimensions))
        labels = knn.WhichOneof("ClassLabels")
        self.sample_labels = [int(v) for v in knn.int64ClassLabels.vector] if labels == "int64ClassLabels" else \
            list(knn.stringClassLabels.vector)
        self.labels = list(dict.fromkeys(self.sample_labels))
        default = knn.WhichOneof("DefaultClassLabel")
        self.default_label = getattr(knn, default) if default else None
        self.k = int(knn.numberOfNeighbors.defaultValue)
        self.inverse_distance = knn.WhichOneof("WeightingScheme") == "inverseDistanceWeighting"
        self.input_name = next(iter(self.input_features))

    def run(self, features, batch_size):
        x = features[self.input_name]
        if not isinstance(x, torch.Tensor):
            raise InputError(f"input {self.input_name!r} of a k-NN must be a multi-array")
        x = x.reshape(batch_size, -1).to(torch.float64)
        if x.shape[1] != self.dimensions:
            raise InputError(f"input {self.input_name!r} has {x.shape[1]} values; the k-NN has "
                             f"{self.dimensions} dimensions")
        votes = torch.zeros(batch_size, len(self.labels), dtype=torch.float64)
        winners = [self.default_label] * batch_size
        if len(self.samples):
            distances = torch.cdist(x, self.samples) ** 2
            k = min(self.k, len(self.samples))
            nearest, order = torch.topk(distances, k, dim=1, largest=False)
            for row in range(batch_size):
                votes[row], winners[row] = self._vote(nearest[row], order[row])
        description = self.spec.description
        outputs = {}
        for name, feature in self.output_features.items():
            if name == description.predictedFeatureName:
                outputs[name] = winners
            elif feature.type.WhichOneof("Type") == "dictionaryType":
                outputs[name] = ClassProbabilities(votes.to(torch.float32), self.labels)
        return outputs

    def _vote(self, distances: torch.Tensor, neighbours: torch.Tensor):
        if self.inverse_distance:
            exact = distances == 0
            weights = exact.to(torch.float64) if exact.any() else 1 / distances
        else:
            weights = torch.ones_like(distances)
        totals = torch.zeros(len(self.labels), dtype=torch.float64)
        neighbour_labels = [self.labels.index(self.sample_labels[i]) for i in neighbours.tolist()]
        for label, weight in zip(neighbour_labels, weights.tolist()):
            totals[label] += weight
        best = totals.max()
        # Neighbours come nearest first: the first one whose label has the best total wins a tie.
        winner = next(label for label in neighbour_labels if totals[label] == best)
        return totals / totals.sum(), self.labels[winner]


def knn_stage(spec):
    """The k-NN model of ``spec``: the spec itself or its (nested) pipeline's last stage; else ``UsageError``."""
    model = spec
    while model.WhichOneof("Type") in PIPELINE_KINDS and pipeline_stages(model):
        model = pipeline_stages(model)[-1]
    if model.WhichOneof("Type") != "kNearestNeighborsClassifier":
        raise UsageError(f"the model's last stage is a {model.WhichOneof('Type')!r}, not a k-NN classifier")
    return model


def is_knn_model(spec) -> bool:
    """Whether ``spec`` is a k-NN classifier or a pipeline ending in one (what ``train`` trains by storing)."""
    try:
        knn_stage(spec)
    except UsageError:
        return False
    return True
