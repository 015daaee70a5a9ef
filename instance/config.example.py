"""Example instance settings: copy to instance/config.py and edit.

Every setting can also be given as an environment variable prefixed with
NINERSTATUS_ (for example NINERSTATUS_DATABASE_URL), which wins over this file.
"""

# A long random string; `ninerstatus init` writes one for you.
SECRET_KEY = "change me"

# Default: the SQLite file ninerstatus.sqlite in this folder.
# For PostgreSQL (several web workers and probe runners on one database):
# DATABASE_URL = "postgresql+psycopg://status@db.example.net/status"

# What visitors see in the header, the page titles and the feeds.
COMPANY_NAME = "Example Hosting"
COMPANY_URL = "https://www.example.net/"
SITE_NAME = "System Status"
SITE_TAGLINE = "Server and System Status"

# Where the live site is, for the static mirror (`ninerstatus export-static`):
# its pages send the search form there. Unset, they say search needs the live site.
# SITE_URL = "https://status.example.net/"

# Posts per page on the home, tag, server and archive pages.
POSTS_PER_PAGE = 10

# Serve the session cookie only over HTTPS once the site is behind TLS.
# SESSION_COOKIE_SECURE = True

# The site's own address. Feeds and the API put absolute links in their
# answers, built from SERVER_NAME; requests for any host but SERVER_NAME and
# this machine's own names and addresses get 400. Without SERVER_NAME only
# this machine's names and addresses are answered. TRUSTED_HOSTS, when set,
# lists every host answered instead.
# SERVER_NAME = "status.example.net"
# PREFERRED_URL_SCHEME = "https"
# TRUSTED_HOSTS = ["status.example.net"]

# Behind a reverse proxy: how many proxies' X-Forwarded-For/-Proto to believe
# (the sign-in throttle counts client addresses; the scheme decides Secure cookies).
# TRUSTED_PROXY_HOPS = 1

# Prometheus metrics at /metrics (docs/metrics.md): off until one of these is set. A bearer
# token scrapers send, and/or the addresses or networks allowed to scrape (with both, both).
# METRICS_TOKEN = "a long random string"
# METRICS_ALLOW = ["10.0.0.0/8", "2001:db8::/32"]
