"""Apply the converter-output rewrites (``ops.rewrites``), each only once the engine shows it changes no prediction.

``fix`` first applies every fixable match to a copy of the spec (finding them again after each rewrite, since one
rewrite changes what the next one sees) and runs the copy and the original on the same random inputs of the
declared types (``prove``: the engine's ``compare_predictions``, 1e-5, passed in by the job). When they agree, that is the result: one proof for
all, which matters for large models the engine runs slowly. When they do not, it starts again one rewrite at a
time, keeping each that is proven and refusing the others, saying why.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import MLSurgeryError, UsageError
from ..changes import Changes
from ..rewrite_matches import REWRITE_CODES, Match, NetworkFacts, find_matches
from .rewrites import rewrite

TOLERANCE = 1e-5


@dataclass(frozen=True)
class Proof:
    agree: bool
    detail: str


@dataclass
class FixResult:
    changes: Changes
    applied: list[Match] = field(default_factory=list)
    refused: list[tuple[Match, str]] = field(default_factory=list)


Prover = Callable[[object, object], Proof]


def parse_codes(codes: list[str] | None) -> list[str] | None:
    """``--only`` codes, checked against the rewrites' rule codes."""
    if not codes:
        return None
    wanted = [code.strip().upper() for code in codes if code.strip()]
    unknown = [code for code in wanted if code not in REWRITE_CODES]
    if unknown:
        raise UsageError(f"--only {', '.join(unknown)}: not a rewrite; choose from {', '.join(REWRITE_CODES)}")
    return wanted


def fix(spec, *, prove: Prover, only: list[str] | None = None,
        wanted: Callable[[NetworkFacts, Match], bool] | None = None) -> FixResult:
    """Apply every provable fixable rewrite (those in ``only``, and for which ``wanted`` says yes) to ``spec``.

    ``prove(before, after)`` says whether two specs predict the same; the jobs pass
    ``mlsurgery.engine.proof.prove_with_engine`` (operations never import the engine).

    ``spec`` is changed in place. Refused matches are listed with the reason; nothing is raised for them.
    """
    codes = parse_codes(only)
    limit = 4 * (len(NetworkFacts.of_spec(spec).graph.layers) + 5)

    def candidates(current, refused):
        facts = NetworkFacts.of_spec(current)
        return [match for match in find_matches(facts, codes)
                if match.fixable and (match.code, match.layer) not in refused
                and (wanted is None or wanted(facts, match))]

    together = FixResult(Changes("fix"))
    trial = copy.deepcopy(spec)
    try:
        for _ in range(limit):
            found = candidates(trial, set())
            if not found:
                break
            together.changes.extend(rewrite(found[0].code).apply(trial, found[0]))
            together.applied.append(found[0])
    except MLSurgeryError:
        together.applied.clear()
    if not together.applied:
        return together
    if prove(spec, trial).agree:
        spec.CopyFrom(trial)
        return together

    result = FixResult(Changes("fix"))
    refused: set[tuple[str, str]] = set()
    for _ in range(limit):
        found = candidates(spec, refused)
        if not found:
            break
        match = found[0]
        trial = copy.deepcopy(spec)
        try:
            changes = rewrite(match.code).apply(trial, match)
            proof = prove(spec, trial)
        except MLSurgeryError as failed:
            proof = Proof(False, str(failed))
        if proof.agree:
            spec.CopyFrom(trial)
            result.applied.append(match)
            result.changes.extend(changes)
        else:
            refused.add((match.code, match.layer))
            result.refused.append((match, proof.detail))
    return result
