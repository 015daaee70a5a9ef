"""Making the site match a checked configuration file: work out the plan, then carry it out in one transaction.

``reconcile`` walks the file and the database side by side. Asked only to
look, it returns the ``Plan``; asked to write, it makes each change as it
goes and returns the plan of what it did. ``apply_document`` runs the
writing walk inside one transaction (``BEGIN IMMEDIATE`` on SQLite, rows
locked ``FOR UPDATE`` on PostgreSQL) and commits only when that plan is the
one that was shown: a staff member who saved a server or check in the admin
in between makes the command stop, change nothing, and say so.

Locations are matched by name (ignoring case), the site's own runner by
being it. What each probed is read before anything changes, since removing
a check removes its assignments; removed locations go first, then the
site's own (its new name may be one a removed location freed), then the
file's agent locations in order. Tokens are never in the file: a location
made here has none until an admin gives it one.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ..agents.locations import site_location, unsaved_site_location
from ..agents.models import CheckLocation, Location

from ..checks.models import Check
from ..extensions import db
from ..models import Server
from ..runner.transactions import write_transaction
from ..site_settings import SiteSetting, forget_setting, store_setting, stored_settings
from .diff import CREATE, REMOVE, UPDATE, Change, FieldChange, Plan
from .document import (CHECK_KEYS, SERVER_KEYS, CheckEntry, CheckKey, Document, LocationEntry, ServerEntry,
                       check_key, check_reference, notifier_settings)

#: Columns named as the file names them (``interval`` for ``interval_seconds``).
_FILE_KEYS = {**{key.field: name for name, key in SERVER_KEYS.items() if key.field},
              **{key.field: name for name, key in CHECK_KEYS.items() if key.field},
              "type_name": "type", "display_order": "order"}


class SiteChanged(Exception):
    """The site changed between the plan shown and the transaction meant to carry it out."""


class Refused(Exception):
    """The site holds something the file cannot be applied to as it stands (said in words)."""


def label_for(name: str, type_name: str, port: int, current: str | None) -> str:
    """The label that makes a check's title ``name``: none when type and port say it, unless it has it already."""
    if current == name or name != f"{type_name.upper()} {port}":
        return name
    return ""


def _key(column: str) -> str:
    return _FILE_KEYS.get(column, column)


