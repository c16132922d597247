"""The Flask application factory: settings, the engine, blueprints, error pages, hooks."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from searchapp import config
from searchapp.engine import open_engine
from searchapp.web import api, common, errors, pages


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The Flask application: defaults, then ``SEARCHAPP_*`` variables, then ``test_config``.

    Raises :class:`searchapp.config.ConfigError` for settings that cannot work.
    """
    from searchapp import cli

    app = Flask(__name__)
    app.wsgi_app = RawUtf8Query(app.wsgi_app)  # type: ignore[method-assign]
    app.config.from_mapping(config.DEFAULTS)
    app.config.from_prefixed_env("SEARCHAPP")
    if test_config:
        app.config.update(test_config)
    app.extensions[common.EXTENSION] = open_engine(config.Settings.from_mapping(app.config))
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    errors.register(app)
    pages.register(app)
    app.before_request(common.start_timer)
    app.before_request(common.pin_index)
    app.teardown_request(common.unpin_index)
    app.after_request(common.finish_response)
    log = common.log
    if not log.handlers and not app.testing:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        log.addHandler(handler)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
    if app.config.get("WARM_UP"):
        common.warm_up(app)
    for command in cli.COMMANDS:
        app.cli.add_command(command)
    return app


class RawUtf8Query:
    """WSGI middleware: a query string sent with raw UTF-8 bytes (``curl '...?q=黃仁勳'``,
    not percent-encoded) reaches WSGI as Latin-1 text (PEP 3333); percent-encode those
    bytes so the query is read as the UTF-8 it was, not as mojibake."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        query = environ.get("QUERY_STRING", "")
        if query and not query.isascii():
            raw = query.encode("latin-1", "replace")
            environ["QUERY_STRING"] = "".join(f"%{b:02X}" if b > 0x7F else chr(b) for b in raw)
        return self.app(environ, start_response)
