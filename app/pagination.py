"""One paginate() for every list: the envelope of docs/api.md plus an RFC 8288 Link header."""

import math
from urllib.parse import urlencode

import marshmallow as ma
from flask import request
from marshmallow import fields, validate
from sqlalchemy import func, select

from app.extensions import db
from app.fields import QueryInteger, QuerySchema

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20


class PageArgs(QuerySchema):
    page = QueryInteger(
        load_default=1, validate=validate.Range(min=1, max=10_000_000), metadata={"description": "Page number, from 1."}
    )
    per_page = QueryInteger(
        load_default=DEFAULT_PER_PAGE,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": f"Items per page, 1 to {MAX_PER_PAGE}."},
    )


# Document the Link header on every paginated response: @blp.response(200, ..., headers=LINK_HEADER)
LINK_HEADER = {
    "Link": {
        "description": 'RFC 8288 links to the first, prev, next and last pages: `<url>; rel="next"`, ...',
        "schema": {"type": "string"},
    }
}

_page_schemas: dict = {}


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The documented envelope for a list of `item_schema`."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _page_schemas:
        _page_schemas[name] = type(
            name,
            (ma.Schema,),
            {
                "items": fields.List(fields.Nested(item_schema)),
                "page": fields.Integer(),
                "per_page": fields.Integer(),
                "total": fields.Integer(),
                "pages": fields.Integer(),
            },
        )
    return _page_schemas[name]


def link_header(page: int, per_page: int, pages: int) -> str:
    """RFC 8288 links to the first, previous, next and last pages, keeping the other parameters."""
    params = {k: v for k, v in request.args.items(multi=False) if k not in {"page", "per_page", "cursor"}}

    def url(p: int) -> str:
        return request.base_url + "?" + urlencode({**params, "page": p, "per_page": per_page})

    last = max(pages, 1)
    links = [f'<{url(1)}>; rel="first"']
    if page > 1:
        links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
    if page < pages:
        links.append(f'<{url(page + 1)}>; rel="next"')
    links.append(f'<{url(last)}>; rel="last"')
    return ", ".join(links)


def envelope(items, page: int, per_page: int, total: int, **extra):
    """(body, status, headers) for a view decorated with a page_schema response."""
    pages = math.ceil(total / per_page) if total else 0
    body = {"items": items, "page": page, "per_page": per_page, "total": total, "pages": pages, **extra}
    return body, 200, {"Link": link_header(page, per_page, pages)}


def paginate(stmt, args: dict, *, count_stmt=None, scalars: bool = True):
    """Run `stmt` for one page. The count comes from `count_stmt`, or from `stmt` itself."""
    page, per_page = args["page"], args["per_page"]
    if count_stmt is None:
        count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = db.session.execute(count_stmt).scalar_one()
    result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = result.scalars().all() if scalars else result.all()
    return envelope(items, page, per_page, total)
