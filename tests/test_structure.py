"""Cheap checks of the layering: who may import what.

``web`` and ``cli`` (the shells) -> ``engine`` and ``indexing`` -> ``backends.base`` <-
``backends.<name>``; ``text`` and ``documents`` import no backend, engine or shell. Only a
backend knows its engine (Whoosh, numpy, the OpenSearch client), only ``web`` knows
Flask, only ``text.analysis`` knows jieba.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "searchapp"
FILES = {
    str(p.relative_to(PACKAGE.parent).with_suffix(""))
    .replace("/", ".")
    .removesuffix(".__init__"): p
    for p in PACKAGE.rglob("*.py")
}
MODULES = sorted(FILES)


def imports(module: str) -> set[str]:
    """Every module ``module`` imports (``from a import b`` counts as a and a.b)."""
    tree = ast.parse(FILES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:  # annotations only: never imported at run time
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def users_of(prefix: str) -> set[str]:
    """The modules of the package that import ``prefix`` or anything below it."""
    return {
        m
        for m in MODULES
        if any(name == prefix or name.startswith(prefix + ".") for name in imports(m))
    }


def under(*packages: str) -> set[str]:
    return {m for m in MODULES if any(m == p or m.startswith(p + ".") for p in packages)}


def test_the_layout_has_the_layers() -> None:
    for package in ("documents", "text", "engine", "backends", "backends.whoosh", "web"):
        assert f"searchapp.{package}" in MODULES


def test_only_the_whoosh_backend_imports_whoosh() -> None:
    assert users_of("whoosh") <= under("searchapp.backends.whoosh")
    assert users_of("whoosh")


def test_search_engine_clients_stay_in_their_backend() -> None:
    assert users_of("opensearchpy") <= under("searchapp.backends.opensearch")


def test_numpy_never_reaches_the_policy_or_the_shells() -> None:
    # numpy scores in the Whoosh backend and counts n-grams in new-word discovery.
    policy = under("searchapp.engine", "searchapp.web", "searchapp.cli", "searchapp.documents")
    assert not users_of("numpy") & policy


@pytest.mark.parametrize("library", ["flask", "werkzeug", "jinja2"])
def test_only_web_knows_flask(library: str) -> None:
    assert users_of(library) <= under("searchapp.web")


def test_only_analysis_imports_jieba() -> None:
    assert users_of("jieba") | users_of("rjieba") == {"searchapp.text.analysis"}


def test_shells_never_reach_a_backend_module() -> None:
    shells = under("searchapp.web", "searchapp.cli")
    for backend in ("searchapp.backends.whoosh", "searchapp.backends.opensearch"):
        assert not users_of(backend) & shells


def test_engine_speaks_to_the_protocol_only() -> None:
    engine = under("searchapp.engine")
    assert (
        not (users_of("searchapp.backends.whoosh") | users_of("searchapp.backends.opensearch"))
        & engine
    )
    assert not (users_of("searchapp.web") | users_of("searchapp.cli")) & engine


def test_text_and_documents_know_no_backend_engine_or_shell() -> None:
    lower = under("searchapp.text", "searchapp.documents")
    for upper in ("searchapp.backends", "searchapp.engine", "searchapp.web", "searchapp.cli"):
        assert not users_of(upper) & lower, upper


def test_web_and_cli_never_import_each_other() -> None:
    views = under("searchapp.web") - {"searchapp.web.app"}  # the factory attaches the CLI
    assert not users_of("searchapp.cli") & views
    assert "searchapp.cli" not in users_of("searchapp.web")


def test_every_module_has_a_docstring() -> None:
    for module in MODULES:
        assert ast.get_docstring(ast.parse(FILES[module].read_text(encoding="utf-8"))), module
