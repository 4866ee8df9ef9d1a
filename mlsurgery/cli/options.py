"""Option value types shared by several commands."""

from __future__ import annotations

import click


class IntList(click.ParamType):
    """A comma-separated list of integers, e.g. ``1,2,8,16``."""

    name = "N,N,..."

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return tuple(int(part) for part in str(value).split(",") if part.strip())
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of integers (e.g. 1,2,8,16)", param, ctx)


class FloatRange(click.ParamType):
    """``MIN,MAX``, e.g. ``0,1``."""

    name = "MIN,MAX"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        parts = str(value).split(",")
        try:
            low, high = (float(part) for part in parts)
        except ValueError:
            self.fail(f"{value!r} is not MIN,MAX (e.g. 0,1)", param, ctx)
        if low > high:
            self.fail(f"minimum {low} is greater than maximum {high}", param, ctx)
        return (low, high)


class NameList(click.ParamType):
    """Comma-separated names; repeated options add up (``--layers a,b --layers c``)."""

    name = "NAME,NAME,..."

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        return [part.strip() for part in str(value).split(",") if part.strip()]


def default_output_path(model: str, suffix: str) -> str:
    """``model.mlmodel`` → ``model_<suffix>.mlmodel`` beside it, so the input is never overwritten by default."""
    from pathlib import Path

    path = Path(model)
    return str(path.with_name(f"{path.stem}_{suffix}{path.suffix or '.mlmodel'}"))
