"""GLM classifiers (mlmodel/format/GLMClassifier.proto) on the engine: ``z = W·x + offset``, then the transform.

Core ML concatenates the GLM's inputs (doubles, int64s, multi-arrays, flattened in declaration order) into x and
computes one score per weight row; the class probabilities follow from the transform and the class encoding, as
scikit-learn's LogisticRegression (whose converter writes these encodings) computes them:

- one weight row (two classes, either encoding): p(second label) = σ(z) for Logit, Φ(z) for Probit; the first label
  gets the rest;
- ReferenceClass, n − 1 rows: the first label scores 0, then a softmax over the n scores;
- OneVsRest, n rows: per-class sigmoids σ(zᵢ), normalized to sum to 1.

The predicted label is the most probable one (the first of equal ones).
"""

from __future__ import annotations

import torch

from ..coreml import GLM_LOGIT, GLM_ONE_VS_REST, GLM_PROBIT, GLM_REFERENCE_CLASS
from .errors import InputError, UnsupportedModelError
from .runner import ClassProbabilities, EngineModel



class GLMClassifierModel(EngineModel):
    def __init__(self, spec):
        super().__init__(spec)
        glm = spec.glmClassifier
        labels = glm.WhichOneof("ClassLabels")
        if labels is None:
            raise UnsupportedModelError("glmClassifier has no class labels")
        self.labels = [int(v) for v in glm.int64ClassLabels.vector] if labels == "int64ClassLabels" else \
            list(glm.stringClassLabels.vector)
        self.weights = torch.tensor([list(row.value) for row in glm.weights], dtype=torch.float64)
        self.offsets = torch.tensor(list(glm.offset), dtype=torch.float64)
        self.transform = glm.postEvaluationTransform
        self.encoding = glm.classEncoding
        if (self.transform not in (GLM_LOGIT, GLM_PROBIT)
                or self.encoding not in (GLM_REFERENCE_CLASS, GLM_ONE_VS_REST)):
            raise UnsupportedModelError(f"glmClassifier transform {self.transform} / encoding {self.encoding} is "
                                        "not one Core ML defines")

    def run(self, features, batch_size):
        x = torch.cat([_as_columns(name, features[name], batch_size) for name in self.input_features], dim=1)
        if x.shape[1] != self.weights.shape[1]:
            raise InputError(f"the GLM has {self.weights.shape[1]} weights per class but its inputs hold "
                             f"{x.shape[1]} values")
        scores = x @ self.weights.T + self.offsets
        probabilities = self.probabilities(scores)
        description = self.spec.description
        outputs = {}
        for name, feature in self.output_features.items():
            if name == description.predictedFeatureName:
                outputs[name] = [self.labels[i] for i in probabilities.argmax(dim=1).tolist()]
            elif feature.type.WhichOneof("Type") == "dictionaryType":
                outputs[name] = ClassProbabilities(probabilities.to(torch.float32), self.labels)
        return outputs

    def probabilities(self, scores: torch.Tensor) -> torch.Tensor:
        if scores.shape[1] == 1:
            if self.transform == GLM_PROBIT:
                second = 0.5 * (1 + torch.erf(scores[:, 0] / 2 ** 0.5))
            else:
                second = torch.sigmoid(scores[:, 0])
            return torch.stack([1 - second, second], dim=1)
        if self.encoding == GLM_REFERENCE_CLASS:
            return torch.softmax(torch.cat([torch.zeros_like(scores[:, :1]), scores], dim=1), dim=1)
        sigmoids = torch.sigmoid(scores)
        return sigmoids / sigmoids.sum(dim=1, keepdim=True)


def _as_columns(name: str, value, batch_size: int) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.reshape(batch_size, -1).to(torch.float64)
    try:
        return torch.tensor([[float(v)] for v in value], dtype=torch.float64)
    except (TypeError, ValueError):
        raise InputError(f"input {name!r} of a GLM must be numeric") from None

