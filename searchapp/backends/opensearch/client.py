"""The connection to the cluster, and its failures in our terms.

:func:`connect` makes one thread-safe client from the settings: every node URL given
(a request to a dead node is retried on the next one), timeouts, retries on timeouts and
on 502/503/504, and for a secured cluster the user, password and CA bundle.
:func:`errors` turns what the client raises into the exceptions of
:mod:`searchapp.backends.base`, so the web shows its 503 page and the CLI one line:
an unreachable or failing cluster is :class:`ServiceUnavailable` naming the URLs, a
missing alias :class:`IndexMissing`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy import exceptions as os_errors

from searchapp.backends.base import IndexMissing, ServiceUnavailable
from searchapp.config import Settings

#: Seconds a search-side request may take (each try), and a write or an admin request.
SEARCH_TIMEOUT = 10
WRITE_TIMEOUT = 300
#: Tries on another node after a connection error or a timeout.
MAX_RETRIES = 2
#: Connections kept per node (one per web thread is plenty).
POOL_SIZE = 16

START_HINT = (
    "Start a cluster (bash scripts/opensearch.sh start) or point SEARCHAPP_OPENSEARCH_URL "
    "at a running one"
)
AUTH_HINT = (
    "Check SEARCHAPP_OPENSEARCH_USER, SEARCHAPP_OPENSEARCH_PASSWORD and SEARCHAPP_OPENSEARCH_CA"
)
HEALTH_HINT = "Check the cluster's health (GET _cluster/health) and its nodes"


class Unreachable(ServiceUnavailable):
    """The cluster does not answer."""

    hint = START_HINT


class Refused(ServiceUnavailable):
    """The cluster refuses our credentials."""

    hint = AUTH_HINT


class Unhealthy(ServiceUnavailable):
    """The cluster answers but cannot serve the request (shards unassigned, overloaded)."""

    hint = HEALTH_HINT


def node_urls(settings: Settings) -> list[str]:
    """The node URLs of ``settings`` (comma-separated), ``http://`` when no scheme is given."""
    urls = []
    for part in settings.opensearch_url.split(","):
        url = part.strip()
        if not url:
            continue
        if "://" not in url:
            url = "http://" + url
        urls.append(url.rstrip("/"))
    return urls or ["http://127.0.0.1:9200"]


def connect(settings: Settings) -> OpenSearch:
    """A client for the cluster ``settings`` name."""
    options: dict[str, Any] = {
        "hosts": node_urls(settings),
        "timeout": SEARCH_TIMEOUT,
        "max_retries": MAX_RETRIES,
        "retry_on_timeout": True,
        "retry_on_status": (502, 503, 504),
        "pool_maxsize": POOL_SIZE,
        "http_compress": False,
    }
    if settings.opensearch_user:
        options["http_auth"] = (settings.opensearch_user, settings.opensearch_password)
    if settings.opensearch_ca:
        options["ca_certs"] = settings.opensearch_ca
        options["verify_certs"] = True
    if any(url.startswith("https://") for url in options["hosts"]):
        # (each https:// URL is a TLS connection; its certificate is always verified)
        options.setdefault("verify_certs", True)
    return OpenSearch(**options)


def error_type(exc: os_errors.TransportError) -> str:
    """The OpenSearch error type of a failed request (``index_not_found_exception`` ...)."""
    info = exc.info if isinstance(exc.info, dict) else {}
    error = info.get("error")
    if isinstance(error, dict):
        root = error.get("root_cause") or []
        if root and isinstance(root[0], dict) and root[0].get("type"):
            return str(root[0]["type"])
        return str(error.get("type", ""))
    return str(exc.error or "")


def describe(exc: os_errors.TransportError) -> str:
    """A short reason for a failed request."""
    info = exc.info if isinstance(exc.info, dict) else {}
    error = info.get("error")
    if isinstance(error, dict):
        root = error.get("root_cause") or [error]
        first = root[0] if root and isinstance(root[0], dict) else error
        reason = first.get("reason") or error.get("reason") or first.get("type")
        return str(reason)[:300]
    if isinstance(exc, os_errors.ConnectionError):
        cause = exc.info if isinstance(exc.info, BaseException) else None
        text = str(cause or exc.error or exc)
        for known in ("Connection refused", "timed out", "Name or service not known"):
            if known.lower() in text.lower():
                return known.lower()
        return text[:300]
    return str(exc.error or exc)[:300]


@contextlib.contextmanager
def errors(urls: list[str], alias: str) -> Iterator[None]:
    """Translate the client's exceptions raised inside the block."""
    where = ", ".join(urls)
    try:
        yield
    except os_errors.ConnectionTimeout as exc:
        raise Unreachable(
            f"the OpenSearch cluster at {where} did not answer in time ({describe(exc)})"
        ) from None
    except os_errors.ConnectionError as exc:  # refused, DNS, TLS
        raise Unreachable(
            f"cannot reach the OpenSearch cluster at {where} ({describe(exc)})"
        ) from None
    except os_errors.AuthenticationException:
        raise Refused(f"the OpenSearch cluster at {where} refused our credentials") from None
    except os_errors.AuthorizationException as exc:
        raise Refused(
            f"the OpenSearch cluster at {where} does not allow this ({describe(exc)})"
        ) from None
    except os_errors.NotFoundError as exc:
        if error_type(exc) == "index_not_found_exception":
            raise IndexMissing(f"no index '{alias}' on the OpenSearch cluster at {where}") from None
        raise
    except os_errors.TransportError as exc:
        status = exc.status_code if isinstance(exc.status_code, int) else 0
        kind = error_type(exc)
        if status in (429, 500, 502, 503, 504) or kind in (
            "cluster_block_exception",
            "no_shard_available_action_exception",
            "search_phase_execution_exception",
            "node_not_connected_exception",
            "node_disconnected_exception",
        ):
            raise Unhealthy(
                f"the OpenSearch cluster at {where} cannot answer ({describe(exc)})"
            ) from None
        raise


def missing(found: Any) -> bool:
    """True for the answer to a request made with ``ignore=404`` that found nothing (a
    document, an index or an alias that is not there: expected, so neither raised nor
    logged as a failure by the client)."""
    if not isinstance(found, dict):
        return False
    return found.get("found") is False or found.get("status") == 404
