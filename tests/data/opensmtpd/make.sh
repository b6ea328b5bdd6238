#!/bin/sh
# make.sh — regenerates the OpenSMTPD lab captures in this directory.
#
# Runs the system's OpenSMTPD (6.8.0p2, Debian 12 package opensmtpd; it
# conflicts with Exim and Postfix, so install it for the run only: it is not in
# the Makefile's package lists) in the foreground (smtpd -d) from a private
# configuration under a temporary directory, listening on 127.0.0.1:$PORT only
# and delivering nowhere: the one action is an mda of /bin/cat > /dev/null run
# as nobody, for root@lab.example (and root+ANY, OpenSMTPD's sub-address) and
# for any recipient of an authenticated client. For each scenario it writes
# the configuration (base + the scenario's lines), starts smtpd, captures the
# loopback traffic with tcpdump while one client (swaks or ../postfix/client.py)
# runs, stops smtpd, and keeps the capture as NAME.pcap. The expected verdicts
# are in MANIFEST.md; tests/integration/test_opensmtpd_captures.py checks them.
#
# OpenSMTPD 6.8's session timeout (300 s) cannot be configured, so there is no
# idle, silent-client or DATA-idle capture here.
#
# Needs root (smtpd, tcpdump), opensmtpd, openssl, swaks, python3, tcpdump.
# Not run in CI.
# Usage: sudo [ONLY="name ..."] [OUT=DIR] tests/data/opensmtpd/make.sh
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${PORT:-2825}
W=$(mktemp -d /tmp/sleuth-opensmtpd.XXXXXX)
chmod 755 "$W"
TCPDUMP_PID=
SMTPD_PID=

stop_smtpd() {
    if [ -n "$SMTPD_PID" ]; then
        kill "$SMTPD_PID" 2>/dev/null || true
        wait "$SMTPD_PID" 2>/dev/null || true
        sleep 0.5
    fi
    SMTPD_PID=
}
cleanup() {
    [ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null || true
    stop_smtpd
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM

# A self-signed certificate for STARTTLS (OpenSMTPD offers AUTH only inside
# TLS) and the one credential, user/secret, hashed the way smtpd.conf wants.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=mx.lab.example \
    -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
chmod 600 "$W/key.pem"
HASH=$(smtpctl encrypt secret)

# conf GLOBAL LISTEN MATCH: the configuration of one scenario. GLOBAL goes
# before the listener (limits, filters); LISTEN is the listener's options
# ($LISTEN when empty: STARTTLS offered, AUTH optional); MATCH goes before the
# base match rules (the first matching rule wins).
LISTEN="tls pki mx.lab.example auth-optional <creds>"
conf() {
    cat <<EOF
pki mx.lab.example cert "$W/cert.pem"
pki mx.lab.example key "$W/key.pem"
table creds { "user" = "$HASH" }
$1
listen on 127.0.0.1 port $PORT hostname mx.lab.example ${2:-$LISTEN}
action "devnull" mda "/bin/cat > /dev/null" user nobody
$3
match from any for rcpt-to "root@lab.example" action "devnull"
match auth from any for any action "devnull"
EOF
}

# run NAME GLOBAL LISTEN MATCH CLIENT-COMMAND...
run() {
    name=$1; shift
    case " ${ONLY:-} " in "  ") ;; *" $name "*) ;; *) return 0 ;; esac
    conf "$1" "$2" "$3" >"$W/smtpd.conf"
    shift 3
    smtpd -n -f "$W/smtpd.conf" >/dev/null 2>&1 || smtpd -n -f "$W/smtpd.conf"
    smtpd -d -f "$W/smtpd.conf" >"$W/$name.smtpd" 2>&1 &
    SMTPD_PID=$!
    sleep 1.5
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
    stop_smtpd
    echo "$name: $(stat -c %s "$pcap") bytes"
}

C="python3 $HERE/../postfix/client.py"
SW="swaks --silent 2 --server 127.0.0.1:$PORT --helo client.example --from a@client.example"
SIZE10K="smtp max-message-size 10240"

run completed "" "" "" $SW --to root@lab.example
run size_at_mail "$SIZE10K" "" "" $C size_at_mail $PORT
run size_body "$SIZE10K" "" "" $C size_body $PORT
run relay_denied "" "" "" $SW --to someone@outside.example
run unknown_user "" "" "" $SW --to nosuchuser@lab.example
run reject_rule "" "" 'match from any mail-from "a@client.example" for any reject' \
    $SW --to root@lab.example
run sender_rejected \
    'table badsenders { "a@client.example" }
filter "badsender" phase mail-from match mail-from <badsenders> reject "550 sender rejected"' \
    "$LISTEN filter badsender" "" $SW --to root@lab.example
run client_reject_connect \
    'table blocked { "127.0.0.1" }
filter "nolocal" phase connect match src <blocked> disconnect "550 no residential connections"' \
    "$LISTEN filter nolocal" "" $SW --to root@lab.example
run auth_plaintext "" "" "" $C auth_plain_notls $PORT
run auth_required "" "tls pki mx.lab.example auth <creds>" "" $SW --to root@lab.example
run tls_required "" "tls-require pki mx.lab.example auth-optional <creds>" "" $C mail_before_starttls $PORT
run starttls_failed "" "" "" $SW --to root@lab.example --tls
run starttls_failed_tls12 "" "" "" $SW --to root@lab.example --tls --tls-protocol tlsv1_2
run bad_commands "" "" "" $C bad_commands $PORT
run early_talker "" "" "" $C pregreet $PORT
run unauth_pipelining "" "" "" $C unauth_pipelining $PORT
run rcpt_limit "smtp limit max-rcpt 2" "" "" $C many_rcpts $PORT
run msg_limit "smtp limit max-mails 2" "" "" $C many_msgs $PORT
run abort_data "" "" "" $C abort_data $PORT
run client_rst "" "" "" $C rst $PORT
run rst_data "" "" "" $C rst_data $PORT
run helo_required "" "" "" $C no_helo $PORT
run http_command "" "" "" $C http $PORT
run starttls_plaintext "" "" "" $C starttls_plain $PORT
run tls_on_connect_plain_server "" "" "" $SW --to root@lab.example --tls-on-connect
run bdat_size "$SIZE10K" "" "" $C bdat_size $PORT
