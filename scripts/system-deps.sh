#!/usr/bin/env bash
# Install the Debian packages a step needs, and only those that are missing.
#   system-deps.sh venv   what creating the virtual environment needs
#   system-deps.sh test   what the test suite needs (PostgreSQL for its second leg, Chromium)
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
  *)
    echo "usage: $0 venv|test" >&2
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
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
