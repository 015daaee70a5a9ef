"""The site's maintenance commands: ``ninerstatus init``, ``demo`` and ``create-user``."""
from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from .extensions import db


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Write instance/config.py with a fresh secret key, unless it exists."""
    path = Path(current_app.instance_path) / "config.py"
    if path.exists():
        click.echo(f"{path} exists; leaving it as it is.")
        return
    path.write_text(
        '"""This site\'s own settings; see config.example.py beside it for the others."""\n'
        f"SECRET_KEY = {secrets.token_hex(32)!r}\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    click.echo(f"Wrote {path} with a new secret key.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only load when the site has no servers and no posts.")
@click.option("--site-url", default="http://127.0.0.1:8000/", show_default=True,
              help="Where this site is served: NC042's demo check probes it.")
@with_appcontext
def demo_command(if_empty: bool, site_url: str) -> None:
    """Load the demo servers, sample posts and a check of this site itself."""
    from .demo import add_site_check, is_empty, load_demo

    if if_empty and not is_empty():
        click.echo("The site already has content; demo data not loaded.")
        return
    servers, posts = load_demo()
    click.echo(f"Demo data loaded: {servers} servers and {posts} posts added.")
    if add_site_check(site_url):
        click.echo(f"NC042 checks this site at {site_url} (run `ninerstatus runner` to probe it).")


@click.command("create-user")
@click.argument("email")
@click.option("--name", default="", help="Name shown to other staff.")
@click.option("--admin", is_flag=True, help="Make the account an admin (default: editor).")
@click.password_option(prompt="Password", help="Prompted for when not given.")
@with_appcontext
def create_user_command(email: str, name: str, admin: bool, password: str) -> None:
    """Create a staff account (editor, or admin with --admin)."""
    from .models import Role, User

    email = email.strip()
    if "@" not in email or any(c.isspace() for c in email):
        raise click.BadParameter(f"{email!r} is not an e-mail address.", param_hint="EMAIL")
    if db.session.scalar(select(func.count()).where(func.lower(User.email) == email.lower())):
        raise click.ClickException(f"An account for {email} already exists.")
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters.", param_hint="password")
    user = User(email=email, name=name.strip(), role=Role.ADMIN if admin else Role.EDITOR)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {user.role.value} account {email}.")
