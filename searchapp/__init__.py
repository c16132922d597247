"""searchapp: Chinese full-text search over a folder of news articles.

The core (``documents``, ``analysis``, ``schema``, ``store``, ``indexer``, ``query``,
``searcher``, ``highlight``) is a plain library; ``web`` and ``cli`` are thin shells.
Importing the package does not import Flask: the core stays quick to load (a search
from the command line, a worker's first query).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The Flask application: defaults, then ``SEARCHAPP_*`` variables, then ``test_config``."""
    from flask import Flask

    from searchapp import cli, config, web

    app = Flask(__name__)
    app.config.from_mapping(config.DEFAULTS)
    app.config.from_prefixed_env("SEARCHAPP")
    if test_config:
        app.config.update(test_config)

    web.init_app(app)
    for command in cli.COMMANDS:
        app.cli.add_command(command)
    return app
