"""Rendering for people (rich) and for machines (JSON). Only this module and the CLI import rich."""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .inspection import feature_type_label


# Piped output has no terminal width; rich would fall back to 80 columns and fold every layer table.
_PIPE_WIDTH = 160


def console(stderr: bool = False) -> Console:
    out = Console(stderr=stderr, highlight=False, soft_wrap=False)
    if not out.is_terminal:
        out = Console(stderr=stderr, highlight=False, soft_wrap=False, width=_PIPE_WIDTH)
    return out


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _features_table(title: str, features: list[dict]) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("name")
    table.add_column("type")
    table.add_column("description")
    for feature in features:
        table.add_row(feature["name"], feature_type_label(feature["type"]), feature["description"])
    return table


def _yes(flag: bool) -> str:
    return "yes" if flag else "·"


def print_summary(summary: dict, out: Console) -> None:
    out.print(f"[bold]{summary['path']}[/bold]  {summary['type']}, specification version "
              f"{summary['specification_version']}, {'updatable' if summary['is_updatable'] else 'not updatable'}")
    if summary["description"]:
        out.print(summary["description"])
    out.print(_features_table("inputs", summary["inputs"]))
    out.print(_features_table("outputs", summary["outputs"]))
    if summary["class_labels"] is not None:
        labels = summary["class_labels"]
        shown = ", ".join(map(str, labels[:20])) + (f", … ({len(labels)} in all)" if len(labels) > 20 else "")
        out.print(f"class labels: {shown}")
    _print_pipeline(summary, out)
    for network in summary["networks"]:
        where = f" ({network['where']})" if network["where"] else ""
        table = Table(title=f"{network['type']}{where}: {len(network['layers'])} layers", title_justify="left",
                      show_edge=False)
        for column, justify, wrap in (("#", "right", False), ("name", "left", True), ("type", "left", False),
                                      ("inputs → outputs", "left", True), ("params", "right", False),
                                      ("storage", "left", False), ("updatable", "left", False),
                                      ("can train", "left", False), ("passes grad", "left", False)):
            table.add_column(column, justify=justify, no_wrap=not wrap)
        for layer in network["layers"]:
            table.add_row(str(layer["index"]), layer["name"], layer["type"],
                          f"{', '.join(layer['inputs'])} → {', '.join(layer['outputs'])}",
                          f"{layer['parameters']:,}", layer["storage"], _yes(layer["updatable"]),
                          _yes(layer["can_be_updatable"]), _yes(layer["passes_gradients"]))
        out.print(table)
        if network["training"]:
            _print_training(network["training"], out)


def _print_pipeline(summary: dict, out: Console) -> None:
    """The stages of a pipeline (which one trains, what it reads), k-NN settings, and what a GLM head allows."""
    if summary["stages"]:
        table = Table(title="pipeline stages", title_justify="left", show_edge=False)
        for column in ("stage", "name", "type", "inputs → outputs", "trains"):
            table.add_column(column)
        for stage in summary["stages"]:
            table.add_row(stage["where"], stage["name"] or "", stage["type"],
                          f"{', '.join(stage['inputs'])} → {', '.join(stage['outputs'])}", _yes(stage["is_updatable"]))
        out.print(table)
    if summary["is_updatable"] and summary["training_inputs"] and summary["stages"]:
        out.print(f"training inputs: {', '.join(f['name'] for f in summary['training_inputs'])}")
    for knn in summary["knn"]:
        where = f" ({knn['where']})" if knn["where"] else ""
        index = f"kd-tree index (leaf size {knn['leaf_size']})" if knn["index"] == "kd-tree" else \
            f"{knn['index']} index"
        out.print(f"k-NN{where}: {knn['dimensions']} dimensions, k {knn['number_of_neighbors']['default']} "
                  f"(allowed {allowed_text(knn['number_of_neighbors'])}), {knn['weighting']} weighting, {index}, "
                  f"{knn['labels']} labels, {knn['samples']} examples stored, default label {knn['default_label']!r}; "
                  "training adds examples")
    for glm in summary["glm"]:
        where = f" ({glm['where']})" if glm["where"] else ""
        out.print(f"GLM classifier{where}: {glm['classes']} classes, {glm['transform']}, {glm['encoding']}; Core ML "
                  f"cannot train it — make-updatable replaces it by an equivalent network (preserving the "
                  f"{glm['network_replacement_preserves']}), make-knn by a k-NN")


