"""Staff accounts: sign-in sessions, roles, the sign-in throttle and safe redirects.

The views that use these live in the admin blueprint; this package holds the
rules, so they can be read (and tested) without a request in hand.
"""
