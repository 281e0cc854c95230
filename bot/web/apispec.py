"""The JSON API's declarations, and what is generated from them.

Each endpoint is declared once, as an :class:`Endpoint` (path, method, handler, parameters,
response schema, summary). From that one table (``bot/web/api.py``) come the aiohttp routes
(:func:`routes`), the index at ``/api/v1/`` and the OpenAPI 3.1 document at
``/api/v1/openapi.json`` (:func:`openapi`): a route cannot exist undocumented, nor a documented
path unserved. The response schemas of records are derived from the services' dataclasses
(:func:`schema_of`), so a field added to a record is documented at once.

Conventions every endpoint gets from here, not from its handler:

- parameters are read and checked from their declaration (an id is a positive 64-bit integer,
  ``bot/web/ids.py``; a bad one in the path is a 404, in the query a 400);
- lists are paged (:func:`listing`): ``?limit=`` (1–500, default 100) and ``?cursor=`` (opaque;
  the body's ``next_cursor``, null on the last page), keyset-paged by id in the services;
- every error is ``{"error": {"code": …, "message": …}}`` with its status (:func:`error`);
- access needs an admin's board session or a bearer token (``[web] api_token`` or one made by
  ``dudao token add``): anything else is a 401 in JSON, never a login redirect.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hmac
import logging
import types
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from aiohttp import web
from sqlalchemy import Connection

from bot.domain.errors import DomainError, NotFound
from bot.services import api_tokens
from bot.web.common import board, current
from bot.web.ids import BadId, parse_id, require_id

log = logging.getLogger("dudao.web.api")

PREFIX = "/api/v1"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500

Args = dict[str, Any]
Handler = Callable[[web.Request, Args], Awaitable[Any]]
Schema = dict[str, Any]


class ApiError(Exception):
    """A refusal with its HTTP status and a stable machine-readable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}")
        self.status, self.code, self.message = status, code, message


def error(status: int, code: str, message: str) -> web.Response:
    resp = web.json_response({"error": {"code": code, "message": message}}, status=status)
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="dudao"'
    return resp


# ---------------------------------------------------------------- parameters

ParamType = Literal["id", "integer", "string", "datetime", "boolean"]
_PARAM_SCHEMAS: dict[str, Schema] = {
    "id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "integer": {"type": "integer"},
    "string": {"type": "string"},
    "datetime": {"type": "string", "format": "date-time"},
    "boolean": {"type": "boolean"},
}


@dataclass(frozen=True, slots=True)
class Param:
    """A parameter of an endpoint; ``name`` is also the keyword its handler gets."""

    name: str
    type: ParamType
    description: str
    where: Literal["query", "path"] = "query"
    enum: tuple[str, ...] = ()

    def read(self, request: web.Request, tz: Any) -> Any:
        if self.where == "path":
            return require_id(self.name, request.match_info.get(self.name))  # else a 404
        raw = request.query.get(self.name, "")
        if raw == "":
            return None
        if self.enum and raw not in self.enum:
            raise ApiError(400, "invalid_parameter",
                           f"参数 {self.name} 只能是 {'、'.join(self.enum)}")
        return _convert(self, raw, tz)

    def openapi(self) -> Schema:
        schema = dict(_PARAM_SCHEMAS[self.type])
        if self.enum:
            schema["enum"] = list(self.enum)
        return {"name": self.name, "in": self.where, "required": self.where == "path",
                "description": self.description, "schema": schema}


def _convert(p: Param, raw: str, tz: Any) -> Any:
    bad = ApiError(400, "invalid_parameter", f"参数 {p.name} 的值不对：{raw[:40]}")
    if p.type == "id":
        number = parse_id(raw)
        if number is None:
            raise bad
        return number
    if p.type == "integer":
        if not (raw.isascii() and raw.lstrip("-").isdigit() and len(raw) <= 19):
            raise bad
        return int(raw)
    if p.type == "boolean":
        if raw.lower() not in ("true", "false", "1", "0"):
            raise bad
        return raw.lower() in ("true", "1")
    if p.type == "datetime":
        # A "+" left unencoded in a query string arrives as a space.
        try:
            moment = datetime.fromisoformat(raw.strip().replace(" ", "+"))
        except ValueError:
            raise bad from None
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    return raw[:200]