def _print_training(training: dict, out: Console) -> None:
    out.print(_features_table("training inputs", training["inputs"]))
    for loss in training["losses"]:
        out.print(f"loss: {loss['name']} ({loss['type']}) input {loss['input']!r}, target {loss['target']!r}")
    optimizer = training["optimizer"]
    if optimizer:
        table = Table(title=f"optimizer: {optimizer['type']}", title_justify="left", show_edge=False)
        table.add_column("parameter")
        table.add_column("default", justify="right")
        table.add_column("allowed")
        for name, value in optimizer.items():
            if name != "type":
                table.add_row(name, str(value["default"]), allowed_text(value))
        out.print(table)
    if training["epochs"]:
        out.print(f"epochs: {training['epochs']['default']} (allowed {allowed_text(training['epochs'])})")
    out.print(f"shuffle: {training['shuffle']}, seed: {training['seed']}")
    for layer in training["layer_gradients"]:
        if not layer["path"]:
            status = "not upstream of the loss: it never receives a gradient"
        elif layer["coreml_accepts"]:
            status = "gradients from the loss reach it"
        else:
            status = f"Core ML rejects it: gradients are blocked by {layer['blocked_by']!r}"
            if layer["coreml_differs_from_paths"]:
                status += " (on the route Core ML walks; another route does carry a gradient)"
        out.print(f"updatable layer {layer['name']!r}: {status}")


def allowed_text(parameter: dict, *, prose: bool = False) -> str:
    """A parameter's allowed values as inspect shows them (``{1, 8}``, ``[0.0, 1.0]``) or, with ``prose``, as the
    contract does (``one of 1, 8`` with Swift's booleans, ``0.0 … 1.0``); ``any`` when the spec sets none."""
    if "allowed_values" in parameter:
        values = parameter["allowed_values"]
        return "one of " + ", ".join(_value(v) for v in values) if prose else "{" + ", ".join(map(str, values)) + "}"
    if "allowed_range" in parameter:
        low, high = parameter["allowed_range"]
        return f"{low} … {high}" if prose else f"[{low}, {high}]"
    return "any"


def print_changes(changes, out: Console, *, dry_run: bool = False) -> None:
    table = Table(title=f"{changes.operation}{' (dry run: nothing written)' if dry_run else ''}",
                  title_justify="left", show_edge=False)
    table.add_column("target")
    table.add_column("change")
    for change in changes:
        table.add_row(change.target, change.detail)
    out.print(table)


def print_findings(report, out: Console, *, path: str | None = None, fixes: bool = False) -> None:
    """A verdict line, then the findings in Core ML's check order, marking the one Core ML itself reports.

    Messages are model text (layer names may hold brackets), so they go through ``Text``, never rich markup.
    """
    prefix = (f"{path}: ", "bold") if path else ""
    if not report.findings:
        out.print(Text.assemble(prefix, ("valid", "green bold"), ": Core ML accepts this model"))
        return
    verdict = ("valid", "green bold") if report.valid else ("invalid", "red bold")
    infos = f", {len(report.infos)} fixable/info" if report.infos else ""
    out.print(Text.assemble(prefix, verdict,
                            f" ({len(report.errors)} error(s), {len(report.warnings)} warning(s){infos})"))
    first = report.coreml_first
    for finding in report.findings:
        colour = {"error": "red", "warning": "yellow"}.get(finding.severity, "cyan")
        line = Text.assemble("  ", (finding.code, colour), f" {finding.severity}  ")
        if finding.where:
            line.append(f"{finding.where}: ", "dim")
        line.append(finding.message)
        if finding is first:
            line.append("  ← Core ML reports this", "bold")
        out.print(line)
        if fixes:
            out.print(Text(f"      fix: {finding.rule.fix}", "dim"))


