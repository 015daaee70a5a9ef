#!/usr/bin/env bash
# Debian's real protocol servers on 127.0.0.1 high ports, for the integration tests.
#
#   services.sh start    install what is missing, then start what is not running
#   services.sh stop     stop every daemon this script started
#   services.sh status   say which daemon answers its port (exit 1 if any does not)
#
# Each daemon runs from configs rendered out of tests/integration/config into
# a state folder ($NINERSTATUS_INTEGRATION_DIR, default
# /tmp/ninerstatus-integration), never from /etc, and without systemd. The
# ports, paths and test account are written to services.env there, which the
# tests read. Starting again is a no-op when everything answers with the
# current configs, so `make test` can call this every time.
#
# What it adds to the machine besides the packages: a system account
# "ninertest" (the FTP test login, whose password PAM checks) and
# /etc/pam.d/ninerstatus-ftp. Everything else lives under the state folder
# (postfix delivers the test subscribers' mail to maildirs there too).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
STATE=${NINERSTATUS_INTEGRATION_DIR:-/tmp/ninerstatus-integration}
PYTHON=${NINERSTATUS_PYTHON:-$repo/.venv/bin/python}

TEST_USER=ninertest
TEST_PASSWORD=integration-secret
PAM_SERVICE=ninerstatus-ftp
KAMAILIO_MODULES=$(ls -d /usr/lib/*/kamailio/modules 2>/dev/null | head -n1 || true)

SMTP_PLAIN_PORT=10025
SMTP_SUBMISSION_PORT=10587
SMTPS_PORT=10465
IMAP_PORT=10143
IMAPS_PORT=10993
POP3_PORT=10110
POP3S_PORT=10995
FTP_PORT=10021
FTP_PASV_MIN=10200
FTP_PASV_MAX=10219
HTTP_PORT=10080
HTTPS_PORT=10443
DNS_PRIMARY_PORT=10053
DNS_SECONDARY_PORT=10054
SIP_PORT=10060
SIPS_PORT=10061
SIP_DEGRADED_PORT=10062

DNS_ZONE=ninerstatus.test
DNS_SYNC_ZONE=sync.ninerstatus.test
DNS_PRIMARY_SERIAL=2024060102
DNS_SECONDARY_SERIAL=2024060101
DNS_SYNC_SERIAL=2024060100

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# Every service: the TCP port that proves it answers.
declare -A CHECK_PORT=(
  [postfix]=$SMTP_SUBMISSION_PORT [dovecot]=$IMAP_PORT [vsftpd]=$FTP_PORT [nginx]=$HTTP_PORT
  [nsd-primary]=$DNS_PRIMARY_PORT [nsd-secondary]=$DNS_SECONDARY_PORT [kamailio]=$SIP_PORT
)
SERVICES=(postfix dovecot vsftpd nginx nsd-primary nsd-secondary kamailio)

answers() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_for_port() {
  local service=$1 port=$2
  for _ in $(seq 50); do
    answers "$port" && return 0
    sleep 0.2
  done
  die "$service does not answer on 127.0.0.1:$port; see $STATE/log/"
}

# ------------------------------------------------------------------ install

install_packages() {
  "$repo/scripts/system-deps.sh" integration
  KAMAILIO_MODULES=$(ls -d /usr/lib/*/kamailio/modules | head -n1)
}

ensure_test_account() {
  if ! id "$TEST_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir "$STATE/vsftpd/ftproot" --shell /usr/sbin/nologin "$TEST_USER"
  fi
  echo "$TEST_USER:$TEST_PASSWORD" | chpasswd
  cmp -s "$here/config/vsftpd.pam" "/etc/pam.d/$PAM_SERVICE" || install -m 0644 "$here/config/vsftpd.pam" "/etc/pam.d/$PAM_SERVICE"
}

# ------------------------------------------------------------------ configs