class _Walk:
    """One walk of the file against the database; writes only when ``write`` is set."""

    def __init__(self, prune: bool, write: bool) -> None:
        self.prune, self.write = prune, write
        self.changes: list[Change] = []
        self.kept: list[str] = []
        self.notes: list[str] = []
        self.locations_before: list[Location] = []
        # What each location probed when the walk began: check key -> (check id, how the file names it).
        self.probed: dict[int, dict[CheckKey, tuple[int, str]]] = defaultdict(dict)
        self.check_ids: dict[CheckKey, list[int]] = defaultdict(list)

    def columns(self, row: Any, wanted: dict[str, Any]) -> list[FieldChange]:
        """The columns of ``row`` that differ from ``wanted`` (set when writing)."""
        fields = []
        for column, value in wanted.items():
            if getattr(row, column) != value:
                if column != "label":  # the name is the key: its label changes only to keep the name
                    fields.append(FieldChange.of(_key(column), getattr(row, column), value))
                if self.write:
                    setattr(row, column, value)
        return fields

    def servers(self, entries: list[ServerEntry]) -> None:
        query = select(Server).options(selectinload(Server.checks)).order_by(Server.display_order, Server.code)
        if self.write:
            query = query.with_for_update()
            db.session.execute(select(Check.id).with_for_update())
        remaining = {server.code.lower(): server for server in db.session.scalars(query)}
        for entry in entries:
            server = remaining.pop(entry.code.lower(), None)
            if server is None:
                self.changes.append(Change(CREATE, f"server {entry.code}", tuple(
                    FieldChange.of(_key(column), None, value) for column, value in entry.values.items())))
                if self.write:
                    server = Server(**entry.values)
                    db.session.add(server)
            else:
                fields = self.columns(server, entry.values)
                if fields:
                    self.changes.append(Change(UPDATE, f"server {entry.code}", tuple(fields)))
            self.checks(server, entry)
        for server in remaining.values():
            if self.prune:
                checks = f" and its {len(server.checks)} checks" if server.checks else ""
                self.changes.append(Change(REMOVE, f"server {server.code}{checks}"))
                if self.write:
                    db.session.delete(server)
            else:
                self.kept.append(f"server {server.code}")

    def checks(self, server: Server | None, entry: ServerEntry) -> None:
        by_title: dict[str, list[Check]] = defaultdict(list)
        for check in server.checks if server is not None and server.id is not None else ():
            by_title[check.title].append(check)
        for wanted in entry.checks:
            found = by_title.pop(wanted.name, [])
            if len(found) > 1:
                raise Refused(f"server {entry.code} has {len(found)} checks named {wanted.name!r}: rename all but "
                              "one in the admin's check form, then apply the file again")
            self.check(server, entry.code, found[0] if found else None, wanted)
        for title, checks in by_title.items():
            for check in checks:
                if self.prune:
                    self.changes.append(Change(REMOVE, f"check {entry.code} / {title}"))
                    if self.write:
                        db.session.delete(check)
                else:
                    self.kept.append(f"check {entry.code} / {title}")

    def check(self, server: Server | None, code: str, check: Check | None, wanted: CheckEntry) -> None:
        columns = {"type_name": wanted.check_type.name, **wanted.values, "display_order": wanted.display_order}
        columns["label"] = label_for(wanted.name, wanted.check_type.name, columns["port"],
                                     check.label if check else None)
        what = f"check {code} / {wanted.name}"
        if check is None:
            fields = [FieldChange.of(_key(column), None, value) for column, value in columns.items()]
            fields += self.settings({}, (), wanted)
            self.changes.append(Change(CREATE, what, tuple(fields)))
            if self.write:
                check = Check(server=server, **columns)
                check.store_settings(wanted.settings, wanted.check_type.secret_names)
                db.session.add(check)
            return
        fields = self.columns(check, columns)
        if isinstance(check.settings, dict):  # a stored row is untrusted: anything else is replaced whole
            current, unreadable = check.readable_settings()
        else:
            current, unreadable = {}, ()
        settings_fields = self.settings(current, unreadable, wanted)
        if settings_fields and self.write:
            check.store_settings(wanted.settings, wanted.check_type.secret_names)
        if fields or settings_fields:
            self.changes.append(Change(UPDATE, what, tuple(fields + settings_fields)))

    @staticmethod
    def settings(current: dict[str, Any], unreadable: tuple[str, ...], wanted: CheckEntry) -> list[FieldChange]:
        """The settings that differ (a secret that cannot be decrypted always does)."""
        fields = []
        secrets = wanted.check_type.secret_names
        for name in [*wanted.settings, *(name for name in current if name not in wanted.settings)]:
            old, new = current.get(name), wanted.settings.get(name)
            if name in unreadable or name not in current or old != new:
                fields.append(FieldChange.of(f"settings.{name}", old if name in current else None, new,
                                             secret=name in secrets))
        return fields

    def read_locations(self) -> None:
        """Read the locations and the checks each probes, before the servers' walk removes or renames any check."""
        query = select(Location).order_by(Location.id)
        if self.write:
            query = query.with_for_update()
            db.session.execute(select(CheckLocation.check_id).with_for_update())
        self.locations_before = list(db.session.scalars(query))
        rows = db.session.execute(select(CheckLocation.location_id, Check)
                                  .join(Check, Check.id == CheckLocation.check_id).options(joinedload(Check.server)))
        for location_id, check in rows:
            self.probed[location_id][check_key(check.server.code, check.title)] = (
                check.id, check_reference(check.server.code, check.title))

    def locations(self, entries: list[LocationEntry]) -> None:
        if self.write:
            db.session.flush()  # the file's new checks get their ids
        for check in db.session.scalars(select(Check).options(joinedload(Check.server)).order_by(Check.id)):
            self.check_ids[check_key(check.server.code, check.title)].append(check.id)
        site = next((location for location in self.locations_before if location.is_site), None)
        agents: dict[str, list[Location]] = defaultdict(list)
        for location in self.locations_before:
            if not location.is_site:
                agents[location.name.lower()].append(location)
        pairs = []
        for entry in entries:
            found = [site] if entry.site else agents.pop(entry.name.lower(), [])
            if len(found) > 1:
                raise Refused(f"the site has {len(found)} locations named {entry.name!r}: rename all but one on the "
                              "admin's Locations page, then apply the file again")
            pairs.append((entry, found[0] if found else None))
        site_name = next((entry.name for entry in entries if entry.site), site.name if site else None)
        left = [location for locations in agents.values() for location in locations]
        others = {entry.name.lower() for entry in entries if not entry.site} | (set() if self.prune else set(agents))
        if site_name is not None and site_name.lower() in others:
            raise Refused(f"the site's own location and another would both be named {site_name}: rename one of them "
                          "(an agent location the file leaves out is removed only with --prune)")
        for location in left:
            if self.prune:
                token = " and its token" if location.token_hash else ""
                self.changes.append(Change(REMOVE, f"location {location.name}{token}"))
                if self.write:
                    db.session.delete(location)
            else:
                self.kept.append(f"location {location.name}")
        if self.write:
            db.session.flush()  # a removed location's name is free for the locations below
        for entry, location in sorted(pairs, key=lambda pair: not pair[0].site):
            self.location(entry, location)

    def location(self, entry: LocationEntry, location: Location | None) -> None:
        what = f"location {entry.name}" + (" (the site's own runner)" if entry.site else "")
        if entry.site and location is None:  # made as the runner would make it; looking, it is not stored
            location = site_location() if self.write else unsaved_site_location()
        # The site's own runner probes every enabled check: the file names none for it, and its rows stay.
        before = self.probed.get(location.id, {}) if location is not None and not entry.site else {}
        assigned = [FieldChange("checks", None, f"+ {text}") for key, text in entry.checks.items() if key not in before]
        unassigned = [key for key in before if key not in entry.checks]
        assigned += [FieldChange("checks", None, f"- {before[key][1]}") for key in unassigned]
        if location is None:
            fields = [FieldChange.of(column, None, value) for column, value in entry.values.items()]
            self.changes.append(Change(CREATE, what, tuple(fields + assigned)))
            self.notes.append(f"location {entry.name} has no token: an admin gives it one on the Locations page "
                              "(New token) before its agent can report")
            if self.write:
                location = Location(**entry.values)
                db.session.add(location)
        else:
            fields = self.columns(location, entry.values)
            if fields or assigned:
                self.changes.append(Change(UPDATE, what, tuple(fields + assigned)))
        if self.write:
            db.session.flush()
            self.assign(location, before, entry.checks)
        else:
            self.check_ids_of(entry.checks, before)

    def check_ids_of(self, keys: dict[CheckKey, str], before: dict[CheckKey, tuple[int, str]]) -> dict[CheckKey, int]:
        """The id of each check in ``keys`` not probed already (none yet for a check the file creates)."""
        ids = {}
        for key, text in keys.items():
            found = self.check_ids.get(key, [])
            if len(found) > 1:
                raise Refused(f"the site has {len(found)} checks named {text!r}: rename all but one in the admin's "
                              "check form, then apply the file again")
            if key not in before and found:
                ids[key] = found[0]
        return ids

    def assign(self, location: Location, before: dict[CheckKey, tuple[int, str]], keys: dict[CheckKey, str]) -> None:
        """Make ``location``, which probed ``before``, probe the checks of ``keys``; a kept assignment keeps its state.

        A check removed above took its assignments with it: deleting them here too deletes nothing more.
        """
        unassigned = [check_id for key, (check_id, _) in before.items() if key not in keys]
        db.session.execute(delete(CheckLocation).where(CheckLocation.location_id == location.id,
                                                       CheckLocation.check_id.in_(unassigned)))
        ids = self.check_ids_of(keys, before)
        for key in keys:
            if key not in before and key not in ids:
                raise SiteChanged(f"the check {keys[key]} is gone (someone removed it meanwhile)")
            if key not in before:
                db.session.add(CheckLocation(check_id=ids[key], location_id=location.id))

    def notifications(self, chosen: dict[str, Any]) -> None:
        rows = select(SiteSetting.name)
        stored_names = set(db.session.scalars(rows.with_for_update() if self.write else rows))
        stored = stored_settings()
        fields = []
        for key, spec in notifier_settings().items():
            current = stored[spec.name] if spec.name in stored else current_app.config.get(spec.name)
            if spec.name in chosen:
                if current != chosen[spec.name]:
                    fields.append(FieldChange.of(key, current, chosen[spec.name], secret=spec.secret))
                    if self.write:
                        store_setting(spec.name, chosen[spec.name])
            elif self.prune and spec.name in stored_names:
                configured = current_app.config.get(spec.name)
                fields.append(FieldChange.of(key, current, configured, secret=spec.secret))
                if self.write:
                    forget_setting(spec.name)
        if fields:
            self.changes.append(Change(UPDATE, "notifications", tuple(fields)))


def reconcile(document: Document, *, prune: bool, write: bool = False) -> Plan:
    """What applying ``document`` changes (made as it goes when ``write``); ``Refused`` when it cannot apply."""
    walk = _Walk(prune, write)
    if document.locations is not None:
        walk.read_locations()
    walk.servers(document.servers)
    if document.locations is not None:
        walk.locations(document.locations)
    walk.notifications(document.notifications)
    if write:
        db.session.flush()
    return Plan(tuple(walk.changes), tuple(walk.kept), tuple(walk.notes))


def apply_document(document: Document, shown: Plan, *, prune: bool) -> Plan:
    """Carry out ``shown`` in one transaction; ``SiteChanged`` (and nothing changed) if the site moved since."""
    try:
        with write_transaction():
            done = reconcile(document, prune=prune, write=True)
            if done != shown:
                raise SiteChanged("the site changed since the changes above were worked out (someone saved a "
                                  "server, check, location or setting meanwhile)")
    except IntegrityError:  # e.g. a server added in the admin, with a code of the file, while this ran
        db.session.rollback()
        raise SiteChanged("the database refused the changes: the site changed while the file was being "
                          "applied") from None
    return done
