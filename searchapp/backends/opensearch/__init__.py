"""The OpenSearch backend: the same engine over an alias on an OpenSearch cluster.

:class:`OpenSearchBackend` (:mod:`.backend`) reads, :mod:`.writer` builds and updates,
:mod:`.view` answers the engine's questions on one generation, :mod:`.translate` turns the
query tree into OpenSearch's DSL, :mod:`.mapping` describes the index and one article in
it, :mod:`.client` connects and turns failures into our exceptions. Only this package
imports ``opensearchpy``.
"""

from searchapp.backends.opensearch.backend import OpenSearchBackend

__all__ = ["OpenSearchBackend"]
