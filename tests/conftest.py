"""Shared fixtures: a small real-looking corpus, an index built from it, the Flask app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from searchapp import create_app
from searchapp.config import Settings
from searchapp.engine import Engine, open_engine

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_CORPUS = ROOT / "tests" / "fixtures" / "corpus"
SEED_CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
SHARED_CORPUS = SHARED / "corpus"

#: A long article whose only match sits far past Whoosh's 32,768-character fragment limit.
LONG_FILLER = "今天天气晴朗，市场运行平稳。" * 4000
LONG_TEXT = (
    "长篇报道\n来源:测试社 2024年12月01日 09时00分\n\n"
    + LONG_FILLER
    + "文章末尾提到量子计算突破。\n"
)


def make_corpus(dest: Path) -> Path:
    """Copy the fixture articles and the four seed articles into ``dest``."""
    shutil.copytree(FIXTURE_CORPUS, dest)
    shutil.copytree(SEED_CORPUS / "2025-02", dest / "seeds")
    (dest / "long.txt").write_text(LONG_TEXT, encoding="utf-8")
    return dest


def engine_for(corpus: Path, index: Path, **settings: object) -> Engine:
    """The engine the app and the CLI would open for ``corpus`` and ``index``."""
    return open_engine(Settings(corpus_dir=Path(corpus), index_dir=Path(index), **settings))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(corpus_dir, index_dir) built once for read-only tests."""
    base = tmp_path_factory.mktemp("built")
    corpus = make_corpus(base / "corpus")
    index = base / "index"
    engine_for(corpus, index).rebuild(corpus, procs=1)
    return corpus, index


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A fresh writable copy of the fixture corpus."""
    return make_corpus(tmp_path / "corpus")


@pytest.fixture
def app(built: tuple[Path, Path]):
    """The Flask app over the session index."""
    corpus_dir, index_dir = built
    app = create_app({"TESTING": True, "CORPUS_DIR": str(corpus_dir), "INDEX_DIR": str(index_dir)})
    yield app


@pytest.fixture
def client(app):
    """Flask test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Flask CLI runner."""
    return app.test_cli_runner()


def shared_corpus_or_skip(*parts: str) -> Path:
    """A folder under ../shared/corpus, or skip the (data-driven) test with a reason."""
    path = SHARED_CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present (data-driven test needs ../shared/corpus)")
    return path
