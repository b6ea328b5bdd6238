#!/bin/sh
# make.sh — regenerates the Exim lab captures in this directory.
#
# Runs the system's Exim (4.96, Debian package exim4-daemon-heavy; it
# conflicts with Postfix and OpenSMTPD, so install it for the run only) as a
# daemon from a private configuration and spool under a temporary directory,
# listening on 127.0.0.1:$PORT only and delivering nowhere (the one router
# accepts root@lab.example and root+ANY@lab.example into /dev/null). For each
# scenario it writes the configuration (base + the scenario's lines), starts
# Exim, captures the loopback traffic with tcpdump while one client (swaks or
# ../postfix/client.py) runs, stops Exim, and keeps the capture as NAME.pcap.
# The expected verdicts are in MANIFEST.md;
# tests/integration/test_exim_captures.py checks them.
#
# Needs root (Exim, tcpdump), exim4, swaks, python3, tcpdump. Not run in CI.
# Usage: sudo [ONLY="name ..."] [OUT=DIR] tests/data/exim/make.sh
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${PORT:-2725}
W=$(mktemp -d /tmp/sleuth-exim.XXXXXX)
chmod 755 "$W"
TCPDUMP_PID=
EXIM_PID=

stop_exim() {
    if [ -n "$EXIM_PID" ]; then
        kill "$EXIM_PID" 2>/dev/null || true
        sleep 1
    fi
    EXIM_PID=
}
cleanup() {
    [ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null || true
    stop_exim
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM

mkdir -p "$W/spool" "$W/log"
chown -R Debian-exim:Debian-exim "$W/spool" "$W/log"

# conf MAIN CONNECT_ACL MAIL_ACL RCPT_ACL: the configuration of one scenario.
conf() {
    cat <<EOF
primary_hostname = mx.lab.example
domainlist local_domains = lab.example
hostlist relay_from_hosts = 10.99.0.0/16
daemon_smtp_ports = $PORT
local_interfaces = 127.0.0.1
spool_directory = $W/spool
log_file_path = $W/log/%slog
exim_user = Debian-exim
exim_group = Debian-exim
never_users = root
keep_environment =
host_lookup =
rfc1413_hosts =
smtp_banner = \$smtp_active_hostname ESMTP Exim \$version_number
acl_smtp_connect = acl_connect
acl_smtp_mail = acl_mail
acl_smtp_rcpt = acl_rcpt
$1

begin acl

acl_connect:
$2
  accept

acl_mail:
$3
  accept

acl_rcpt:
$4
  accept  hosts = +relay_from_hosts
  accept  authenticated = *
  require message = relay not permitted
          domains = +local_domains
  require verify = recipient
  accept

begin routers

root_only:
  driver = accept
  domains = +local_domains
  local_parts = root
  local_part_suffix = +*
  local_part_suffix_optional
  transport = devnull

begin transports

devnull:
  driver = appendfile
  file = /dev/null
  user = Debian-exim

begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and {{eq{\$auth2}{user}}{eq{\$auth3}{secret}}}}
  server_set_id = \$auth2
EOF
}

# run NAME MAIN CONNECT MAIL RCPT CLIENT-COMMAND...
run() {
    name=$1; shift
    case " ${ONLY:-} " in "  ") ;; *" $name "*) ;; *) return 0 ;; esac
    conf "$1" "$2" "$3" "$4" >"$W/exim.conf"
    shift 4
    exim4 -C "$W/exim.conf" -bV >/dev/null
    exim4 -C "$W/exim.conf" -bdf -oX "$PORT" >"$W/exim.out" 2>&1 &
    EXIM_PID=$!
    sleep 1
    pcap=${OUT:-$HERE}/$name.pcap
    rm -f "$pcap"
    tcpdump --immediate-mode -B 65536 -i lo -U -w "$pcap" "tcp port $PORT" 2>"$W/tcpdump.err" &
    TCPDUMP_PID=$!
    n=0
    until grep -q listening "$W/tcpdump.err" 2>/dev/null; do
        n=$((n + 1)); [ $n -lt 50 ] || break; sleep 0.1
    done
    sleep 0.5
    "$@" >"$W/$name.client" 2>&1 || true
    sleep 1
    kill "$TCPDUMP_PID"; wait "$TCPDUMP_PID" 2>/dev/null || true
    TCPDUMP_PID=
    stop_exim
    echo "$name: $(stat -c %s "$pcap") bytes"
}

C="python3 $HERE/../postfix/client.py"
SW="swaks --silent 2 --server 127.0.0.1:$PORT --helo client.example --from a@client.example"
DENY_HOST="  deny    hosts = 127.0.0.1"

run completed "" "" "" "" $SW --to root@lab.example
run pipelined_quit "" "" "" "" $SW --to root@lab.example --pipeline
run size_at_mail "message_size_limit = 10k" "" "" "" $C size_at_mail $PORT
run size_body "message_size_limit = 10k" "" "" "" $C size_body $PORT
run relay_denied "" "" "" "" $SW --to someone@outside.example
run unknown_user "" "" "" "" $SW --to nosuchuser@lab.example
run sender_rejected "" "" "  require verify = sender" "" $SW --to root@lab.example
run client_reject_connect "" "$DENY_HOST" "" "" $SW --to root@lab.example
run client_reject_rcpt "" "" "" "$DENY_HOST
          message = Host \$sender_host_address is not allowed to send mail here" \
    $SW --to root@lab.example
run auth_failed "" "" "" "" $SW --to someone@outside.example --auth PLAIN --auth-user user --auth-password wrong
run auth_relay_completed "" "" "" "" $SW --to someone@outside.example --auth PLAIN --auth-user user --auth-password secret
run idle_timeout "smtp_receive_timeout = 5s" "" "" "" $C idle $PORT
run silent_client "smtp_receive_timeout = 5s" "" "" "" $C silent $PORT
run data_idle_timeout "smtp_receive_timeout = 5s" "" "" "" $C data_idle $PORT
run too_many_errors "smtp_max_unknown_commands = 3" "" "" "" $C bad_commands $PORT
run early_talker "pipelining_connect_advertise_hosts =" "  accept  delay = 2s" "" "" \
    $C pregreet $PORT
run unauth_pipelining "" "" "" "" $C unauth_pipelining $PORT
run rcpt_limit "recipients_max = 2" "" "" "" $C many_rcpts $PORT
run conn_count_limit "smtp_accept_max_per_host = 1" "" "" "" $C conn_count $PORT
run conn_total_limit "smtp_accept_max = 1" "" "" "" $C conn_count $PORT
run msg_limit "smtp_accept_max_per_connection = 2" "" "" "" $C many_msgs $PORT
run abort_data "" "" "" "" $C abort_data $PORT
run client_rst "" "" "" "" $C rst $PORT
