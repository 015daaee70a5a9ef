"""Staff accounts (admins only): add, change role, disable, set a password, sign out everywhere.

An admin cannot take away their own admin role or sign-in: the site must
always keep someone who can run it.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..accounts.credentials import find_account
from ..accounts.roles import admin_required
from ..accounts.sessions import revoke_sessions
from ..extensions import db
from ..models import Role, User
from . import bp
from .errors import redisplays_form
from .forms import AccountForm, one_line


def account_or_404(user_id: int) -> User:
    """The staff account ``user_id``."""
    return db.session.get(User, user_id) or abort(404, description="There is no such account.")


def _account_problems(form: AccountForm, user: User | None) -> bool:
    """Record on the form what the data would break, and report whether anything would."""
    other = find_account(form.email.data)
    if other is not None and other is not user:
        form.email.errors.append("Another account has this address.")
    if user is None and not form.password.data:
        form.password.errors.append("Give the new account a password.")
    if user is not None and user.id == current_user.id:
        if form.role.data != Role.ADMIN.value:
            form.role.errors.append("You cannot take away your own admin role; ask another admin.")
        if not form.active.data:
            form.active.errors.append("You cannot disable your own account; ask another admin.")
        if form.password.data:
            form.password.errors.append("Change your own password on the Password page.")
    return bool(form.email.errors or form.password.errors or form.role.errors or form.active.errors)


@bp.get("/users")
@admin_required
def users():
    """Every staff account."""
    rows = db.session.scalars(select(User).order_by(func.lower(User.email)))
    return render_template("admin/users/list.html", users=rows.all())


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
@redisplays_form
def new_user():
    """Add a staff account."""
    return _edit(AccountForm(), None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
@redisplays_form
def edit_user(user_id: int):
    """Change an account's name, address, role, sign-in or password."""
    user = account_or_404(user_id)
    form = AccountForm(obj=user)
    if request.method == "GET":
        form.role.data = user.role.value
        form.active.data = user.is_active
    return _edit(form, user)


def _edit(form: AccountForm, user: User | None):
    """Validate and save the account form, or show it with what went wrong."""
    if not form.validate_on_submit() or _account_problems(form, user):
        status = 400 if request.method == "POST" else 200
        return render_template("admin/users/edit.html", form=form, user=user), status
    is_new, was_active = user is None, user is not None and user.is_active
    user = user or User()
    user.email = form.email.data.strip()
    user.name = one_line(form.name.data)
    user.role = Role(form.role.data)
    user.is_active = form.active.data
    if form.password.data:
        user.set_password(form.password.data)
    db.session.add(user)
    db.session.commit()
    # A new password or a disabled account ends the sessions that account had.
    if not is_new and (form.password.data or (was_active and not user.is_active)):
        revoke_sessions(user)
    flash(f"The account of {user.display_name} is saved.")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/sign-out")
@admin_required
def sign_out_user(user_id: int):
    """End every session of an account, on every device (a lost laptop, a shared computer)."""
    user = account_or_404(user_id)
    revoke_sessions(user)
    flash(f"{user.display_name} is signed out everywhere.")
    return redirect(url_for("admin.users"))
