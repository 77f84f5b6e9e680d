"""The package's import graph points down a fixed layer order (issue 17).

The graph is read with :mod:`ast` from every file of ``src/talkinghead`` (nothing is
imported); module-level and function-level imports both count, relative imports are
resolved, ``from pkg import sub`` counts as an import of the submodule ``pkg.sub``.

The layer order, lowest first (a module may import its own layer or any layer below):

0. ``_util``, ``errors``, ``data``  -- helpers with no talking-head knowledge, shipped assets
1. ``audio``, ``video``, ``face``   -- signals and face geometry
2. ``models``                       -- animators: speech -> face parameters
3. ``render``, ``export``           -- face parameters -> pixels / files
4. ``corpora``, ``recipes``, ``training``, ``evaluate`` -- data sets, papers, fitting, scoring
5. ``inference``, ``pipeline``, ``pipelines``, ``personalize``, ``streaming``, ``serve``, ``study``
                                    -- end-to-end entry points
6. ``cli``, ``__main__``, every ``*commands`` module -- argument parsing only
   (the package root ``talkinghead/__init__.py`` is the public facade and also sits here:
   it names entry points lazily)

Asserted: no import cycle between modules, nor between packages (so inside layer 4 the
order is ``corpora -> training -> recipes -> evaluate``); no import pointing up the order;
no private name (``_x``, a private module or a private attribute) imported from another package
(``_util`` is the package-wide helper package and may be imported anywhere).

``ALLOWED`` lists today's violations, one edge each with the reason; it only shrinks.
Every entry must still exist, so a fixed violation must also be removed from the list.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = "talkinghead"

LAYERS: list[set[str]] = [
    {"_util", "errors", "data"},
    {"audio", "video", "face"},
    {"models"},
    {"render", "export"},
    {"corpora", "recipes", "training", "evaluate"},
    {"inference", "pipeline", "pipelines", "personalize", "streaming", "serve", "study"},
    {"cli", "__main__", ""},
]
CLI_LAYER = len(LAYERS) - 1
#: Modules run as programs (``torchrun -m``); they sit with the CLI.
ENTRY_POINTS = {"talkinghead.training.ddp_entry"}

# "importer -> imported" (below talkinghead.): why it is still there.  Shrinks; never add to it.
_ALLOWED: dict[str, str] = {
    # (empty: every violation is fixed; a new one must be fixed, not listed)
}
ALLOWED = {tuple(f"{PKG}.{m}" for m in edge.split(" -> ")): why for edge, why in _ALLOWED.items()}


def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in sorted((SRC / PKG).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_pkg)
    return out


def _imports(mods) -> dict[str, list[tuple[str, str | None, int]]]:
    """importer -> [(imported module, imported attribute or None, line)].

    An attribute read off an imported module (``import talkinghead.a.b as m`` or
    ``from talkinghead.a import b``, then ``m.x`` / ``b.x`` or ``getattr(m, "x")``) counts as
    importing that attribute, so ``m._private`` is caught like ``from ... import _private``.
    """
    edges = {}
    for name, (path, is_pkg) in mods.items():
        here = name.split(".") if is_pkg else name.split(".")[:-1]
        found = []
        tree = ast.parse(path.read_text(), str(path))
        bound: dict[str, str] = {}  # local name -> the module it names
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [
                    (a.name, None, node.lineno) for a in node.names if a.name.split(".")[0] == PKG
                ]
                bound.update({a.asname: a.name for a in node.names
                              if a.asname and a.name.split(".")[0] == PKG})  # fmt: skip
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[: len(here) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != PKG:
                    continue
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    found.append(
                        (sub, None, node.lineno) if sub in mods else (target, a.name, node.lineno)
                    )
                    if sub in mods:
                        bound[a.asname or a.name] = sub
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                obj, attr = node.value, node.attr
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                obj, attr = node.args[0], node.args[1].value
            else:
                continue
            if isinstance(obj, ast.Name) and obj.id in bound:
                module = bound[obj.id]
                sub = f"{module}.{attr}"
                found.append(
                    (sub, None, node.lineno) if sub in mods else (module, attr, node.lineno)
                )
        edges[name] = found
    return edges


def _layer(module: str) -> int:
    parts = module.split(".")
    if parts[-1].endswith("commands") or module in ENTRY_POINTS:
        return CLI_LAYER
    top = parts[1] if len(parts) > 1 else ""
    for i, members in enumerate(LAYERS):
        if top in members:
            return i
    raise AssertionError(f"module={module} is in no layer: add it to LAYERS (and the README)")


def _package(module: str, mods) -> str:
    return module if mods[module][1] else module.rpartition(".")[0]


def _private(imported: str, attr: str | None) -> bool:
    parts = imported.split(".")[1:] + ([attr] if attr else [])
    return any(p.startswith("_") and not p.startswith("__") and p != "_util" for p in parts)


@functools.cache
def _violations():
    mods = _modules()
    edges = _imports(mods)
    upward, private, graph = [], [], {m: set() for m in mods}
    for importer, found in edges.items():
        for imported, attr, line in found:
            assert imported in mods, f"{importer}:{line} imports {imported}, which does not exist"
            if imported == importer:
                continue
            key = (importer, imported)
            if key in ALLOWED:
                continue
            graph[importer].add(imported)
            up = (
                f"{importer}:{line} -> {imported} (layers {_layer(importer)} -> {_layer(imported)})"
            )
            if _layer(imported) > _layer(importer) and up not in upward:
                upward.append(up)
            if _private(imported, attr) and _package(imported, mods) != _package(importer, mods):
                private.append(f"{importer}:{line} -> {imported}{'.' + attr if attr else ''}")
    packages = {}
    for importer, targets in graph.items():
        for imported in targets:
            a, b = _top(importer), _top(imported)
            packages.setdefault(a, set())
            packages.setdefault(b, set())
            if a != b:
                packages[a].add(b)
    return mods, edges, upward, private, _cycles(graph), _cycles(packages)


def _top(module: str) -> str:
    """The module's top-level package; every CLI-layer module counts as ``cli``."""
    parts = module.split(".")
    if _layer(module) == CLI_LAYER:
        return "cli"
    return parts[1] if len(parts) > 1 else ""


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_cycle():
    *_, cycles, _ = _violations()
    assert not cycles, "import cycles (break one edge of each):\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def test_no_cycle_between_packages():
    *_, cycles = _violations()
    assert not cycles, "packages importing each other:\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def test_imports_point_down_the_layers():
    _, _, upward, *_ = _violations()
    assert not upward, "imports pointing up the layer order:\n" + "\n".join(upward)