render() {
  local template=$1 out=$2
  sed -e "s|@STATE@|$STATE|g" -e "s|@CERT@|$STATE/certs/server.pem|g" -e "s|@KEY@|$STATE/certs/server.key|g" \
      -e "s|@KAMAILIO_MODULES@|$KAMAILIO_MODULES|g" -e "s|@PAM_SERVICE@|$PAM_SERVICE|g" \
      -e "s|@MAIL_UID@|$(id -u nobody)|g" -e "s|@MAIL_GID@|$(id -g nobody)|g" \
      -e "s|@SMTP_PLAIN_PORT@|$SMTP_PLAIN_PORT|g" -e "s|@SMTP_SUBMISSION_PORT@|$SMTP_SUBMISSION_PORT|g" \
      -e "s|@SMTPS_PORT@|$SMTPS_PORT|g" -e "s|@IMAP_PORT@|$IMAP_PORT|g" -e "s|@IMAPS_PORT@|$IMAPS_PORT|g" \
      -e "s|@POP3_PORT@|$POP3_PORT|g" -e "s|@POP3S_PORT@|$POP3S_PORT|g" -e "s|@FTP_PORT@|$FTP_PORT|g" \
      -e "s|@FTP_PASV_MIN@|$FTP_PASV_MIN|g" -e "s|@FTP_PASV_MAX@|$FTP_PASV_MAX|g" \
      -e "s|@HTTP_PORT@|$HTTP_PORT|g" -e "s|@HTTPS_PORT@|$HTTPS_PORT|g" \
      -e "s|@DNS_PRIMARY_PORT@|$DNS_PRIMARY_PORT|g" -e "s|@DNS_SECONDARY_PORT@|$DNS_SECONDARY_PORT|g" \
      -e "s|@SIP_PORT@|$SIP_PORT|g" -e "s|@SIPS_PORT@|$SIPS_PORT|g" -e "s|@SIP_DEGRADED_PORT@|$SIP_DEGRADED_PORT|g" \
      "$here/config/$template" >"$out"
}

render_zone() {
  local zone=$1 serial=$2 out=$3
  sed -e "s|@ZONE@|$zone|g" -e "s|@SERIAL@|$serial|g" "$here/config/zone.in" >"$out"
}

