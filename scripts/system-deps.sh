#!/usr/bin/env bash
# Install the Debian packages a step needs, and only those that are missing.
#   system-deps.sh venv   what creating the virtual environment needs
#   system-deps.sh test   what the test suite needs (PostgreSQL for its second leg, Chromium)
#   system-deps.sh bench  what bench/ measures against (nginx, wrk, blackbox_exporter, check_smtp, check_http)
set -euo pipefail

want=()
case "${1:-}" in
  venv)
    python3 -c 'import ensurepip, venv' 2>/dev/null || want+=(python3-venv)
    ;;
  test)
    # The PostgreSQL leg uses the server on 127.0.0.1:5432 when there is one,
    # or else starts a throwaway cluster from these binaries.
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || want+=(postgresql)
    # The browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
    [ -x /usr/bin/chromium ] || want+=(chromium)
    ;;
  integration)
    want+=(postfix dovecot-imapd dovecot-pop3d vsftpd nginx nsd kamailio kamailio-tls-modules)
    # The regional tests give agents network namespaces of their own and firewall them with nftables.
    want+=(iproute2 nftables)
    ;;
  bench)
    # check_smtp and check_http come in -basic, which -standard depends on.
    want+=(nginx wrk prometheus-blackbox-exporter monitoring-plugins-basic monitoring-plugins-standard)
    ;;
  *)
    echo "usage: $0 venv|test|integration|bench" >&2
    exit 2
    ;;
esac

((${#want[@]})) || exit 0
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
((${#missing[@]})) || exit 0

echo "Installing Debian packages: ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
# Package scripts start daemons through invoke-rc.d (postfix on 25, nginx on
# 80...); where no policy-rc.d says "no" already, one does for this install.
own_policy=
if [ "$1" != test ] && [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${sudo[@]}" chmod +x /usr/sbin/policy-rc.d
  own_policy=1
fi
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
[ -z "$own_policy" ] || "${sudo[@]}" rm -f /usr/sbin/policy-rc.d
