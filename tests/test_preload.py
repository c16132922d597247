"""An app prepared once and forked, as gunicorn's master does with ``preload_app``
(gunicorn.conf.py): the workers start with the vocabulary loaded before the fork, open
their own searchers and cluster connections, and answer side by side with the parent.
Runs on every configured backend.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from conftest import Deployed

from searchapp import create_app
from searchapp.web import preload
from searchapp.web.common import EXTENSION

#: Children forked, and requests each process sends.
CHILDREN = 2
ROUNDS = 15


def answers_right(app: Any) -> list[str]:
    """What is wrong in ROUNDS rounds of a search and a suggestion (empty: all right)."""
    client = app.test_client()
    wrong = []
    for _ in range(ROUNDS):
        found = client.get("/api/search?q=芯片").get_json()
        if not found or found["hits"][0]["id"] != "tech/chips.md":
            wrong.append(f"search: {found!r:.200}")
        suggested = client.get("/api/suggest?q=rgzn").get_json()
        if not suggested or suggested["suggestions"][0]["text"] != "人工智能":
            wrong.append(f"suggest: {suggested!r:.200}")
    return wrong


def test_forked_workers_share_the_preloaded_app(deployed: Deployed) -> None:
    app = create_app(deployed.app_config())
    preload(app)
    engine = app.extensions[EXTENSION]
    vocabulary = engine.vocabulary.peek()
    assert vocabulary is not None  # loaded before the fork: the workers inherit it
    client_before = id(getattr(engine.backend, "client", None))
    children = []
    for _ in range(CHILDREN):
        pid = os.fork()
        if pid == 0:  # a worker: report by exit code, never return into pytest
            code = 1
            try:
                same = engine.vocabulary.peek() is vocabulary
                fresh = deployed.backend != "opensearch" or id(engine.backend.client) != (
                    client_before
                )
                code = 0 if same and fresh and not answers_right(app) else 1
            finally:
                os._exit(code)
        children.append(pid)
    # The parent answers at the same time, from two threads.
    wrong: list[str] = []
    threads = [threading.Thread(target=lambda: wrong.extend(answers_right(app))) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    assert codes == [0] * CHILDREN
    assert wrong == []
    engine.close()
