"""Every validation rule mlsurgery knows, as an explicit registry: ``ALL_RULES`` and ``rule(code)``.

One module per rule family (see ``base.py`` for the code ranges); each module lists its rules in ``RULES``.
"""

from __future__ import annotations

import difflib

from ..errors import UsageError
from . import device, interface, model, network, pipeline, updatable
from .base import Finding, Rule, ValidationReport

ALL_RULES: list[Rule] = sorted(
    interface.RULES + model.RULES + network.RULES + updatable.RULES + pipeline.RULES + device.RULES,
    key=lambda rule: rule.code)


def rule(code: str) -> Rule:
    """The rule with this code (case-insensitive) or name; anything else raises ``UsageError`` naming close ones."""
    wanted = code.strip()
    for candidate in ALL_RULES:
        if wanted.upper() == candidate.code or wanted == candidate.name:
            return candidate
    known = [candidate.code for candidate in ALL_RULES] + [candidate.name for candidate in ALL_RULES]
    close = difflib.get_close_matches(wanted.upper() if wanted[:3].upper() == "MLS" else wanted, known, n=3,
                                      cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "`mlsurgery rules` lists them"
    raise UsageError(f"unknown rule code {code!r}; {hint}")


__all__ = ["ALL_RULES", "Finding", "Rule", "ValidationReport", "rule"]