LIMIT = Param("limit", "integer", f"每页条数（1–{MAX_LIMIT}，默认 {DEFAULT_LIMIT}）")
CURSOR = Param("cursor", "string", "上一页返回的 next_cursor（不透明，原样传回）")


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    number = parse_id(text[3:]) if text.startswith("v1:") else None
    if number is None:
        raise ApiError(400, "invalid_cursor", "cursor 无效：请原样传回上一页的 next_cursor")
    return number


# ---------------------------------------------------------------- endpoints


@dataclass(frozen=True)
class Endpoint:
    """One route of the API. ``handler(request, args)`` gets the declared parameters read and
    checked in ``args`` and returns what to send as JSON (records, lists, dicts)."""

    path: str
    summary: str
    handler: Handler
    response: Schema | type
    params: tuple[Param, ...] = ()
    method: str = "GET"
    resource: str = ""  # the resource it belongs to, as the index lists it
    operation: str = ""  # OpenAPI operationId; the handler's name by default

    @property
    def operation_id(self) -> str:
        return self.operation or getattr(self.handler, "__name__", self.path)


Fetch = Callable[..., Sequence[Any]]


def listing(path: str, summary: str, fetch: Fetch, record: type, *, resource: str,
            params: tuple[Param, ...] = (), operation: str = "") -> Endpoint:
    """A paged list: ``fetch(conn, after=, limit=, **params)`` returns records in id order."""

    async def handler(request: web.Request, args: Args) -> Any:
        limit = args.pop("limit")
        limit = DEFAULT_LIMIT if limit is None else limit
        if not 1 <= limit <= MAX_LIMIT:
            raise ApiError(400, "invalid_parameter", f"limit 须在 1 到 {MAX_LIMIT} 之间")
        cursor = args.pop("cursor")
        after = decode_cursor(cursor) if cursor else None
        rows = await board(request).db.run(
            lambda conn: fetch(conn, after=after, limit=limit + 1, **args))
        more = len(rows) > limit
        items = list(rows[:limit])
        return {"items": items, "next_cursor": encode_cursor(items[-1].id) if more else None}

    handler.__name__ = operation or f"list_{resource}"
    return Endpoint(path, summary, handler, page_of(record), (*params, LIMIT, CURSOR),
                    resource=resource, operation=handler.__name__)


def detail(path: str, summary: str, get: Callable[[Connection, int], Any], record: type, *,
           resource: str, operation: str = "") -> Endpoint:
    """One record by the id in the path's only ``{…}`` segment."""
    name = path.rsplit("{", 1)[1].rstrip("}")

    async def handler(request: web.Request, args: Args) -> Any:
        return await board(request).db.run(lambda conn: get(conn, args[name]))

    handler.__name__ = operation or f"get_{resource}"
    return Endpoint(path, summary, handler, record, (Param(name, "id", "编号", "path"),),
                    resource=resource, operation=handler.__name__)


# ---------------------------------------------------------------- serving


async def _authorised(request: web.Request) -> bool:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = header[7:].strip()
        configured = board(request).settings.web.api_token
        if configured and hmac.compare_digest(token.encode(), configured.encode()):
            return True
        if token.startswith(api_tokens.PREFIX):
            return await board(request).db.run(lambda c: api_tokens.check(c, token)) is not None
        return False
    who = await current(request)
    return who is not None and who.is_admin


