"""Quorum arithmetic: the combined state of a check from what each location says, table by table."""
from __future__ import annotations

import pytest

from ninerstatus.agents.quorum import LocationState, combine, votes_needed
from ninerstatus.probing import Status

OK, WARN, CRIT, UNKNOWN = Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN


def located(*states: tuple[Status | None, bool]) -> list[LocationState]:
    """Locations A, B, C... each with (confirmed status, fresh)."""
    return [LocationState(chr(ord("A") + index), status, fresh) for index, (status, fresh) in enumerate(states)]


FRESH, STALE = True, False

# (what each location says, the check's quorum, combined status, failing locations named, offline ones)
TABLE = [
    # One location (a site without agents): exactly what the single runner says.
    ([(OK, FRESH)], None, OK, "", ""),
    ([(CRIT, FRESH)], None, CRIT, "A", ""),
    ([(WARN, FRESH)], None, WARN, "", ""),
    ([(UNKNOWN, FRESH)], None, UNKNOWN, "", ""),
    ([(None, FRESH)], None, UNKNOWN, "", ""),
    ([(CRIT, STALE)], None, UNKNOWN, "", "A"),
    # Three locations, majority by default: two failing is down, one failing is regional.
    ([(OK, FRESH), (OK, FRESH), (OK, FRESH)], None, OK, "", ""),
    ([(CRIT, FRESH), (OK, FRESH), (OK, FRESH)], None, WARN, "A", ""),
    ([(CRIT, FRESH), (CRIT, FRESH), (OK, FRESH)], None, CRIT, "AB", ""),
    ([(CRIT, FRESH), (CRIT, FRESH), (CRIT, FRESH)], None, CRIT, "ABC", ""),
    ([(OK, FRESH), (WARN, FRESH), (OK, FRESH)], None, WARN, "", ""),
    # A silent location leaves the quorum: never counted down, never counted up.
    ([(CRIT, FRESH), (OK, FRESH), (CRIT, STALE)], None, WARN, "A", "C"),
    ([(CRIT, FRESH), (OK, STALE), (OK, STALE)], None, CRIT, "A", "BC"),
    ([(OK, STALE), (CRIT, STALE), (OK, STALE)], None, UNKNOWN, "", "ABC"),
    # A location whose probe cannot decide gives no opinion.
    ([(UNKNOWN, FRESH), (CRIT, FRESH), (OK, FRESH)], None, WARN, "B", ""),
    ([(UNKNOWN, FRESH), (UNKNOWN, FRESH), (OK, FRESH)], None, OK, "", ""),
    # Four locations: a majority is three, so two failing is regional unless the check says "2".
    ([(CRIT, FRESH), (CRIT, FRESH), (OK, FRESH), (OK, FRESH)], None, WARN, "AB", ""),
    ([(CRIT, FRESH), (CRIT, FRESH), (OK, FRESH), (OK, FRESH)], 2, CRIT, "AB", ""),
    ([(CRIT, FRESH), (CRIT, FRESH), (CRIT, FRESH), (OK, FRESH)], None, CRIT, "ABC", ""),
    # "2 of 3" with only one fresh location failing cannot confirm an outage.
    ([(CRIT, FRESH), (OK, STALE), (OK, STALE)], 2, WARN, "A", "BC"),
    # "1": any failing location is an outage (a check staff want loud).
    ([(CRIT, FRESH), (OK, FRESH), (OK, FRESH)], 1, CRIT, "A", ""),
    # A quorum of 0 or less is not a quorum: the majority applies.
    ([(CRIT, FRESH), (OK, FRESH), (OK, FRESH)], 0, WARN, "A", ""),
    # Failing with a warning elsewhere is still the failure's state.
    ([(CRIT, FRESH), (WARN, FRESH), (OK, FRESH)], None, WARN, "A", ""),
    ([(CRIT, FRESH), (CRIT, FRESH), (WARN, FRESH)], None, CRIT, "AB", ""),
]


@pytest.mark.parametrize(("states", "quorum", "status", "failing", "offline"), TABLE)
def test_combined_state(states, quorum, status, failing, offline):
    verdict = combine(located(*states), quorum)
    assert verdict.status is status
    assert verdict.failing == tuple(failing)
    assert verdict.offline == tuple(offline)


def test_a_regional_problem_is_failing_somewhere_but_not_down():
    regional = combine(located((CRIT, FRESH), (OK, FRESH), (OK, FRESH)))
    assert regional.regional and regional.status is WARN
    assert (regional.judges, regional.reachable, regional.needed) == (3, 2, 2)
    down = combine(located((CRIT, FRESH), (CRIT, FRESH), (OK, FRESH)))
    assert not down.regional and (down.reachable, down.needed) == (1, 2)
    degraded = combine(located((WARN, FRESH), (OK, FRESH)))
    assert not degraded.regional


@pytest.mark.parametrize(("judges", "quorum", "needed"), [
    (0, None, 1), (1, None, 1), (2, None, 2), (3, None, 2), (4, None, 3), (5, None, 3), (3, 2, 2), (3, 5, 5),
])
def test_votes_needed(judges, quorum, needed):
    assert votes_needed(judges, quorum) == needed
