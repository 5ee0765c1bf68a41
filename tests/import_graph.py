"""The floor plan's rules, checked on the source: every ``import`` of the tree read with ``ast``
(nothing is imported or run), resolved to the tree's own modules or to an outside package, and
held against the tables below. ``violations(root)`` lists each broken rule as one line naming
the file, the line and the rule's reason; ``tests/test_layout.py`` runs it over this repository
and over small planted trees.

Every import counts, wherever it stands (top of a module, inside a function, under
``TYPE_CHECKING``): a lazy import still ships, and still ties the two modules together.
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FOLDERS = ("shared", "functions", "tooling", "doubles", "tests")
SHIPPED = ("shared", "functions")  # what `make deploy` stages into every function

# (who imports, what it may not import, why). Matched on whole dotted prefixes.
FORBIDDEN: tuple[tuple[str, str, str], ...] = (
    ("shared", "functions", "shared/ is the library the entry points call, never the reverse"),
    ("shared", "tooling", "tooling/ is not deployed: the import fails in production"),
    ("shared", "doubles", "doubles/ are test infrastructure: not deployed"),
    ("shared", "tests", "tests/ are not deployed"),
    ("functions", "functions", "each function deploys alone: another function is not there"),
    ("functions", "tooling", "tooling/ is not deployed: the import fails in production"),
    ("functions", "doubles", "doubles/ are test infrastructure: not deployed"),
    ("functions", "tests", "tests/ are not deployed"),
)

# Outside packages that reach a cloud or the network: what only an adapter may import.
OUTSIDE = {
    "google": "Google Cloud clients",
    "google_crc32c": "Cloud KMS's checksums",
    "stripe": "the Stripe SDK",
    "hubspot": "the HubSpot SDK",
    "requests": "an HTTP client",
    "urllib3": "an HTTP client",
    "httpx": "an HTTP client",
    "urllib.request": "an HTTP client",
    "http.client": "an HTTP client",
}

# The adapters: the only shipped modules that may import OUTSIDE packages, and which ones.
ADAPTERS: dict[str, tuple[tuple[str, ...], str]] = {
    "shared.store.firestore": (("google",), "the Store port on Firestore"),
    "shared.queue.pubsub": (("google",), "the Waker port on Pub/Sub"),
    "shared.queue.topic": (("google",), "publishing a job message on Pub/Sub"),
    "shared.queue.pull": (("google",), "pulling the dead letters' subscription on Pub/Sub"),
    "shared.crypto.cloud_kms": (
        ("google", "google_crc32c", "requests"),
        "the key service on Cloud KMS (REST transport: its errors are requests')",
    ),
    "shared.stripe_gateway": (("stripe",), "every call to Stripe, and its one error translation"),
    "shared.hubspot.gateway": (("hubspot", "urllib3"), "every CRM call to HubSpot"),
    "shared.hubspot.calls": (("urllib3",), "the paced HTTP calls the SDK's batch API lacks"),
    "shared.hubspot.associations": (("hubspot",), "HubSpot's batch association calls (v4)"),
    "shared.oauth.hubspot_tokens": (("hubspot", "urllib3"), "HubSpot's OAuth token endpoints"),
    "shared.wiring": (("google",), "the composition root: builds each Google client once"),
}

# The pure core: neither it nor anything it imports (all the way down) touches the outside,
# a store or an adapter; it takes objects in and gives operations out.
PURE = ("shared.mapping", "shared.billing")
STORE = "shared.store"


@dataclass(frozen=True)
class Edge:
    source: str  # the importing module, dotted
    target: str  # a module of the tree, or the outside name as written
    path: str  # the importing file, relative to the root
    line: int


def module_name(relative: Path) -> str:
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    """Every module of the five top folders, by dotted name."""
    found: dict[str, Path] = {}
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root)
            if ".venv" not in relative.parts:
                found[module_name(relative)] = relative
    return found


def _is_package(known: dict[str, Path], name: str) -> bool:
    return name in known and known[name].name == "__init__.py"


def _resolve(known: dict[str, Path], source: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = source.split(".")
    if not _is_package(known, source):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def edges(root: Path) -> list[Edge]:
    known = modules(root)
    out: list[Edge] = []
    for source, relative in known.items():
        tree = ast.parse((root / relative).read_text(), str(relative))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(known, source, node)
                # ``from package import module`` imports the module; ``from module import name``
                # imports the module.
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                    for alias in node.names
                ]
            else:
                continue
            out += [Edge(source, t, str(relative), node.lineno) for t in dict.fromkeys(targets)]
    return out


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _outside(target: str) -> str | None:
    return next((name for name in OUTSIDE if _under(target, name)), None)


def _layers(graph: list[Edge]) -> Iterator[str]:
    for edge in graph:
        for importer, forbidden, why in FORBIDDEN:
            if _under(edge.source, importer) and _under(edge.target, forbidden):
                yield f"{edge.path}:{edge.line}: {edge.source} imports {edge.target}: {why}"


def _sdks(graph: list[Edge]) -> Iterator[str]:
    for edge in graph:
        name = _outside(edge.target)
        if name is None or not any(_under(edge.source, f) for f in SHIPPED):
            continue
        allowed, _ = ADAPTERS.get(edge.source, ((), ""))
        if name not in allowed:
            yield (
                f"{edge.path}:{edge.line}: {edge.source} imports {edge.target}: only the "
                f"adapters in ADAPTERS may import {OUTSIDE[name]}"
            )


def _pure(graph: list[Edge]) -> Iterator[str]:
    """Walk everything each pure module reaches; name the first chain to a forbidden import."""
    by_source: dict[str, list[Edge]] = {}
    for edge in graph:
        by_source.setdefault(edge.source, []).append(edge)
    for start in sorted({e.source for e in graph if any(_under(e.source, p) for p in PURE)}):
        chain: dict[str, list[str]] = {start: [start]}
        queue = [start]
        while queue:
            current = queue.pop(0)
            for edge in by_source.get(current, []):
                why = _impure(edge.target)
                if why:
                    path = " -> ".join([*chain[current], edge.target])
                    yield f"{start}: the pure core reaches {why}: {path}"
                elif _under(edge.target, "shared") and edge.target not in chain:
                    chain[edge.target] = [*chain[current], edge.target]
                    queue.append(edge.target)


def _impure(target: str) -> str:
    name = _outside(target)
    if name:
        return OUTSIDE[name]
    if _under(target, STORE):
        return "a store"
    if target in ADAPTERS:
        return "an adapter"
    return ""


def _loops(graph: list[Edge], known: dict[str, Path]) -> Iterator[str]:
    """Strongly connected groups of shared/ modules (Tarjan). Importing ``a.b.c`` runs the
    packages ``a.b`` and ``a`` first, so those count as imported too."""
    nodes = {name for name in known if _under(name, "shared")}
    links: dict[str, set[str]] = {name: set() for name in nodes}
    for edge in graph:
        if edge.source not in nodes or edge.target not in nodes:
            continue
        parts = edge.target.split(".")
        for size in range(1, len(parts) + 1):
            target = ".".join(parts[:size])
            if target in nodes and not _under(edge.source, target) and target != edge.source:
                links[edge.source].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(links[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    for group in sorted(groups):
        yield f"import loop among {', '.join(group)}"


def violations(root: Path) -> list[str]:
    graph = edges(root)
    return [
        *_layers(graph),
        *_sdks(graph),
        *_pure(graph),
        *_loops(graph, modules(root)),
    ]
