"""Sign-in timing: a refused sign-in for an unknown e-mail address takes as long as for a staff account.

Otherwise the time a refusal takes tells an attacker which addresses have
accounts. tests/admin/test_throttle.py checks the cause (both paths check one
password hash of the same method); the time itself is measured here, since a
test cannot measure it on a busy machine. Known and unknown addresses take
turns, so both see the same load; the throttle's rows are cleared before each
attempt so that every one reaches the password check.

    .venv/bin/python bench/sign_in.py [--rounds 40]

Goal: the median refusal for an unknown address within 0.8 to 1.25 times
the median for a known one.
"""
from __future__ import annotations

import argparse
import statistics
import time

from _common import Site, load_average

KNOWN, UNKNOWN = "admin@example.net", "nobody@example.net"
GOAL = (0.8, 1.25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="refusals timed per address (default 40)")
    rounds = parser.parse_args().rounds

    from sqlalchemy import delete
    from werkzeug.security import generate_password_hash

    from ninerstatus.extensions import db
    from ninerstatus.models import PASSWORD_METHOD, LoginAttempt, Role, User

    site = Site(WTF_CSRF_ENABLED=False)
    try:
        app = site.create_schema()
        with app.app_context():
            db.session.add(User(email=KNOWN, name="Ann Admin", role=Role.ADMIN,
                                password_hash=generate_password_hash("the right one", method=PASSWORD_METHOD)))
            db.session.commit()
        client = app.test_client()

        def refusal_seconds(email: str) -> float:
            with app.app_context():
                db.session.execute(delete(LoginAttempt))
                db.session.commit()
            started = time.perf_counter()
            response = client.post("/admin/login", data={"email": email, "password": "not the password"})
            seconds = time.perf_counter() - started
            assert response.status_code == 200, f"sign-in as {email} answered {response.status_code}"
            return seconds

        print(f"load average before: {load_average():.2f}")
        known, unknown = [], []
        for _ in range(rounds):
            known.append(refusal_seconds(KNOWN))
            unknown.append(refusal_seconds(UNKNOWN))
        known_median, unknown_median = statistics.median(known), statistics.median(unknown)
        ratio = unknown_median / known_median
        print(f"refused sign-in, staff account:   median {known_median * 1000:.1f} ms over {rounds}")
        print(f"refused sign-in, unknown address: median {unknown_median * 1000:.1f} ms over {rounds}")
        verdict = "within" if GOAL[0] <= ratio <= GOAL[1] else "OUTSIDE"
        print(f"ratio unknown/known: {ratio:.2f} ({verdict} the goal {GOAL[0]} to {GOAL[1]})")
    finally:
        site.remove()


if __name__ == "__main__":
    main()
