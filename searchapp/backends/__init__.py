"""Where an index lives: the Backend protocol (:mod:`.base`) and its implementations.

:func:`open_backend` is the one place that picks a backend from the settings; it imports
the chosen one only, so the embedded default never loads the OpenSearch client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from searchapp.backends.base import Backend, Ranking
from searchapp.text.analysis import Analyzer

if TYPE_CHECKING:
    from searchapp.config import Settings


def open_backend(settings: Settings, analyzer: Analyzer, ranking: Ranking) -> Backend:
    """The backend ``settings.backend`` names, for ``analyzer``'s index."""
    if settings.backend == "opensearch":
        from searchapp.backends.opensearch import OpenSearchBackend

        return OpenSearchBackend(settings, analyzer, ranking)
    from searchapp.backends.whoosh.backend import WhooshBackend

    return WhooshBackend(settings.index_dir, analyzer, ranking)
