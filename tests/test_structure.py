"""Cheap checks of the module layout: the core is a plain library, the shells are thin."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "searchapp"
CORE = [
    "analysis",
    "config",
    "documents",
    "highlight",
    "indexer",
    "query",
    "schema",
    "scripts",
    "searcher",
    "serialize",
    "store",
    "synonyms",
]
WEB_STACK = {"flask", "click", "werkzeug", "jinja2"}


def imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "searchapp":
                found.update(f"searchapp.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("module", CORE)
def test_core_knows_nothing_of_the_web_or_the_cli(module: str) -> None:
    roots = {name.split(".")[0] for name in imports(module)}
    assert not roots & WEB_STACK
    assert not {"searchapp.web", "searchapp.cli"} & imports(module)


def test_only_analysis_imports_jieba() -> None:
    users = {
        m for m in CORE + ["web", "cli"] if any(i.split(".")[0] == "jieba" for i in imports(m))
    }
    assert users == {"analysis"}


def test_documents_is_independent_of_whoosh_and_jieba() -> None:
    roots = {name.split(".")[0] for name in imports("documents")}
    assert not roots & {"whoosh", "jieba", "flask"}


def test_web_and_cli_never_import_each_other() -> None:
    assert "searchapp.cli" not in imports("web")
    assert "searchapp.web" not in imports("cli")