# A fingerprint of everything that shapes the running daemons: when it
# changes, a running set is restarted with the new configs.
fingerprint() { cat "$0" "$here"/config/* "$here/make_certs.py" | sha256sum | cut -d' ' -f1; }

prepare() {
  mkdir -p "$STATE"/{certs,log,postfix/etc,postfix/data,postfix/spool,dovecot/run,dovecot/state,dovecot/mail} \
           "$STATE"/{vsftpd/empty,vsftpd/ftproot,nginx/www,nsd-primary,nsd-secondary,kamailio/run}
  [ -s "$STATE/certs/server.pem" ] || "$PYTHON" "$here/make_certs.py" "$STATE/certs"

  render postfix-main.cf.in "$STATE/postfix/etc/main.cf"
  render postfix-master.cf.in "$STATE/postfix/etc/master.cf"
  render postfix-virtual-mailboxes.regexp.in "$STATE/postfix/etc/virtual-mailboxes.regexp"
  chown postfix "$STATE/postfix/data"
  # The subscribers' maildirs: postfix's virtual agent writes them as nobody.
  mkdir -p "$STATE/postfix/mailboxes"
  chown nobody:"$(id -gn nobody)" "$STATE/postfix/mailboxes"

  render dovecot.conf.in "$STATE/dovecot/dovecot.conf"
  printf '%s:{PLAIN}%s\n' "$TEST_USER" "$TEST_PASSWORD" >"$STATE/dovecot/users"
  chown nobody:"$(id -gn nobody)" "$STATE/dovecot/mail"

  render vsftpd.conf.in "$STATE/vsftpd/vsftpd.conf"
  echo "$TEST_USER" >"$STATE/vsftpd/user_list"
  chmod 0755 "$STATE/vsftpd/empty"
  echo "ninerstatus integration file" >"$STATE/vsftpd/ftproot/hello.txt"

  render nginx.conf.in "$STATE/nginx/nginx.conf"
  echo "ninerstatus integration page" >"$STATE/nginx/www/index.html"

  render nsd-primary.conf.in "$STATE/nsd-primary/nsd.conf"
  render nsd-secondary.conf.in "$STATE/nsd-secondary/nsd.conf"
  render_zone "$DNS_ZONE" "$DNS_PRIMARY_SERIAL" "$STATE/nsd-primary/$DNS_ZONE.zone"
  render_zone "$DNS_SYNC_ZONE" "$DNS_SYNC_SERIAL" "$STATE/nsd-primary/$DNS_SYNC_ZONE.zone"
  render_zone "$DNS_ZONE" "$DNS_SECONDARY_SERIAL" "$STATE/nsd-secondary/$DNS_ZONE.zone"

  render kamailio.cfg.in "$STATE/kamailio/kamailio.cfg"
  render kamailio-tls.cfg.in "$STATE/kamailio/tls.cfg"

  write_env
}

write_env() {
  cat >"$STATE/services.env.tmp" <<EOF
# Written by tests/integration/services.sh; read by tests/integration/conftest.py.
STATE=$STATE
CA_FILE=$STATE/certs/ca.pem
TLS_NAME=localhost
TEST_USER=$TEST_USER
TEST_PASSWORD=$TEST_PASSWORD
SMTP_PLAIN_PORT=$SMTP_PLAIN_PORT
SMTP_SUBMISSION_PORT=$SMTP_SUBMISSION_PORT
SMTPS_PORT=$SMTPS_PORT
SUBSCRIBER_DOMAIN=subscribers.ninerstatus.test
SUBSCRIBER_MAILDIR=$STATE/postfix/mailboxes/subscribers
IMAP_PORT=$IMAP_PORT
IMAPS_PORT=$IMAPS_PORT
POP3_PORT=$POP3_PORT
POP3S_PORT=$POP3S_PORT
FTP_PORT=$FTP_PORT
HTTP_PORT=$HTTP_PORT
HTTPS_PORT=$HTTPS_PORT
DNS_PRIMARY_PORT=$DNS_PRIMARY_PORT
DNS_SECONDARY_PORT=$DNS_SECONDARY_PORT
DNS_ZONE=$DNS_ZONE
DNS_SYNC_ZONE=$DNS_SYNC_ZONE
DNS_PRIMARY_SERIAL=$DNS_PRIMARY_SERIAL
DNS_SECONDARY_SERIAL=$DNS_SECONDARY_SERIAL
DNS_SYNC_SERIAL=$DNS_SYNC_SERIAL
SIP_PORT=$SIP_PORT
SIPS_PORT=$SIPS_PORT
SIP_DEGRADED_PORT=$SIP_DEGRADED_PORT
EOF
  mv "$STATE/services.env.tmp" "$STATE/services.env"
}

# ------------------------------------------------------------------ daemons

start_one() {
  case $1 in
    postfix) postfix -c "$STATE/postfix/etc" start ;;
    # Dovecot's auth socket lives in postfix's queue, so postfix goes first.
    dovecot) dovecot -c "$STATE/dovecot/dovecot.conf" ;;
    vsftpd)
      setsid vsftpd "$STATE/vsftpd/vsftpd.conf" &
      ;;
    nginx) nginx -c "$STATE/nginx/nginx.conf" -e "$STATE/log/nginx-error.log" ;;
    nsd-primary) nsd -c "$STATE/nsd-primary/nsd.conf" ;;
    nsd-secondary) nsd -c "$STATE/nsd-secondary/nsd.conf" ;;
    kamailio)
      kamailio -f "$STATE/kamailio/kamailio.cfg" -P "$STATE/kamailio/kamailio.pid" \
        -Y "$STATE/kamailio/run" -w "$STATE/kamailio/run" -m 32 -M 8
      ;;
  esac
}

kill_pidfile() {
  local file=$1
  [ -s "$file" ] || return 0
  local pid
  pid=$(cat "$file")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 25); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  rm -f "$file"
}

stop_one() {
  case $1 in
    postfix) postfix -c "$STATE/postfix/etc" stop >/dev/null 2>&1 || true ;;
    dovecot) dovecot -c "$STATE/dovecot/dovecot.conf" stop 2>/dev/null || true ;;
    vsftpd)
      # vsftpd writes no pid file: stop the listener on our port, and only it.
      local pids
      pids=$(ss -Hltnp "sport = :$FTP_PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)
      for pid in $pids; do
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = vsftpd ] && kill "$pid"
      done
      ;;
    nginx) [ -s "$STATE/nginx/nginx.pid" ] && nginx -c "$STATE/nginx/nginx.conf" -e "$STATE/log/nginx-error.log" -s quit 2>/dev/null || true ;;
    nsd-primary) kill_pidfile "$STATE/nsd-primary/nsd.pid" ;;
    nsd-secondary) kill_pidfile "$STATE/nsd-secondary/nsd.pid" ;;
    kamailio) kill_pidfile "$STATE/kamailio/kamailio.pid" ;;
  esac
}

# The secondary transfers sync.ninerstatus.test from the primary a moment
# after it starts; the tests expect the two in step, so wait for it.
wait_for_zone_transfer() {
  for _ in $(seq 50); do
    "$PYTHON" - "$DNS_SYNC_ZONE" "$DNS_SECONDARY_PORT" "$DNS_SYNC_SERIAL" <<'EOF' && return 0
import sys
import dns.message, dns.query, dns.rdatatype
zone, port, serial = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
try:
    reply = dns.query.udp(dns.message.make_query(zone, dns.rdatatype.SOA), "127.0.0.1", port=port, timeout=0.5)
    sys.exit(0 if any(rr.serial == serial for rrset in reply.answer for rr in rrset) else 1)
except Exception:
    sys.exit(1)
EOF
    sleep 0.2
  done
  die "the secondary nameserver did not transfer $DNS_SYNC_ZONE; see $STATE/log/nsd-*.log"
}

all_answer() {
  for service in "${SERVICES[@]}"; do
    answers "${CHECK_PORT[$service]}" || return 1
  done
}

cmd_start() {
  local print=$(fingerprint)
  if [ -f "$STATE/fingerprint" ] && [ "$(cat "$STATE/fingerprint")" = "$print" ] && all_answer; then
    log "already running (state in $STATE)"
    return 0
  fi
  install_packages
  if [ -f "$STATE/fingerprint" ] && [ "$(cat "$STATE/fingerprint")" != "$print" ]; then
    log "configs changed: restarting"
    cmd_stop
  fi
  ensure_test_account
  prepare
  for service in "${SERVICES[@]}"; do
    if ! answers "${CHECK_PORT[$service]}"; then
      # Daemons must not keep the caller's stdout: `make test | tee` would never end.
      start_one "$service" </dev/null >>"$STATE/log/$service-start.log" 2>&1
      wait_for_port "$service" "${CHECK_PORT[$service]}"
    fi
  done
  wait_for_zone_transfer
  echo "$print" >"$STATE/fingerprint"
  log "running; ports and paths in $STATE/services.env"
}

cmd_stop() {
  for service in "${SERVICES[@]}"; do
    stop_one "$service"
  done
  rm -f "$STATE/fingerprint"
}

cmd_status() {
  local status=0
  for service in "${SERVICES[@]}"; do
    if answers "${CHECK_PORT[$service]}"; then
      echo "$service: up on 127.0.0.1:${CHECK_PORT[$service]}"
    else
      echo "$service: down"
      status=1
    fi
  done
  return $status
}

case "${1:-}" in
  start|stop)
    if [ "$(id -u)" -ne 0 ]; then
      # postfix's master and vsftpd need root; so do apt-get and the test account.
      exec sudo --preserve-env=NINERSTATUS_INTEGRATION_DIR,NINERSTATUS_PYTHON "$0" "$@"
    fi
    "cmd_$1"
    ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
