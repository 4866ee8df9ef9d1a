"""The data model of validation: a ``Rule`` is documentation plus a stable code, a ``Finding`` is one breach.

Rules only report; they never change the spec. Codes are stable and never reused:
``MLS0xx`` model-level and interface checks, ``MLS1xx`` general neural-network checks, ``MLS2xx`` updatable-model
checks, ``MLS3xx`` pipeline checks, ``MLS4xx`` the validators of the other model types (GLMs, SVMs, tree
ensembles, feature transforms, Create ML and other models), ``MLS9xx`` device-time failures that Core ML's
validator does not catch (severity ``warning``: they never change the verdict), ``MLS5xx`` converter output
that ``mlsurgery fix`` can rewrite so it trains (severity ``info``: Core ML accepts it, it is only a hint).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"
INFO = "info"  # never changes the verdict, not even with --strict


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    summary: str
    explanation: str
    fix: str
    upstream: str

    def finding(self, message: str, *, layer: str | None = None, where: str = "") -> "Finding":
        return Finding(rule=self, message=message, layer=layer, where=where)


def define_rule(code: str, name: str, summary: str, explanation: str, fix: str, upstream: str,
                severity: str = ERROR) -> Rule:
    """A rule in the order the rule modules write them: identity, then the text a user reads, then the source."""
    return Rule(code=code, name=name, severity=severity, summary=summary, explanation=explanation, fix=fix,
                upstream=upstream)


@dataclass(frozen=True)
class Finding:
    rule: Rule
    message: str
    layer: str | None = None
    where: str = ""

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def severity(self) -> str:
        return self.rule.severity

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "layer": self.layer,
            "where": self.where,
        }


@dataclass
class ValidationReport:
    """All findings for one spec, in the order Core ML runs its checks.

    ``coreml_first`` is the error Core ML itself reports (it stops at its first failed check); the model is
    valid exactly when there is none. Warnings never change that verdict.
    """

    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def infos(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == INFO]

    @property
    def coreml_first(self) -> Finding | None:
        errors = self.errors
        return errors[0] if errors else None

    @property
    def valid(self) -> bool:
        return self.coreml_first is None


# What a check of one part of a model reports: the rule it breaks and the message. Checks of a whole model have
# the signature ``Check``: (spec, where) -> findings, ``where`` naming the pipeline stage ("" at the root); the
# per-layer checks of the network walk have the signature ``LayerCheck``: (walker, layer) -> the first problem.
Problem = tuple[Rule, str]
Check = Callable[[object, str], list[Finding]]
LayerCheck = Callable[[object, object], "Problem | None"]
