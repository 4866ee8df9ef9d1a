"""Exception types that carry a one-line, actionable message and the CLI exit code they map to.

A user error (bad path, unknown layer, a spec that cannot be changed as asked) is an ``MLSurgeryError``:
the CLI prints ``str(error)`` on one line and exits with ``exit_code``. Anything else is a bug in mlsurgery
and keeps its traceback.
"""

from __future__ import annotations

# The CLI's exit statuses (README): success; a model Core ML would reject, or a run that would not train; a usage
# or load error; interrupted (Ctrl-C, the shell's 128 + SIGINT).
EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_ABORTED = 130


def did_you_mean(word: str, known, *, limit: int = 3, cutoff: float = 0.6) -> str:
    """``did you mean 'a', 'b'?`` naming the entries of ``known`` closest to ``word``; empty when none is close."""
    import difflib

    close = difflib.get_close_matches(word, list(known), n=limit, cutoff=cutoff)
    return f"did you mean {', '.join(repr(c) for c in close)}?" if close else ""


class MLSurgeryError(Exception):
    """Base for every error caused by the user's input rather than by a bug in mlsurgery."""

    exit_code = EXIT_USAGE


class UsageError(MLSurgeryError):
    """Arguments that cannot work: an unknown layer name, an impossible option combination."""


class ModelLoadError(MLSurgeryError):
    """A path that is not a readable Core ML ``.mlmodel`` of the kind the command needs."""


class SurgeryError(MLSurgeryError):
    """An operation that cannot be carried out on this spec as asked; the message says what to change."""


class InvalidModelError(MLSurgeryError):
    """The result would be rejected by Core ML; ``report`` holds the findings."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class NotUpdatableError(MLSurgeryError):
    """The model has no on-device training interface (it is not updatable); the message says how to get one."""

    exit_code = EXIT_INVALID


class ConversionError(MLSurgeryError):
    """An ML Program that cannot become a NeuralNetwork (an op with no NeuralNetwork layer, a stateful model,
    several functions); the message names the op and its output and what to do."""
