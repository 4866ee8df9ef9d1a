"""Training examples in memory, whatever file they came from (``engine.data`` reads the files)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError


@dataclass
class Dataset:
    """Training examples: ``features`` maps each training input to ``N`` values (arrays stacked, labels listed)."""

    features: dict[str, object]
    count: int
    source: str = ""

    def take(self, indices: np.ndarray) -> dict[str, object]:
        taken = {}
        for name, values in self.features.items():
            if isinstance(values, np.ndarray):
                taken[name] = values[indices]
            else:
                taken[name] = [values[i] for i in indices]
        return taken

    def refuse_non_finite(self) -> None:
        """Refuse (``InputError``, exit 2) a numeric feature holding NaN or infinity, naming the first example:
        one such value makes every loss and then every weight NaN, and the model written would predict NaN."""
        for name, values in self.features.items():
            if isinstance(values, np.ndarray) and values.dtype.kind in "fc":
                refuse_non_finite(values, f"{self.source or 'the data'}: array {name!r}")


def refuse_non_finite(values: np.ndarray, where: str) -> None:
    """``InputError`` naming ``where`` and the first example (row of ``values``) holding NaN or infinity."""
    finite = np.isfinite(values.reshape(len(values), -1)).all(axis=1) if values.ndim else np.isfinite(values)
    if not np.all(finite):
        index = int(np.argmin(finite)) if values.ndim else 0
        bad = values.reshape(len(values), -1)[index] if values.ndim else values
        what = "NaN" if np.isnan(bad).any() else "infinity"
        raise InputError(f"{where} holds {what} at example {index}; training on it would make every weight NaN "
                         "— remove or fix that example")
