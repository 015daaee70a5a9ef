"""JSON views of the servers visitors can see listed."""
from __future__ import annotations

from flask import abort, url_for
from sqlalchemy import select

from ..extensions import db
from ..models import Server
from ..checks.status import server_state
from . import bp


def server_json(server: Server) -> dict:
    """The public facts of one server; internal ones say only that they are internal."""
    return {
        "code": server.code,
        "role": server.role,
        "city": server.city,
        "country": server.country,
        "status": server_state(server).label.lower(),
        "url": url_for("public.server", code=server.code, _external=True),
    }


@bp.get("/servers")
def servers():
    """Every listed server in display order."""
    rows = db.session.scalars(select(Server).order_by(Server.display_order, Server.code))
    return {"servers": [server_json(s) for s in rows]}


@bp.get("/servers/<code>")
def server(code: str):
    """One server by its code."""
    row = db.session.scalar(select(Server).where(Server.code == code)) or abort(404)
    return server_json(row)
