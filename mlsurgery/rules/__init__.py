"""Every validation rule mlsurgery knows, as an explicit registry: ``ALL_RULES`` and ``rule(code)``.

One module per rule family (see ``base.py`` for the code ranges); each module lists its rules in ``RULES``.
``MODEL_TYPE_CHECKS`` maps each model type without a dedicated step in ``validate.check_model`` (not a network,
pipeline or k-NN classifier) to the check of its type-specific validator.
"""

from __future__ import annotations

from ..errors import UsageError, did_you_mean
from . import (
    device,
    estimators,
    fixable,
    generic,
    interface,
    knn,
    layers,
    network,
    other_models,
    pipeline,
    text,
    transforms,
    trees,
    updatable,
    vision_audio,
)
from .base import Check, Finding, Rule, ValidationReport

# Every module that defines rules, in the order the documentation lists them.
RULE_MODULES = (interface, generic, knn, network, layers, updatable, pipeline, other_models, estimators, trees, transforms, text,
                vision_audio, device, fixable)

# (rules.network lists the per-layer rules of rules.layers among its own, hence the set.)
ALL_RULES: list[Rule] = sorted({rule for module in RULE_MODULES for rule in module.RULES}, key=lambda rule: rule.code)

MODEL_TYPE_CHECKS: dict[str, Check] = {
    **other_models.CHECKS, **estimators.CHECKS, **trees.CHECKS, **transforms.CHECKS, **text.CHECKS, **vision_audio.CHECKS}


def rule(code: str) -> Rule:
    """The rule with this code (case-insensitive) or name; anything else raises ``UsageError`` naming close ones."""
    wanted = code.strip()
    for candidate in ALL_RULES:
        if wanted.upper() == candidate.code or wanted == candidate.name:
            return candidate
    known = [candidate.code for candidate in ALL_RULES] + [candidate.name for candidate in ALL_RULES]
    hint = did_you_mean(wanted.upper() if wanted[:3].upper() == "MLS" else wanted, known) or (
        "`mlsurgery rules` lists them")
    raise UsageError(f"unknown rule code {code!r}; {hint}")


__all__ = ["ALL_RULES", "MODEL_TYPE_CHECKS", "RULE_MODULES", "Finding", "Rule", "ValidationReport", "rule"]