def _serve(ep: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        if not await _authorised(request):
            return error(401, "unauthorized", "需要 API 令牌（Authorization: Bearer …）或管理员登录")
        try:
            tz = board(request).env.tz
            args = {p.name: p.read(request, tz) for p in ep.params}
            result = await ep.handler(request, args)
        except ApiError as exc:
            return error(exc.status, exc.code, exc.message)
        except BadId:
            return error(404, "not_found", "没有这个编号的记录")
        except NotFound as exc:
            return error(404, "not_found", exc.message)
        except DomainError as exc:
            return error(400, "invalid", exc.message)
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(plain(result))

    serve.__name__ = ep.operation_id
    return serve


def routes(endpoints: Sequence[Endpoint]) -> list[web.RouteDef]:
    return [web.route(ep.method, ep.path, _serve(ep)) for ep in endpoints]


def plain(value: Any) -> Any:
    """Records as JSON values: dataclasses as objects, times in ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [plain(v) for v in value]
    return value


# ---------------------------------------------------------------- OpenAPI


@dataclass
class _Components:
    schemas: dict[str, Schema] = field(default_factory=dict)

    def ref(self, cls: type) -> Schema:
        name = cls.__name__
        if name not in self.schemas:
            self.schemas[name] = {}  # a placeholder first: a record may refer to itself
            hints = typing.get_type_hints(cls)
            self.schemas[name] = {
                "type": "object",
                "properties": {f.name: self.of(hints[f.name]) for f in dataclasses.fields(cls)},
                "required": [f.name for f in dataclasses.fields(cls)],
            }
        return {"$ref": f"#/components/schemas/{name}"}

    def of(self, hint: Any) -> Schema:
        origin, params = typing.get_origin(hint), typing.get_args(hint)
        if origin in (types.UnionType, typing.Union):
            options = [self.of(p) for p in params if p is not type(None)]
            schema = options[0] if len(options) == 1 else {"anyOf": options}
            if type(None) not in params:
                return schema
            if "type" in schema and isinstance(schema["type"], str):
                return {**schema, "type": [schema["type"], "null"]}
            return {"anyOf": [schema, {"type": "null"}]}
        if origin in (list, tuple, frozenset, set, Sequence):
            return {"type": "array", "items": self.of(params[0]) if params else {}}
        if origin in (dict, Mapping):
            return {"type": "object", "additionalProperties": self.of(params[1])}
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            return self.ref(hint)
        simple: dict[Any, Schema] = {
            int: {"type": "integer"}, float: {"type": "number"}, str: {"type": "string"},
            bool: {"type": "boolean"}, datetime: {"type": "string", "format": "date-time"},
            date: {"type": "string", "format": "date"}}
        return dict(simple.get(hint, {}))


def page_of(record: type) -> Schema:
    return {"x-page-of": record}


def openapi(endpoints: Sequence[Endpoint], *, version: str) -> Schema:
    comps = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        paths.setdefault(ep.path, {})[ep.method.lower()] = {
            "operationId": ep.operation_id,
            "summary": ep.summary,
            "tags": [ep.resource or "api"],
            "parameters": [p.openapi() for p in ep.params],
            "responses": {
                "200": {"description": "OK",
                        "content": {"application/json": {"schema": _response(comps, ep)}}},
                "400": {"$ref": "#/components/responses/Error"},
                "401": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
            },
        }
    comps.schemas["Error"] = {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"],
                                 "properties": {"code": {"type": "string"},
                                                "message": {"type": "string"}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "dudao API", "version": version,
                 "description": "督导服务的数据接口：管理员登录会话或 Bearer 令牌（dudao token add）。"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": comps.schemas,
            "responses": {"Error": {"description": "错误",
                                    "content": {"application/json": {
                                        "schema": {"$ref": "#/components/schemas/Error"}}}}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "dudao_session"}},
        },
    }


def _response(comps: _Components, ep: Endpoint) -> Schema:
    if isinstance(ep.response, type):
        return comps.ref(ep.response)
    record = ep.response.get("x-page-of")
    if isinstance(record, type):
        return {"type": "object", "required": ["items", "next_cursor"],
                "properties": {"items": {"type": "array", "items": comps.ref(record)},
                               "next_cursor": {"type": ["string", "null"]}}}
    return ep.response