def test_no_private_name_imported_across_packages():
    _, _, _, private, *_ = _violations()
    assert not private, "private names imported from another package:\n" + "\n".join(private)


def test_allow_list_only_shrinks():
    mods, edges, *_ = _violations()
    present = {(a, b) for a, found in edges.items() for b, _, _ in found}
    stale = sorted(set(ALLOWED) - present)
    assert not stale, f"fixed violations still in ALLOWED (remove them): {stale}"


def test_every_module_has_a_layer():
    for module in _modules():
        _layer(module)


def test_readme_layout_matches_the_tree():
    """Every file the README's layout names exists, and every package and module is named."""
    import re

    repo = SRC.parent
    section = (
        (repo / "README.md").read_text(encoding="utf-8").split("## Layout: the data flow", 1)[1]
    )
    section = section.split("\n## ", 1)[0]
    files = {p.name for d in (SRC / PKG, repo / "bench", repo / "tests") for p in d.rglob("*.py")}
    missing = sorted(n for n in set(re.findall(r"\b([a-z_0-9]+\.py)\b", section)) if n not in files)
    assert not missing, f"README layout names files that do not exist: {missing}"
    tops = [p.name + ("/" if p.is_dir() else "") for p in (SRC / PKG).iterdir()]
    tops = [t for t in tops if not t.startswith("__") and (t.endswith((".py", "/")))]
    unnamed = sorted(t for t in tops if t not in section)
    assert not unnamed, f"README layout does not name: {unnamed}"
    # ... and every module of the package (a sub-package's __init__.py aside)
    modules = {p.name for p in (SRC / PKG).rglob("*.py")} - {"__init__.py"}
    unnamed = sorted(m for m in modules if not re.search(rf"(?<![\w.]){re.escape(m)}\b", section))
    assert not unnamed, f"README layout does not name the modules: {unnamed}"


# Modules still computing the data folder themselves (none left; never add one).
_OWN_DATA_PATH: set[str] = set()


def test_the_data_folder_is_computed_once():
    """Only ``talkinghead/data/__init__.py`` turns ``__file__`` into the data folder."""
    import re

    found = sorted(
        str(p.relative_to(SRC / PKG))
        for p in (SRC / PKG).rglob("*.py")
        if re.search(r"Path\(__file__\)[^\n]*\n?[^\n]*\"data\"", p.read_text(encoding="utf-8"))
        and p.parent.name != "data"
    )
    assert sorted(set(found) - _OWN_DATA_PATH) == [], "use talkinghead.data's names"
    assert sorted(_OWN_DATA_PATH - set(found)) == [], "fixed: remove them from _OWN_DATA_PATH"


def test_every_shipped_asset_is_named():
    import talkinghead.data as D

    named = {getattr(D, n).name for n in D.__all__ if n.endswith(("_DIR", "REFERENCE", "MODEL"))}
    shipped = {p.name for p in D.DATA_DIR.iterdir() if not p.name.startswith(("_", "."))}
    assert shipped - named == set(), "name every shipped asset in talkinghead/data/__init__.py"
    assert {p.stem for p in D.RETARGET_DIR.glob("*.json")} == set(D.RETARGET_MAPS)


def test_bench_and_scripts_import_only_talkinghead():
    """No ``sys.path`` edits (to reach ``src``, another bench/, scripts/ or tests/ file) and
    no bench/ or scripts/ file imported by another: what they share lives in the package."""
    repo = SRC.parent
    files = [p for d in ("bench", "scripts") for p in sorted((repo / d).glob("*.py"))]
    stems = {p.stem for p in files}
    edits, siblings = [], []
    for p in files:
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "path":
                if isinstance(node.value, ast.Name) and node.value.id == "sys":
                    edits.append(f"{p.relative_to(repo)}:{node.lineno}")
            if isinstance(node, ast.Import):
                siblings += [f"{p.relative_to(repo)}: {a.name}" for a in node.names
                             if a.name.split(".")[0] in stems]  # fmt: skip
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                if node.module.split(".")[0] in stems:
                    siblings.append(f"{p.relative_to(repo)}: {node.module}")
    assert edits == [], "import shared code from talkinghead instead of editing sys.path"
    assert siblings == [], "move what bench/scripts files share into the package"


def test_bench_and_scripts_use_only_public_names():
    """bench/ and scripts/ use the package as a user would: no private module or name
    (``_x``; the ``_util`` helpers excepted) of ``talkinghead``."""
    repo = SRC.parent
    found = []
    for p in (p for d in ("bench", "scripts") for p in sorted((repo / d).glob("*.py"))):
        where = p.relative_to(repo)
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            found += [
                f"{where}:{node.lineno} {n}"
                for n in names
                if n.split(".")[0] == PKG and _private(n, None)
            ]
    assert found == [], "make what bench/scripts need public:\n" + "\n".join(found)
