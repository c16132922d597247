"""Error pages and JSON errors: an unusable index is a 503 naming the fix; anything else
a friendly page (JSON under /api/), never a stack trace."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from searchapp.engine import IndexCorrupt, IndexStale, IndexUnavailable, ServiceUnavailable
from searchapp.web.common import log


def register(app: Flask) -> None:
    """Install the error handlers on ``app``."""
    app.register_error_handler(IndexUnavailable, _index_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _index_unavailable(exc: IndexUnavailable) -> tuple[Any, int]:
    log.warning("index unavailable: %s", exc)
    if _wants_json():
        body = {"error": "index unavailable", "reason": str(exc), "hint": exc.hint}
        if request.path == "/healthz":
            body = {"status": "unavailable", "reason": str(exc), "hint": exc.hint}
        return jsonify(body), 503
    service = isinstance(exc, ServiceUnavailable)
    if service:
        headline = "搜索服务暂时无法连接"
    elif isinstance(exc, IndexStale):
        headline = "索引需要重建"
    elif isinstance(exc, IndexCorrupt):
        headline = "索引无法读取"
    else:
        headline = "索引尚未建立"
    html = render_template(
        "unavailable.html",
        headline=headline,
        reason=str(exc),
        hint=exc.hint,
        service=service,
        q=request.args.get("q", ""),
    )
    return html, 503


_ERROR_TEXT = {
    400: ("请求无法处理", "请求中的参数有误，请检查后再试。"),
    404: ("页面不存在", "没有找到这个页面，它可能已被移动或删除。"),
    405: ("不支持的请求方式", "这个地址不支持该请求方式。"),
    500: ("服务器出错了", "处理请求时出现了意外错误，请稍后再试。"),
}


def _error_response(status: int, message: str | None = None) -> tuple[Any, int]:
    title, text = _ERROR_TEXT.get(status, ("请求出错", "请求无法完成。"))
    if _wants_json():
        return jsonify({"error": message or title, "status": status}), status
    html = render_template(
        "error.html", status=status, title=title, text=message or text, q=request.args.get("q", "")
    )
    return html, status


def _http_error(exc: HTTPException) -> Any:
    if exc.code is None or exc.code < 400:
        return exc
    if isinstance(exc, InternalServerError):
        return _unexpected_error(exc.original_exception or exc)
    return _error_response(exc.code)


def _unexpected_error(exc: BaseException) -> tuple[Any, int]:
    if isinstance(exc, HTTPException) and not isinstance(exc, InternalServerError):
        return _http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return _error_response(500)
