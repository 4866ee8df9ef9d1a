"""Validation results for CI: GitHub Actions workflow annotations and a SARIF 2.1.0 log (GitHub code scanning).

Presentation only: ``mlsurgery.validate`` produces the results (``FileResult``), this module renders them, as
``mlsurgery.report`` renders them for people.
"""

from __future__ import annotations

import os
from pathlib import Path

from .rules import ALL_RULES
from .rules.base import ERROR, INFO, WARNING, Finding, Rule
from .validate import FileResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVELS = {ERROR: "error", WARNING: "warning", INFO: "note"}


def github_annotations(results: list[FileResult]) -> list[str]:
    """GitHub Actions workflow commands (``::error file=...::message``), one per finding or load failure."""
    lines = []
    for result in results:
        if result.error is not None:
            lines.append(_workflow_command("error", result.path, "cannot load model", result.error))
            continue
        first = result.report.coreml_first
        for finding in result.report.findings:
            marker = " [Core ML reports this]" if finding is first else ""
            title = f"{finding.code} {finding.rule.name}"
            text = f"{_located(finding)}{finding.message}{marker}"
            level = {ERROR: "error", WARNING: "warning"}.get(finding.severity, "notice")
            lines.append(_workflow_command(level, result.path, title, text))
    return lines


def _located(finding: Finding) -> str:
    return f"{finding.where}: " if finding.where else ""


def _workflow_command(level: str, path: str, title: str, message: str) -> str:
    def escape_data(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def escape_property(text: str) -> str:
        return escape_data(text).replace(":", "%3A").replace(",", "%2C")

    return f"::{level} file={escape_property(path)},title={escape_property(title)}::{escape_data(message)}"


def sarif_log(results: list[FileResult], *, tool_version: str = "") -> dict:
    """A SARIF 2.1.0 log (for GitHub code scanning): one run, every rule, one result per finding.

    Files that cannot be loaded appear as error notifications of the invocation, which is then marked as not
    successful.
    """
    rule_index = {rule.code: position for position, rule in enumerate(ALL_RULES)}
    sarif_results, notifications = [], []
    for result in results:
        location = {"physicalLocation": {"artifactLocation": {"uri": _uri(result.path)}}}
        if result.error is not None:
            notifications.append({"level": "error", "message": {"text": result.error}, "locations": [location]})
            continue
        first = result.report.coreml_first
        for finding in result.report.findings:
            entry_location = dict(location)
            names = [name for name in (finding.where, finding.layer) if name]
            if names:
                entry_location["logicalLocations"] = [{"fullyQualifiedName": " › ".join(names)}]
            entry = {
                "ruleId": finding.code,
                "level": _SARIF_LEVELS[finding.severity],
                "message": {"text": f"{_located(finding)}{finding.message}"},
                "locations": [entry_location],
                "properties": {"coremlFirst": finding is first, "layer": finding.layer},
            }
            if finding.code in rule_index:
                entry["ruleIndex"] = rule_index[finding.code]
            sarif_results.append(entry)
    driver = {"name": "mlsurgery", "rules": [_sarif_rule(rule) for rule in ALL_RULES]}
    if tool_version:
        driver["version"] = tool_version
    invocation = {"executionSuccessful": not notifications, "toolExecutionNotifications": notifications}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0",
            "runs": [{"tool": {"driver": driver}, "invocations": [invocation], "results": sarif_results}]}


def _sarif_rule(rule: Rule) -> dict:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.explanation},
        "help": {"text": f"{rule.fix} (upstream: {rule.upstream})"},
        "defaultConfiguration": {"level": _SARIF_LEVELS[rule.severity]},
        "properties": {"upstream": rule.upstream},
    }


def _uri(path: str) -> str:
    # Code scanning resolves relative URIs against the repository root; keep relative paths relative.
    return Path(path).as_posix() if not os.path.isabs(path) else Path(path).as_uri()
