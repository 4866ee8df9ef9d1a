"""mlsurgery.rules.docs: the rule tables in docs/ are generated from the registry and must be current."""

from conftest import ROOT
from mlsurgery.rules import ALL_RULES
from mlsurgery.rules.docs import DOC_FILES, render, rule_module, stale_files

DOCS = ROOT / "docs"


def test_the_rule_tables_in_docs_are_current():
    assert stale_files(DOCS) == [], "the rule tables are stale: run python -m mlsurgery.rules.docs"


def test_every_rule_appears_once_in_the_docs_with_its_module():
    text = "".join((DOCS / name).read_text("utf-8") for name in DOC_FILES)
    for rule in ALL_RULES:
        rows = [line for line in text.splitlines() if line.startswith(f"| {rule.code} | ")]
        assert len(rows) == 1, rule.code
        assert f"`{rule_module(rule)}`" in rows[0] and rule.name in rows[0]


def test_a_changed_registry_makes_the_docs_stale(tmp_path):
    for name in DOC_FILES:
        text = (DOCS / name).read_text("utf-8")
        edited = text.replace(f"| {ALL_RULES[0].code} | ", "| MLS999 | ").replace(
            f"| {ALL_RULES[-1].code} | ", "| MLS998 | ")
        (tmp_path / name).write_text(edited, "utf-8")
    assert stale_files(tmp_path) == [tmp_path / name for name in DOC_FILES]
    assert render((tmp_path / DOC_FILES[0]).read_text("utf-8")) == (DOCS / DOC_FILES[0]).read_text("utf-8")