def print_predictions(outputs: dict, out: Console, *, top: int = 5) -> None:
    """One block per output: top-k classes for probabilities, the label, or an array's shape and values."""
    import numpy as np

    for name, value in outputs.items():
        if isinstance(value, dict):
            out.print(f"[bold]{name}[/bold]  top {min(top, len(value))} of {len(value)} classes")
            table = Table(show_edge=False)
            table.add_column("class")
            table.add_column("probability", justify="right")
            for label, probability in sorted(value.items(), key=lambda item: -item[1])[:top]:
                table.add_row(str(label), f"{probability:.4f}")
            out.print(table)
        elif isinstance(value, np.ndarray):
            flat = value.reshape(-1)
            shown = ", ".join(f"{v:.6g}" for v in flat[:8]) + (", …" if flat.size > 8 else "")
            stats = f"  min {flat.min():.6g}  max {flat.max():.6g}" if flat.size > 1 else ""
            out.print(f"[bold]{name}[/bold]  {list(value.shape)}  [{shown}]{stats}")
        else:
            out.print(f"[bold]{name}[/bold]  {value}")


class _TrainingProgress:
    """A progress bar over every mini-batch of the run, then the per-epoch table."""

    def __init__(self, out: Console):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.out = out
        self.progress = Progress(TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("loss {task.fields[loss]}"), TimeRemainingColumn(), console=out,
                                 transient=True)
        self.task = None
        self.records = []

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        self.progress.__exit__(*exc)
        if self.records:
            self.out.print(self._table())
        return False

    def batch(self, epoch: int, index: int, batches: int, loss: float) -> None:
        if self.task is None:
            self.task = self.progress.add_task("train", total=None, epoch=epoch, loss="")
        self.progress.update(self.task, advance=1, epoch=epoch, loss=f"{loss:.4f}")

    def epoch(self, record) -> None:
        self.records.append(record)

    def _table(self) -> Table:
        validation = any(r.validation_loss is not None for r in self.records)
        accuracy = any(r.validation_accuracy is not None for r in self.records)
        table = Table(show_edge=False)
        for column in ["epoch", "loss (last batch)", "mean loss"] + (["validation loss"] if validation else []) + (
                ["validation accuracy"] if accuracy else []):
            table.add_column(column, justify="right")
        for r in self.records:
            row = [str(r.epoch), f"{r.loss:.4f}", f"{r.mean_loss:.4f}"]
            if validation:
                row.append(f"{r.validation_loss:.4f}")
            if accuracy:
                row.append(f"{100 * r.validation_accuracy:.1f} %")
            table.add_row(*row)
        return table


def training_progress(out: Console) -> _TrainingProgress:
    return _TrainingProgress(out)


def print_contract(contract: dict, out: Console) -> None:
    """``mlsurgery contract``: the training inputs and every MLParameterKey of an updatable model."""
    stage = contract["updatable_model"]
    trained = (f"Core ML trains its {stage['type']} ({stage['where']}, parameters scoped to {stage['scope']!r})"
               if stage["where"] else "Core ML trains the model itself")
    out.print(Text.assemble((contract["path"] or "model", "bold"), f"  {contract['model_type']}: {trained}"))
    inputs = Table(title="training inputs (one MLFeatureProvider per example)", title_justify="left",
                   show_edge=False)
    for column in ("name", "role", "model type", "Swift"):
        inputs.add_column(column)
    for feature in contract["training_inputs"]:
        inputs.add_row(feature["name"], feature["role"], feature_type_label(feature["type"]),
                       _swift_label(feature["swift"]))
    out.print(inputs)
    parameters = Table(title="MLParameterKey (MLModelConfiguration.parameters)", title_justify="left",
                       show_edge=False)
    for column, justify in (("key", "left"), ("Swift type", "left"), ("default", "right"), ("allowed", "left")):
        parameters.add_column(column, justify=justify)
    for key, parameter in contract["parameters"].items():
        parameters.add_row(f".{key}", parameter["swift_type"], _value(parameter["default"]),
                           allowed_text(parameter, prose=True))
    out.print(parameters)
    for loss in contract["losses"]:
        out.print(f"loss: {loss['name']} ({loss['type']}) on {loss['input']!r}, target {loss['target']!r}")
    if contract["updatable_layers"]:
        out.print(f"updatable layers: {', '.join(contract['updatable_layers'])}")


