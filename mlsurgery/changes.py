"""What a surgery operation changed, as data: printed by ``--dry-run`` and by recipes, tested directly."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Change:
    target: str  # what was touched, e.g. "layer fullyconnected0" or "output labelProbability"
    detail: str  # what happened to it, e.g. "outputChannels 3 → 10"

    def __str__(self) -> str:
        return f"{self.target}: {self.detail}"


@dataclass
class Changes:
    """The changes one operation made (or, in a dry run, would make), in the order it made them."""

    operation: str
    items: list[Change] = field(default_factory=list)

    def add(self, target: str, detail: str) -> None:
        self.items.append(Change(target, detail))

    def extend(self, other: "Changes") -> None:
        self.items.extend(other.items)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def to_dict(self) -> dict:
        return {"operation": self.operation,
                "changes": [{"target": c.target, "detail": c.detail} for c in self.items]}
