"""The picture as Graphviz input: nodes, edges and clusters for a model, and the text each box shows on hover.

``build_scene(spec, name)`` returns a ``Scene``: the main graph (pipelines as one cluster per stage, folded runs as
single boxes) and, for each fold, the graph of what it hides. ``render.py`` turns them into SVG with ``dot``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..coreml import NETWORK_KINDS
from ..network import Layer, LayerGraph, NetworkLocation, pipeline_stages, weight_count, weight_storage
from .roles import BLOCKING, FROZEN, TRAINABLE, UPDATABLE, NetworkRoles, fold_runs, network_roles

# Fill, border and text colours of each role; the HTML legend and the SVG's own legend use the same table.
ROLE_STYLE = {
    UPDATABLE: ("#c8e6c9", "#2e7d32", "updatable"),
    TRAINABLE: ("#e3f2fd", "#1565c0", "can be trained"),
    FROZEN: ("#eceff1", "#90a4ae", "frozen"),
    BLOCKING: ("#ffcdd2", "#c62828", "blocks gradients"),
}
ROUTE_COLOUR = "#ef6c00"
_WEIGHT_PARAMS = "CoreML.Specification.WeightParams"


@dataclass
class Node:
    id: str
    label: str  # a Graphviz HTML-like label (without the outer <>)
    tooltip: str
    attributes: dict[str, str]  # Graphviz attributes besides label/id
    data: dict[str, str]  # data-* attributes of the rendered SVG group


@dataclass
class Graph:
    """One Graphviz digraph: nodes (optionally inside clusters) and edges."""

    name: str
    clusters: list[tuple[str, str, list[Node]]] = field(default_factory=list)  # (id, label, nodes)
    nodes: list[Node] = field(default_factory=list)  # outside any cluster
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def all_nodes(self) -> list[Node]:
        return self.nodes + [node for _, _, nodes in self.clusters for node in nodes]


@dataclass
class Scene:
    title: str
    summary: str
    main: Graph
    folds: dict[str, tuple[str, Graph]] = field(default_factory=dict)  # fold id → (title, graph of its layers)
    targets: list[str] = field(default_factory=list)  # node ids of the training inputs that are loss targets


def build_scene(spec, name: str, *, fold: bool = True) -> Scene:
    """The picture of ``spec``; ``fold`` folds long runs of frozen layers (for the interactive page)."""
    kind = spec.WhichOneof("Type")
    main = Graph("model")
    scene = Scene(name, f"{kind}, specification version {spec.specificationVersion}, "
                        f"{'updatable' if spec.isUpdatable else 'not updatable'}", main)
    producers: dict[str, str] = {}
    for position, feature in enumerate(spec.description.input):
        node_id = f"input{position}"
        main.nodes.append(_feature_node(node_id, feature, "model input"))
        producers[feature.name] = node_id
    # Training inputs that are not prediction inputs are the loss targets (the true label or value).
    inputs = {feature.name for feature in spec.description.input}
    for position, feature in enumerate(spec.description.trainingInput):
        if feature.name not in inputs:
            node_id = f"target{position}"
            main.nodes.append(_feature_node(node_id, feature, "training input"))
            producers[feature.name] = node_id
            scene.targets.append(node_id)
    if kind in NETWORK_KINDS:
        _add_network(scene, NetworkLocation(spec, kind), "s0", producers, trains=True, cluster=None, fold=fold)
    elif pipeline_stages(spec):
        _add_stages(scene, spec, producers, prefix="s", where=(), fold=fold)
    else:  # a model of another type (GLM, tree ensemble, k-NN, …) is one box
        _add_model_box(scene, spec, "s0", kind, producers, trains=spec.isUpdatable)
    for position, feature in enumerate(spec.description.output):
        node_id = f"output{position}"
        main.nodes.append(_feature_node(node_id, feature, "model output"))
        if feature.name in producers:
            main.edges.append((producers[feature.name], node_id, {}))
    return scene


def _add_stages(scene: Scene, model, producers: dict[str, str], prefix: str, where: tuple[int, ...],
                fold: bool) -> None:
    stages = pipeline_stages(model)
    for index, stage in enumerate(stages):
        stage_id = f"{prefix}{index}"
        position = where + (index,)
        trains = model.isUpdatable and index == len(stages) - 1
        kind = stage.WhichOneof("Type")
        label = " › ".join(f"stage {i + 1}" for i in position) + f": {kind}"
        if kind in NETWORK_KINDS:
            _add_network(scene, NetworkLocation(stage, kind, position), stage_id, producers, trains=trains,
                         cluster=label, fold=fold)
        elif pipeline_stages(stage):
            _add_stages(scene, stage, producers, prefix=f"{stage_id}_", where=position, fold=fold)
        else:
            _add_model_box(scene, stage, stage_id, label, producers, trains=trains)


def _add_model_box(scene: Scene, model, node_id: str, label: str, producers: dict[str, str], *,
                   trains: bool) -> None:
    scene.main.nodes.append(_model_stage_node(node_id, model, label, trains))
    for feature in model.description.input:
        if feature.name in producers:
            scene.main.edges.append((producers[feature.name], node_id, {}))
    if trains:  # a trained k-NN stores each example's features with its label
        scene.main.edges.extend((target, node_id, {"style": "dashed", "color": "#f9a825"})
                                for target in scene.targets)
    for feature in model.description.output:
        producers[feature.name] = node_id


def _add_network(scene: Scene, location: NetworkLocation, stage_id: str, producers: dict[str, str], *,
                 trains: bool, cluster: str | None, fold: bool) -> None:
    graph = LayerGraph(location)
    roles = network_roles(graph, trains=trains)
    runs = fold_runs(graph, roles) if fold else []
    node_of: dict[int, str] = {layer.index: f"{stage_id}l{layer.index}" for layer in graph.layers}
    nodes: list[Node] = []
    folded: set[int] = set()
    for number, run in enumerate(runs):
        fold_id = f"{stage_id}f{number}"
        for layer in run:
            node_of[layer.index] = fold_id
            folded.add(layer.index)
        nodes.append(_fold_node(fold_id, run))
        scene.folds[fold_id] = (f"{len(run)} frozen layers: {run[0].name} … {run[-1].name}",
                                _fold_graph(fold_id, graph, run, roles, stage_id))
    position_of_fold = {run[0].index: nodes[number] for number, run in enumerate(runs)}
    ordered: list[Node] = []
    for layer in graph.layers:
        if layer.index in position_of_fold:
            ordered.append(position_of_fold[layer.index])
        if layer.index not in folded:
            ordered.append(_layer_node(node_of[layer.index], layer, roles, stage_id))
    edges = scene.main.edges
    seen: set[tuple[str, str]] = set()

    def connect(source: str, target: str, attributes: dict[str, str]) -> None:
        if source != target and (source, target) not in seen:
            seen.add((source, target))
            edges.append((source, target, attributes))

    for layer in graph.layers:
        for blob in layer.inputs:
            producer = _producer_before(graph, blob, layer)
            if producer is None:
                if blob in producers:
                    connect(producers[blob], node_of[layer.index], {})
                continue
            connect(node_of[producer.index], node_of[layer.index], _edge_style(roles, producer.index, layer.index))
    for position, loss in enumerate(roles.losses):
        loss_id = f"{stage_id}loss{position}"
        ordered.append(_loss_node(loss_id, loss, roles.proposed_loss))
        producer = graph.blob_producer.get(loss.input)
        if producer is not None:
            connect(node_of[producer.index], loss_id, _edge_style(roles, producer.index, loss.name))
        if not roles.proposed_loss:
            for target in _loss_targets(location, loss):
                if target in producers:
                    connect(producers[target], loss_id, {"style": "dashed", "color": "#f9a825"})
    probabilities = graph.probabilities_blob()
    for feature in location.model.description.output:
        # A classifier's predicted label is not a blob: Core ML derives it from the probabilities.
        blob = probabilities if feature.name == location.model.description.predictedFeatureName and \
            graph.is_classifier else feature.name
        producer = graph.blob_producer.get(blob)
        if producer is not None:
            producers[feature.name] = node_of[producer.index]
    if cluster is None:
        scene.main.nodes.extend(ordered)
    else:
        scene.main.clusters.append((f"cluster_{stage_id}", f"{cluster} · {len(graph.layers)} layers", ordered))


def _loss_targets(location: NetworkLocation, loss) -> list[str]:
    """The training inputs a loss compares with: its target, and for a classifier's cross-entropy the
    predicted-feature name, which Core ML maps to the target itself (NeuralNetwork.proto, CategoricalCrossEntropy)."""
    targets = [loss.target] if loss.target else []
    predicted = location.model.description.predictedFeatureName
    if location.kind == "neuralNetworkClassifier" and predicted:
        targets.append(predicted)
    return targets


def _producer_before(graph: LayerGraph, blob: str, layer: Layer) -> Layer | None:
    """The layer that last wrote ``blob`` before ``layer`` (how Core ML resolves a blob name)."""
    return next((producer for producer in layer.producers if blob in producer.outputs), None)


def _edge_style(roles: NetworkRoles, producer: int, consumer: int | str) -> dict[str, str]:
    if (producer, consumer) in roles.route_edges:
        return {"color": ROUTE_COLOUR, "penwidth": "2.4", "class": "route", "arrowsize": "0.8"}
    if (producer, consumer) in roles.blocked_edges:
        return {"color": ROLE_STYLE[BLOCKING][1], "penwidth": "2", "style": "dashed", "class": "blocked",
                "xlabel": "gradients stop", "fontcolor": ROLE_STYLE[BLOCKING][1], "fontsize": "9"}
    return {}


def short(name: str, limit: int = 34) -> str:
    """``name`` shortened in the middle for a box label (the hover text keeps it whole)."""
    if len(name) <= limit:
        return name
    keep = (limit - 1) // 2
    return f"{name[:keep]}…{name[-(limit - 1 - keep):]}"


def escape(text: str) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", " "))


def _rows(*rows: str) -> str:
    cells = "".join(f"<tr><td>{content}</td></tr>" for content in rows if content)
    return f'<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{cells}</table>'


def _layer_node(node_id: str, layer: Layer, roles: NetworkRoles, stage_id: str) -> Node:
    role = roles.role[layer.index]
    fill, border, role_text = ROLE_STYLE[role]
    storage = layer.storage
    weights_line = f"{storage} · {layer.parameter_count:,} weights" if storage != "none" else ""
    rows = [f"<b>{escape(short(layer.name))}</b>", f'<font point-size="9">{escape(_shape_text(layer))}</font>',
            f'<font point-size="9" color="#455a64">{escape(weights_line)}</font>' if weights_line else ""]
    if role in (UPDATABLE, TRAINABLE, BLOCKING):
        rows.append(f'<font point-size="9" color="{border}"><b>{escape(role_text.upper())}</b></font>')
    attributes = {"fillcolor": fill, "color": border, "penwidth": "2.2" if role in (UPDATABLE, BLOCKING) else "1",
                  "style": "rounded,filled" + (",dashed" if role == TRAINABLE else ""),
                  "class": f"layer role-{role}" + (" route" if layer.index in roles.route else "")}
    return Node(node_id, _rows(*rows), layer_tooltip(layer, role_text, roles.reason[layer.index]), attributes,
                {"layer": layer.name, "role": role, "kind": layer.type_label, "storage": storage,
                 "stage": stage_id, "route": "true" if layer.index in roles.route else "false"})


def _fold_node(fold_id: str, run: list[Layer]) -> Node:
    weights = sum(layer.parameter_count for layer in run)
    storages = sorted({layer.storage for layer in run} - {"none"})
    kinds: dict[str, int] = {}
    for layer in run:
        kinds[layer.kind] = kinds.get(layer.kind, 0) + 1
    kind_text = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items(), key=lambda item: -item[1])[:3])
    rows = [f"<b>▸ {len(run)} frozen layers</b>",
            f'<font point-size="9">{escape(short(run[0].name, 28))} … {escape(short(run[-1].name, 28))}</font>',
            f'<font point-size="9" color="#455a64">{escape(kind_text)}</font>',
            (f'<font point-size="9" color="#455a64">{escape("+".join(storages) or "no weights")} · '
             f"{weights:,} weights</font>"),
            '<font point-size="8" color="#607d8b">click to open</font>']
    tooltip = f"{len(run)} frozen layers folded ({kind_text}); click to open\n" + "\n".join(
        layer.name for layer in run[:12]) + ("\n…" if len(run) > 12 else "")
    fill = ROLE_STYLE[FROZEN][0]
    return Node(fold_id, _rows(*rows), tooltip,
                {"fillcolor": fill, "color": "#607d8b", "penwidth": "1.6", "style": "rounded,filled,bold",
                 "class": "fold"},
                {"fold": fold_id, "count": str(len(run)), "role": "folded",
                 "layers": "\u001f".join(layer.name for layer in run)})


def _fold_graph(fold_id: str, graph: LayerGraph, run: list[Layer], roles: NetworkRoles, stage_id: str) -> Graph:
    """The layers a fold hides, with the blobs that enter and leave it as small labels."""
    inside = {layer.index for layer in run}
    fold = Graph(fold_id)
    for layer in run:
        fold.nodes.append(_layer_node(f"{stage_id}l{layer.index}", layer, roles, stage_id))
    entering: dict[str, str] = {}
    for layer in run:
        for blob in layer.inputs:
            producer = _producer_before(graph, blob, layer)
            if producer is not None and producer.index in inside:
                fold.edges.append((f"{stage_id}l{producer.index}", f"{stage_id}l{layer.index}", {}))
                continue
            if blob not in entering:
                entering[blob] = f"{fold_id}in{len(entering)}"
                fold.nodes.append(_blob_node(entering[blob], blob, "enters"))
            fold.edges.append((entering[blob], f"{stage_id}l{layer.index}", {"style": "dashed"}))
    leaving = 0
    for layer in run:
        if any(consumer.index not in inside for consumer in layer.consumers):
            node_id = f"{fold_id}out{leaving}"
            leaving += 1
            fold.nodes.append(_blob_node(node_id, ", ".join(layer.outputs), "leaves"))
            fold.edges.append((f"{stage_id}l{layer.index}", node_id, {"style": "dashed"}))
    return fold


def _blob_node(node_id: str, blob: str, direction: str) -> Node:
    return Node(node_id, _rows(f'<font point-size="9" color="#607d8b">{escape(blob)}</font>'),
                f"blob {blob} {direction} the folded run",
                {"shape": "note", "style": "filled", "fillcolor": "#ffffff", "color": "#b0bec5", "class": "blob"},
                {"blob": blob})


def _loss_node(loss_id: str, loss, proposed: bool) -> Node:
    kind = loss.kind.value if loss.kind else "unknown"
    title = "proposed loss (make-updatable's default)" if proposed else f"loss: {loss.name}"
    rows = [f"<b>{escape(title)}</b>", f'<font point-size="9">{escape(kind)} on {escape(short(loss.input))}</font>']
    if loss.target:
        rows.append(f'<font point-size="9" color="#455a64">target: {escape(short(loss.target))}</font>')
    tooltip = (f"{title}\n{kind} on blob {loss.input}" + (f", target {loss.target}" if loss.target else "") +
               "\nCore ML backpropagates from here along the orange route")
    return Node(loss_id, _rows(*rows), tooltip,
                {"fillcolor": "#fff3e0", "color": ROUTE_COLOUR, "penwidth": "2.2",
                 "style": "rounded,filled" + (",dashed" if proposed else ""), "class": "loss"},
                {"loss": "proposed" if proposed else loss.name})


def _feature_node(node_id: str, feature, what: str) -> Node:
    from ..inspection import feature_type, feature_type_label

    type_text = feature_type_label(feature_type(feature.type))
    rows = [f"<b>{escape(short(feature.name))}</b>", f'<font point-size="9">{escape(type_text)}</font>',
            f'<font point-size="8" color="#8d6e63">{escape(what)}</font>']
    return Node(node_id, _rows(*rows), f"{what} {feature.name}: {type_text}",
                {"shape": "box", "style": "rounded,filled", "fillcolor": "#fffde7", "color": "#f9a825",
                 "class": "feature"},
                {"feature": feature.name, "direction": what})


def _model_stage_node(stage_id: str, stage, label: str, trains: bool) -> Node:
    kind = stage.WhichOneof("Type")
    detail = ""
    if kind == "kNearestNeighborsClassifier":
        knn = stage.kNearestNeighborsClassifier
        detail = (f"k = {knn.numberOfNeighbors.defaultValue} · {knn.nearestNeighborsIndex.numberOfDimensions} "
                  f"dimensions · {len(knn.nearestNeighborsIndex.floatSamples)} samples")
    role = UPDATABLE if trains and stage.isUpdatable else FROZEN
    fill, border, role_text = ROLE_STYLE[role]
    rows = [f"<b>{escape(label)}</b>", f'<font point-size="9">{escape(detail)}</font>' if detail else "",
            f'<font point-size="9" color="{border}"><b>{escape(role_text.upper())}</b></font>']
    return Node(stage_id, _rows(*rows), f"{label}\n{detail}\n{role_text}",
                {"fillcolor": fill, "color": border, "penwidth": "2.2", "style": "rounded,filled",
                 "class": f"stage role-{role}"},
                {"stage-model": kind, "role": role})


def _shape_text(layer: Layer) -> str:
    params = layer.params
    if layer.kind == "convolution":
        kernel = "×".join(map(str, params.kernelSize)) or "?"
        stride = "×".join(map(str, params.stride))
        return f"convolution {kernel}" + (f"/{stride}" if stride and set(params.stride) != {1} else "") + \
            f" → {params.outputChannels} ch"
    if layer.kind == "innerProduct":
        return f"innerProduct {params.inputChannels} → {params.outputChannels}"
    if layer.kind == "pooling":
        return f"pooling {params.PoolingType.Name(params.type).lower()}" + (" global" if params.globalPooling else "")
    return layer.type_label


def layer_tooltip(layer: Layer, role_text: str, reason: str) -> str:
    lines = [f"{layer.name} ({layer.type_label})", f"{role_text}: {reason}",
             f"inputs: {', '.join(layer.inputs) or '-'}", f"outputs: {', '.join(layer.outputs) or '-'}"]
    for path, weights in layer.weights:
        lines.append(f"{path}: {weight_storage(weights)}, {weight_count(weights):,} values")
    settings = layer_settings(layer.params) if layer.params is not None else []
    if settings:
        lines.append("parameters: " + "; ".join(settings))
    return "\n".join(lines)


def layer_settings(message, prefix: str = "", depth: int = 0) -> list[str]:
    """The layer's settings (everything but its weights) as ``name: value`` texts, nested messages flattened."""
    found: list[str] = []
    for descriptor, value in message.ListFields():
        name = f"{prefix}{descriptor.name}"
        repeated = descriptor.is_repeated
        if descriptor.message_type is not None:
            if descriptor.message_type.full_name == _WEIGHT_PARAMS:
                continue
            if descriptor.message_type.GetOptions().map_entry:
                found.append(f"{name}: {len(value)} entries")
                continue
            items = list(value) if repeated else [value]
            for item in items[:3]:
                inner = layer_settings(item, f"{name}.", depth + 1) if depth < 2 else []
                found.extend(inner or [name])
            continue
        if descriptor.enum_type is not None:
            names = descriptor.enum_type.values_by_number
            text = ", ".join(names[v].name if v in names else str(v) for v in (value if repeated else [value]))
        elif repeated:
            text = "[" + ", ".join(map(str, list(value)[:8])) + (", …" if len(value) > 8 else "") + "]"
        elif isinstance(value, bytes):
            text = f"{len(value)} bytes"
        else:
            text = str(value)
        found.append(f"{name}: {text}")
    return found[:16]