def _swift_label(swift: dict) -> str:
    if swift["type"] == "CVPixelBuffer":
        return f"CVPixelBuffer {swift['width']}×{swift['height']} {swift['pixel_format']}"
    if swift["type"] == "MLMultiArray":
        return f"MLMultiArray {swift['shape']} .{swift['data_type']}"
    return swift["type"]


def _value(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def print_recipe_outcome(outcome, out: Console) -> None:
    """What one step of ``mlsurgery apply`` changed, or the verdict of its save."""
    step = outcome.step
    heading = f"step {step.number} · {step.operation}"
    if outcome.saved is not None:
        print_findings(outcome.saved.report, out, path=f"{heading} {outcome.saved.path}")
        return
    if not len(outcome.changes):
        out.print(f"{heading}: no change")
        return
    table = Table(title=heading, title_justify="left", show_edge=False)
    table.add_column("target")
    table.add_column("change")
    for change in outcome.changes:
        table.add_row(change.target, change.detail)
    out.print(table)


def print_recipe_summary(recipe, outcomes, dry_run: bool, out: Console) -> None:
    """One row per step of ``mlsurgery apply``: its changes, the file it saved and that file's verdict."""
    saves = [outcome.saved for outcome in outcomes if outcome.saved is not None]
    title = (f"{recipe.path}: dry run, {len(saves)} model(s) checked, nothing written" if dry_run else
             f"{recipe.path}: {len(outcomes)} step(s), {len(saves)} model(s) written")
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("step", justify="right")
    table.add_column("operation")
    table.add_column("changes", justify="right")
    table.add_column("saved file")
    table.add_column("verdict")
    for outcome in outcomes:
        saved = outcome.saved
        if saved is None:
            table.add_row(str(outcome.step.number), outcome.step.operation, str(len(outcome.changes)), "", "")
            continue
        verdict = "valid" if saved.report.valid else "[red]invalid (force)[/red]"
        shown = str(saved.path) if saved.written else f"{saved.path} (not written)"
        table.add_row(str(outcome.step.number), outcome.step.operation, "—", shown, verdict)
    out.print(table)


def rule_dict(rule) -> dict:
    """A rule as ``mlsurgery rules --format json`` lists it."""
    return {"code": rule.code, "name": rule.name, "severity": rule.severity, "summary": rule.summary,
            "explanation": rule.explanation, "fix": rule.fix, "upstream": rule.upstream}


def print_rules(rules, out: Console) -> None:
    """``mlsurgery rules``: one row per rule."""
    table = Table(show_edge=False)
    for column in ("code", "name", "severity", "summary", "upstream"):
        table.add_column(column, overflow="fold")
    for rule in rules:
        table.add_row(rule.code, rule.name, rule.severity, rule.summary, rule.upstream)
    out.print(table)


def print_rule(rule, out: Console) -> None:
    """``mlsurgery rules explain``: everything about one rule."""
    out.print(Text.assemble((f"{rule.code} {rule.name}", "bold"), f" ({rule.severity})"))
    for label, value in (("summary", rule.summary), ("explanation", rule.explanation), ("fix", rule.fix),
                         ("upstream", rule.upstream)):
        out.print(Text.assemble((f"{label}: ", "bold"), value))


def print_validation(results, strict: bool, out: Console) -> None:
    """``mlsurgery validate``: every file's findings, then a one-line summary."""
    for result in results:
        if result.error is not None:
            out.print(Text.assemble((f"{result.path}: ", "bold"), ("cannot load", "red bold"), f": {result.error}"))
        else:
            print_findings(result.report, out, path=result.path)
    invalid = sum(not result.valid for result in results if result.error is None)
    unloadable = sum(result.error is not None for result in results)
    warned = sum(bool(result.report.warnings) for result in results if result.error is None)
    summary = f"{len(results)} model(s): {invalid} invalid, {unloadable} unloadable, {warned} with warnings"
    if strict and warned:
        summary += " (--strict: warnings fail the run)"
    out.print(Text(summary, "bold"))
