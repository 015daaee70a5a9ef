"""Servers (admins only): add, edit, reorder, show or hide their status, delete."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ..accounts.roles import admin_required
from ..checks.listing import listed_servers
from ..extensions import db
from ..models import Server, Visibility, post_servers
from . import bp
from .errors import redisplays_form
from .forms import ServerForm


def server_or_404(server_id: int) -> Server:
    """The server with ``server_id``."""
    return db.session.get(Server, server_id) or abort(404, description="There is no such server.")


def servers_in_order() -> list[Server]:
    """Every server in sidebar order."""
    return list(db.session.scalars(select(Server).order_by(Server.display_order, Server.code)))


def post_counts() -> dict[int, int]:
    """How many posts (of any status) mention each server."""
    rows = db.session.execute(select(post_servers.c.server_id, func.count())
                              .group_by(post_servers.c.server_id))
    return {server_id: count for server_id, count in rows}


def _code_taken(code: str, server: Server | None) -> bool:
    other = db.session.scalar(select(Server).where(func.lower(Server.code) == code.lower()))
    return other is not None and other is not server


def _edit(form: ServerForm, server: Server | None):
    """Validate and save the server form, or show it with what went wrong."""
    if form.validate_on_submit():
        if _code_taken(form.code.data, server):
            form.code.errors.append("Another server already has this code.")
        else:
            server = server or Server()
            for name, value in form.server_values().items():
                setattr(server, name, value)
            db.session.add(server)
            db.session.commit()
            flash(f"Server {server.code} is saved.")
            return redirect(url_for("admin.servers"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/servers/edit.html", form=form, server=server), status


@bp.get("/servers")
@admin_required
def servers():
    """Every server in the order visitors see them, as the pages list them (their states from two statements)."""
    return render_template("admin/servers/list.html", servers=listed_servers(), counts=post_counts())


@bp.route("/servers/new", methods=["GET", "POST"])
@admin_required
@redisplays_form
def new_server():
    """Add a server to the listing."""
    last = db.session.scalar(select(func.max(Server.display_order))) or 0
    return _edit(ServerForm(display_order=last + 10), None)


@bp.route("/servers/<int:server_id>", methods=["GET", "POST"])
@admin_required
@redisplays_form
def edit_server(server_id: int):
    """Change a server's code, place, role, visibility or notes."""
    server = server_or_404(server_id)
    form = ServerForm(obj=server)
    if request.method == "GET":
        form.visibility.data = server.visibility.value
    return _edit(form, server)


@bp.post("/servers/<int:server_id>/move")
@admin_required
def move_server(server_id: int):
    """Move a server one place up or down the listing."""
    ordered = servers_in_order()
    server = server_or_404(server_id)
    index = ordered.index(server)
    step = -1 if request.form.get("direction") == "up" else 1
    if 0 <= index + step < len(ordered):
        ordered[index], ordered[index + step] = ordered[index + step], ordered[index]
    # Renumbered in steps of ten, so ties left by hand-typed positions are settled too.
    for position, each in enumerate(ordered, start=1):
        each.display_order = position * 10
    db.session.commit()
    return redirect(url_for("admin.servers") + f"#server-{server.id}")


@bp.post("/servers/<int:server_id>/visibility")
@admin_required
def toggle_visibility(server_id: int):
    """Show a server's live status to visitors, or hide it behind INTERNAL."""
    server = server_or_404(server_id)
    server.visibility = Visibility.INTERNAL if server.is_public else Visibility.PUBLIC
    db.session.commit()
    flash(f"Server {server.code} is now {'shown' if server.is_public else 'hidden'} to visitors "
          f"({server.visibility.value}).")
    return redirect(url_for("admin.servers") + f"#server-{server.id}")


@bp.route("/servers/<int:server_id>/delete", methods=["GET", "POST"])
@admin_required
def delete_server(server_id: int):
    """Delete a server after asking; posts that mention it are kept."""
    server = server_or_404(server_id)
    if request.method == "GET":
        return render_template("admin/servers/delete.html", server=server,
                               posts=post_counts().get(server.id, 0))
    code = server.code
    db.session.delete(server)
    db.session.commit()
    flash(f"Server {code} is deleted. Posts that mentioned it are kept.")
    return redirect(url_for("admin.servers"))
