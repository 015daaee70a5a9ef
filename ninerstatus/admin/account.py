"""Signing in and out, and changing one's own password."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts import throttle
from ..accounts.credentials import normalise_email, verify_credentials
from ..accounts.redirects import safe_next
from ..accounts.sessions import has_remember_cookie, revoke_sessions, sign_in as start_session, sign_out as end_session
from . import bp
from .errors import redisplays_form
from .forms import PasswordChangeForm, SignInForm

# The one answer for an unknown address, a wrong password and a disabled account.
WRONG_CREDENTIALS = "That e-mail address and password do not match an account."


def _refused(form, refusal: throttle.Refusal):
    minutes = f"{refusal.minutes} minute{'s' if refusal.minutes != 1 else ''}"
    message = f"Too many attempts for this account or network. Wait {minutes} and try again."
    return (render_template("admin/sign_in.html", form=form, message=message), 429,
            {"Retry-After": str(refusal.retry_after)})


@bp.route("/login", methods=["GET", "POST"])
@redisplays_form
def sign_in():
    """Sign in to the staff pages."""
    target = safe_next(request.args.get("next")) or url_for("admin.dashboard")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target)
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("admin/sign_in.html", form=form)
    account = normalise_email(form.email.data)
    refusal = throttle.begin_attempt(account, throttle.client_network(request.remote_addr))
    if refusal is not None:
        return _refused(form, refusal)
    user = verify_credentials(form.email.data, form.password.data)
    if user is None:
        return render_template("admin/sign_in.html", form=form, message=WRONG_CREDENTIALS)
    throttle.forget_account(account)
    start_session(user, remember=form.remember.data)
    return redirect(target)


@bp.post("/logout")
def sign_out():
    """Sign out here and on every other device."""
    end_session(current_user._get_current_object())
    flash("You are signed out, here and on every other device.")
    return redirect(url_for("admin.sign_in"))


@bp.route("/password", methods=["GET", "POST"])
@redisplays_form
def password():
    """Change your password; every other device is signed out."""
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return render_template("admin/password.html", form=form)
    user = current_user._get_current_object()
    # Counted like sign-ins, so a borrowed session cannot guess the password either.
    account = normalise_email(user.email)
    refusal = throttle.begin_attempt(account, throttle.client_network(request.remote_addr))
    if refusal is not None:
        form.current.errors.append(f"Too many attempts. Wait {refusal.minutes} minutes and try again.")
        return render_template("admin/password.html", form=form), 429
    if not user.check_password(form.current.data):
        form.current.errors.append("That is not your current password.")
        return render_template("admin/password.html", form=form)
    throttle.forget_account(account)
    user.set_password(form.new.data)
    remember = has_remember_cookie()
    revoke_sessions(user)
    start_session(user, remember=remember)
    flash("Your password is changed. Every other device has been signed out.")
    return redirect(url_for("admin.password"))
