"""Shared fixtures: a small real-looking corpus, an index built from it, the Flask app."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


#: A running OpenSearch cluster for the contract tests (``scripts/test.sh`` starts one
#: and sets this); without it the contract runs on the embedded backend only.
OPENSEARCH_URL = os.environ.get("SEARCHAPP_TEST_OPENSEARCH_URL", "")
BACKENDS = ["whoosh", *(["opensearch"] if OPENSEARCH_URL else [])]


@dataclass
class Deployed:
    """The fixture corpus indexed on one backend: settings for engines and apps."""

    backend: str
    corpus: Path
    index: Path
    config: dict[str, Any] = field(default_factory=dict)

    def app_config(self, **extra: Any) -> dict[str, Any]:
        """Flask config (the names of ``searchapp.config.DEFAULTS``) for this deployment."""
        return {
            "CORPUS_DIR": str(self.corpus),
            "INDEX_DIR": str(self.index),
            "BACKEND": self.backend,
            **self.config,
            **extra,
        }

    def engine(self, **extra: Any) -> Engine:
        """A new engine over this deployment (``extra``: more settings by DEFAULTS name)."""
        return open_engine(Settings.from_mapping(self.app_config(**extra)))


def deploy(backend: str, corpus: Path, index: Path, name: str) -> Deployed:
    """Settings for ``corpus`` on ``backend``; an OpenSearch deployment gets its own alias
    (``name``) on the test cluster, with 2 shards and 1 replica."""
    config: dict[str, Any] = {}
    if backend == "opensearch":
        config = {
            "OPENSEARCH_URL": OPENSEARCH_URL,
            "OPENSEARCH_INDEX": f"test-{name}-{os.getpid()}",
            "OPENSEARCH_SHARDS": 2,
            "OPENSEARCH_REPLICAS": 1,
        }
    return Deployed(backend, corpus, index, config)


@pytest.fixture(scope="session", params=BACKENDS)
def deployed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The fixture corpus built once on each backend: the contract tests run on both."""
    base = tmp_path_factory.mktemp(f"deployed-{request.param}")
    corpus = make_corpus(base / "corpus")
    found = deploy(request.param, corpus, base / "index", "contract")
    engine = found.engine()
    engine.rebuild(corpus, procs=1)
    yield found
    engine.close()


@pytest.fixture
def app(deployed: Deployed) -> Iterator[Any]:
    """The Flask app over the session index, on each backend."""
    yield create_app({"TESTING": True, **deployed.app_config()})


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
