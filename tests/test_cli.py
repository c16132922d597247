"""The command line, as a user runs it: exit codes and what it prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchapp.backends.whoosh import store
from searchapp.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def paths(corpus: Path, tmp_path: Path) -> tuple[str, str]:
    return str(corpus), str(tmp_path / "ix")


def test_rebuild_search_stats_update(paths: tuple[str, str]) -> None:
    corpus, index = paths
    result = run("rebuild", "--corpus", corpus, "--index", index)
    assert result.exit_code == 0
    assert "rebuild: 15 indexed, 0 skipped; 15 documents in the index" in result.output
    assert "warning tricky/script.md: thumbnail ignored" in result.output

    result = run("search", "--corpus", corpus, "--index", index, "马克思")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("1 results (")
    assert lines[2] == "1. 马克思主义理论研究取得新进展"
    assert lines[3].split() == ["2025-01-15", "人民网", "politics/marx.txt"]
    assert "[马克思]的经典著作" in lines[4]

    result = run("search", "--corpus", corpus, "--index", index, "--json", "DeepSeek")
    data = json.loads(result.output)
    assert data["total"] == 5 and len(data["hits"]) == 5
    assert set(data["hits"][0]) >= {"id", "title", "date", "source", "score", "snippet"}

    result = run("stats", "--corpus", corpus, "--index", index, "--json")
    info = json.loads(result.output)
    assert info["documents"] == 15 and info["version"].startswith("schema")

    result = run("update", "--corpus", corpus, "--index", index)
    assert result.exit_code == 0
    assert result.output.startswith("update: index is up to date (15 unchanged)")


def test_search_filters_and_sort(paths: tuple[str, str]) -> None:
    corpus, index = paths
    run("rebuild", "--corpus", corpus, "--index", index)
    out = run("search", "--corpus", corpus, "--index", index, "--json", "--tag", "qq", "关税")
    assert [h["id"] for h in json.loads(out.output)["hits"]] == ["econ/tariff.md"]
    out = run(
        "search",
        "--corpus",
        corpus,
        "--index",
        index,
        "--json",
        "--from",
        "2025-02-11",
        "--to",
        "2025-02-12",
        "DeepSeek",
    )
    assert [h["id"] for h in json.loads(out.output)["hits"]] == [
        "seeds/paris-ai-summit-china-success.txt",
        "seeds/zhao-minghao-beyond-winning-and-losing.txt",
    ]
    bad = run("search", "--corpus", corpus, "--index", index, "--from", "yesterday", "x")
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_environment_variables_set_the_folders(paths: tuple[str, str]) -> None:
    corpus, index = paths
    env = {"SEARCHAPP_CORPUS_DIR": corpus, "SEARCHAPP_INDEX_DIR": index}
    assert run("rebuild", env=env).exit_code == 0
    stats = run("stats", env=env)
    assert stats.exit_code == 0
    assert stats.output.splitlines()[:2] == [f"index        {index}", "documents    15"]
    assert Path(store.generation_folder(index), store.META_FILE).exists()


def test_strict_fails_when_a_file_was_skipped(paths: tuple[str, str]) -> None:
    corpus, index = paths
    Path(corpus, "empty.md").write_bytes(b"")
    result = run("rebuild", "--corpus", corpus, "--index", index, "--strict")
    assert result.exit_code == 1
    assert "skipped empty.md:" in result.output
    assert run("rebuild", "--corpus", corpus, "--index", index).exit_code == 0


def test_fatal_errors_are_one_line_with_exit_1(paths: tuple[str, str], tmp_path: Path) -> None:
    corpus, index = paths
    missing = run("rebuild", "--corpus", str(tmp_path / "nope"), "--index", index)
    assert missing.exit_code == 1
    assert missing.output.strip() == f"Error: corpus folder not found: {tmp_path / 'nope'}"

    no_index = run("search", "--corpus", corpus, "--index", index, "x")
    assert no_index.exit_code == 1
    assert "no index in" in no_index.output and "python -m searchapp rebuild" in no_index.output

    run("rebuild", "--corpus", corpus, "--index", index)
    with store.write_lock(Path(index)):
        busy = run("rebuild", "--corpus", corpus, "--index", index)
    assert busy.exit_code == 1
    assert "being rebuilt or updated by another process" in busy.output
    assert "Traceback" not in busy.output


def test_update_without_an_index_builds_it(paths: tuple[str, str]) -> None:
    corpus, index = paths
    first = run("update", "--corpus", corpus, "--index", index)
    assert first.exit_code == 0
    assert first.stderr.splitlines()[0] == f"no index in {index} yet: building it"
    assert first.stdout.startswith("rebuild: 15 indexed, 0 skipped; 15 documents in the index")
    again = run("update", "--corpus", corpus, "--index", index)
    assert again.stdout.startswith("update: index is up to date (15 unchanged)")


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "--corpus" in result.output and "--index" in result.output


def test_flask_cli_has_the_same_commands(runner) -> None:
    result = runner.invoke(args=["stats", "--help"])
    assert result.exit_code == 0 and "--index" in result.output
    result = runner.invoke(args=["--help"])
    for command in COMMANDS:
        assert command.name in result.output


def test_python_dash_m_entry_point(paths: tuple[str, str]) -> None:
    corpus, index = paths
    proc = subprocess.run(
        [sys.executable, "-m", "searchapp", "rebuild", "--corpus", corpus, "--index", index],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "15 indexed" in proc.stdout
    assert proc.stderr.count("\n") <= 2  # only the tricky article's warning, no progress bar


def test_search_shows_where_partial_matches_begin(built: tuple[Path, Path]) -> None:
    corpus, index = built
    out = run("search", "量子计算", "--corpus", str(corpus), "--index", str(index)).output
    assert out.startswith("2 results (")
    assert "(1 with every word, then 1 with some)" in out.splitlines()[0]
    first, divider, second = (
        out.index("long.txt"),
        out.index("-- with only some of the words --"),
        out.index("tech/chips.md"),
    )
    assert first < divider < second
