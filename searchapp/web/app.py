"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from searchapp import config
from searchapp.web.views import init_app


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The Flask application: defaults, then ``SEARCHAPP_*`` variables, then ``test_config``."""
    from searchapp import cli

    app = Flask(__name__)
    app.config.from_mapping(config.DEFAULTS)
    app.config.from_prefixed_env("SEARCHAPP")
    if test_config:
        app.config.update(test_config)
    init_app(app)
    for command in cli.COMMANDS:
        app.cli.add_command(command)
    return app
