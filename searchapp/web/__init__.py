"""The web shell: the search page and JSON API over the engine."""

from searchapp.web.views import init_app, warm_up

__all__ = ["init_app", "warm_up"]
