"""The web shell: the search page and the JSON API over the engine (Flask lives here only)."""

from searchapp.web.app import create_app
from searchapp.web.common import preload, warm_up

__all__ = ["create_app", "preload", "warm_up"]
