"""The rule tables of docs/validation.md and docs/validation-general.md, generated from the rule registry.

Each table sits between a ``<!-- rules: NAME -->`` line and the next ``<!-- end rules -->`` line; everything
between them is rewritten from ``ALL_RULES``, so the documentation cannot drift from the code.
``python -m mlsurgery.rules.docs`` (from the repository root) rewrites the tables; ``--check`` only reports stale
ones (exit 1), as the test suite does.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import EXIT_INVALID, EXIT_OK
from . import ALL_RULES, RULE_MODULES
from .base import WARNING, Rule

DOC_FILES = ("validation.md", "validation-general.md")
_BLOCK = re.compile(r"(<!-- rules: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- end rules -->)", re.DOTALL)


def rule_module(rule: Rule) -> str:
    """The module that defines ``rule``, e.g. ``mlsurgery/rules/updatable.py``."""
    for module in RULE_MODULES:
        if any(value is rule for value in vars(module).values()):
            return module.__name__.replace(".", "/") + ".py"
    raise LookupError(f"{rule.code} is in ALL_RULES but no rule module defines it")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _rule_table(rules: list[Rule]) -> str:
    lines = ["| code | name | what | module | upstream |", "|---|---|---|---|---|"]
    for rule in rules:
        name = rule.name + (" (warning)" if rule.severity == WARNING else "")
        lines.append(f"| {rule.code} | {name} | {_cell(rule.summary)} | `{rule_module(rule)}` | "
                     f"{_cell(rule.upstream)} |")
    return "\n".join(lines) + "\n"


def _is_general(rule: Rule) -> bool:
    """MLS000–MLS049 (model and interface) and MLS1xx (neural network): docs/validation-general.md."""
    return rule.code < "MLS050" or rule.code.startswith("MLS1")


def _module_table() -> str:
    lines = ["| module | codes | family |", "|---|---|---|"]
    for module in RULE_MODULES:
        path = module.__name__.replace(".", "/") + ".py"
        codes = [rule.code for rule in ALL_RULES if rule_module(rule) == path]
        if codes:
            family = (module.__doc__ or "").strip().splitlines()[0]
            lines.append(f"| `{path}` | {_ranges(codes)} | {_cell(family)} |")
    return "\n".join(lines) + "\n"


def _ranges(codes: list[str]) -> str:
    """``MLS107–MLS118, MLS121``: consecutive codes joined."""
    numbers = sorted(int(code[3:]) for code in codes)
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(f"MLS{run[0]:03d}" + (f"–MLS{run[-1]:03d}" if len(run) > 1 else "") for run in runs)


TABLES: dict[str, Callable[[], str]] = {
    "general": lambda: _rule_table([rule for rule in ALL_RULES if _is_general(rule)]),
    "other": lambda: _rule_table([rule for rule in ALL_RULES if not _is_general(rule)]),
    "modules": _module_table,
}


def render(text: str) -> str:
    """``text`` (a docs file) with every generated table rewritten from the registry."""
    def replace(match: re.Match) -> str:
        name = match.group("name")
        if name not in TABLES:
            raise KeyError(f"unknown generated table {name!r}; known: {', '.join(TABLES)}")
        return match.group(1) + TABLES[name]() + match.group(4)

    return _BLOCK.sub(replace, text)


def stale_files(docs: Path) -> list[Path]:
    """The files of the ``docs`` folder whose generated tables differ from the registry."""
    paths = [docs / name for name in DOC_FILES]
    return [path for path in paths if render(path.read_text("utf-8")) != path.read_text("utf-8")]


def main(argv: list[str]) -> int:
    stale = stale_files(Path("docs"))
    if "--check" in argv:
        for path in stale:
            print(f"{path}: rule tables are stale; run python -m mlsurgery.rules.docs", file=sys.stderr)
        return EXIT_INVALID if stale else EXIT_OK
    for path in stale:
        path.write_text(render(path.read_text("utf-8")), "utf-8")
        print(f"rewrote the rule tables of {path}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
