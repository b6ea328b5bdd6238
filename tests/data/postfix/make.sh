#!/bin/sh
# make.sh — regenerates the Postfix lab captures in this directory.
#
# Runs the system's Postfix (3.7, Debian package) from a private configuration
# and queue under a temporary directory, listening on 127.0.0.1:$PORT only and
# delivering nowhere (every transport is discard). For each scenario it writes
# that scenario's main.cf overrides, starts Postfix, captures the loopback
# traffic with tcpdump while one client (swaks, client.py, smtp-source) runs,
# stops Postfix, and keeps the capture as NAME.pcap. The expected verdicts are
# in MANIFEST.md; tests/integration/test_postfix_captures.py checks them.
#
# Needs root (Postfix, tcpdump), Postfix, swaks, python3, openssl, tcpdump.
# Not run in CI. Usage: sudo [ONLY="name ..."] [OUT=DIR] tests/data/postfix/make.sh
# (ONLY: just these scenarios; OUT: write the captures there, not here).
# Bounded: every client times out within 30 s; Postfix is stopped on exit.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${PORT:-2625}
SINKPORT=${SINKPORT:-2626}
SMTPSPORT=${SMTPSPORT:-465}
W=$(mktemp -d /tmp/sleuth-pfx.XXXXXX)
chmod 755 "$W"
CONF=$W/conf
TCPDUMP_PID=

cleanup() {
    [ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null || true
    postfix -c "$CONF" stop >/dev/null 2>&1 || true
    sleep 1
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM

mkdir -p "$CONF" "$W/queue" "$W/data"
chown postfix "$W/data"

# master.cf: the package's prototype, no chroot, smtpd on 127.0.0.1:$PORT
# (plus a postscreen variant written per scenario).
sed -e 's/^\([a-z][^ ]* *\(unix\|inet\|fifo\|pass\|unix-dgram\) *[-yn] *[-yn] *\)y/\1n/' \
    -e "s/^smtp      inet .*/127.0.0.1:$PORT inet n - n - - smtpd/" \
    /etc/postfix/master.cf.proto >"$CONF/master.base"
cp /etc/postfix/dynamicmaps.cf "$CONF/" 2>/dev/null || true

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.lab.example \
    -keyout "$W/key.pem" -out "$W/cert.pem" >/dev/null 2>&1

# Cyrus SASL with a private sasldb (user "user", password "secret") for the
# AUTH scenarios; needs saslpasswd2 (Debian sasl2-bin). Debian's Postfix
# reads the SASL application file from $config_directory/sasl/smtpd.conf
# (cyrus_sasl_config_path is not consulted there).
mkdir -p "$W/sasl" "$CONF/sasl"
cat >"$CONF/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $W/sasl/sasldb2
EOF
if command -v saslpasswd2 >/dev/null; then
    echo secret | saslpasswd2 -p -c -f "$W/sasl/sasldb2" -u mx.lab.example user
    chown postfix "$W/sasl/sasldb2"
fi
SASL="smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = mx.lab.example
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"

base_main() {
    cat <<EOF
compatibility_level = 3.6
queue_directory = $W/queue
data_directory = $W/data
maillog_file = $W/maillog
maillog_file_prefixes = $W
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mx.lab.example
mydomain = lab.example
mydestination = lab.example
mynetworks = 10.99.0.0/16
relay_domains =
alias_maps =
alias_database =
local_transport = discard
default_transport = discard
relay_transport = discard
smtpd_banner = \$myhostname ESMTP
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
EOF
}

# run NAME "main.cf lines" CLIENT-COMMAND...
run() {
    name=$1; extra=$2; shift 2
    case " ${ONLY:-} " in "  ") ;; *" $name "*) ;; *) return 0 ;; esac
    base_main >"$CONF/main.cf"
    printf '%s\n' "$extra" >>"$CONF/main.cf"
    cp "$CONF/master.base" "$CONF/master.cf"
    if [ -n "${MASTER_EXTRA:-}" ]; then
        sed -i "s/^127.0.0.1:$PORT inet .*//" "$CONF/master.cf"
        printf '%s\n' "$MASTER_EXTRA" >>"$CONF/master.cf"
    fi
    postfix -c "$CONF" check
    postfix -c "$CONF" start >/dev/null 2>&1
    sleep 1
    pcap=${OUT:-$HERE}/$name.pcap
    rm -f "$pcap"
    tcpdump -i lo -U -w "$pcap" "tcp port $PORT or tcp port $SINKPORT or tcp port $SMTPSPORT" 2>"$W/tcpdump.err" &
    TCPDUMP_PID=$!
    n=0
    until grep -q listening "$W/tcpdump.err" 2>/dev/null; do
        n=$((n + 1)); [ $n -lt 50 ] || break; sleep 0.1
    done
    "$@" >"$W/$name.client" 2>&1 || true
    sleep 1
    kill "$TCPDUMP_PID"; wait "$TCPDUMP_PID" 2>/dev/null || true
    TCPDUMP_PID=
    postfix -c "$CONF" stop >/dev/null 2>&1 || true
    sleep 1
    echo "$name: $(stat -c %s "$pcap") bytes"
}

C="python3 $HERE/client.py"
SW="swaks --silent 2 --server 127.0.0.1:$PORT --helo client.example --from a@client.example"

run completed "" $SW --to root@lab.example
run size_at_mail "message_size_limit = 10000" $C size_at_mail $PORT
run size_body "message_size_limit = 10000" $C size_body $PORT
run relay_denied "" $SW --to someone@outside.example
run unknown_user "local_recipient_maps = inline:{ root=yes }" $SW --to nosuchuser@lab.example
run client_reject_rcpt "smtpd_client_restrictions = check_client_access inline:{ 127.0.0.1=REJECT }" \
    $SW --to root@lab.example
run client_reject_connect "smtpd_delay_reject = no
smtpd_client_restrictions = check_client_access inline:{ 127.0.0.1=REJECT }" \
    $SW --to root@lab.example
run helo_required "smtpd_helo_required = yes
smtpd_helo_restrictions = reject_invalid_helo_hostname" $C no_helo $PORT
run idle_timeout "smtpd_timeout = 5s" $C idle $PORT
run too_many_errors "smtpd_soft_error_limit = 2
smtpd_hard_error_limit = 4
smtpd_error_sleep_time = 0" $C bad_commands $PORT
run conn_count_limit "smtpd_client_connection_count_limit = 1" $C conn_count $PORT
run conn_rate_limit "smtpd_client_connection_rate_limit = 2" $C conn_rate $PORT
run unauth_pipelining "smtpd_data_restrictions = reject_unauth_pipelining" \
    $C unauth_pipelining $PORT
run data_idle_timeout "smtpd_timeout = 5s" $C data_idle $PORT
run bdat_size "message_size_limit = 10000" $C bdat_size $PORT
run rcpt_limit "smtpd_recipient_limit = 2
recipient_delimiter = +" $C many_rcpts $PORT
run msg_rate_limit "smtpd_client_message_rate_limit = 2" $C many_msgs $PORT
run http_command "" $C http $PORT
run tls_encrypt_nocert "smtpd_tls_security_level = encrypt" $SW --to root@lab.example --tls
run tls_completed "smtpd_tls_security_level = may
smtpd_tls_chain_files = $W/key.pem, $W/cert.pem" $SW --to root@lab.example --tls
run tls_required "smtpd_tls_security_level = encrypt
smtpd_tls_chain_files = $W/key.pem, $W/cert.pem" $C mail_before_starttls $PORT
run tls_verify_failed "smtpd_tls_security_level = may
smtpd_tls_chain_files = $W/key.pem, $W/cert.pem" $SW --to root@lab.example --tls --tls-verify
run starttls_plaintext "smtpd_tls_security_level = may
smtpd_tls_chain_files = $W/key.pem, $W/cert.pem" $C starttls_plain $PORT
run silent_client "smtpd_timeout = 5s" $C silent $PORT
run early_talker "smtpd_delay_reject = no
smtpd_client_restrictions = sleep 1, reject_unauth_pipelining" $C pregreet_go_on $PORT
run auth_failed "$SASL" $SW --to someone@outside.example --auth PLAIN --auth-user user --auth-password wrong
run auth_relay_completed "$SASL" $SW --to someone@outside.example --auth PLAIN --auth-user user --auth-password secret
run auth_failed_many "$SASL
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1
smtpd_hard_error_limit = 2" $C auth_bad_many $PORT
run pipelined_quit "" $SW --to root@lab.example --pipeline
run rst_data "" $C rst_data $PORT
run storage_full "queue_minfree = 900000000000000" $SW --to root@lab.example
run client_hostname_unknown "smtpd_client_restrictions = reject_unknown_client_hostname" \
    $SW --to root@lab.example
run milter_down "smtpd_milters = inet:127.0.0.1:9
milter_default_action = tempfail" $SW --to root@lab.example
run tls_on_connect_plain_server "" $SW --to root@lab.example --tls-on-connect
# Implicit TLS on 465 (the port is what marks a TLS flow as SMTPS).
MASTER_EXTRA="127.0.0.1:$SMTPSPORT inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt" \
run implicit_tls_completed "smtpd_tls_chain_files = $W/key.pem, $W/cert.pem" \
    swaks --silent 2 --server 127.0.0.1:$SMTPSPORT --helo client.example --from a@client.example \
    --to root@lab.example --tls-on-connect
run abort_data "" $C abort_data $PORT
run client_rst "" $C rst $PORT
MASTER_EXTRA="127.0.0.1:$PORT inet n - n - 1 postscreen
smtpd pass - - n - - smtpd" \
run postscreen_pregreet "postscreen_greet_action = drop
postscreen_greet_wait = 2s" $C pregreet $PORT
MASTER_EXTRA="127.0.0.1:$PORT inet n - n - 1 postscreen
smtpd pass - - n - - smtpd" \
run postscreen_enforce "postscreen_greet_action = enforce
postscreen_greet_wait = 2s" $C pregreet_go_on $PORT
# smtp-source against smtp-sink: a second real client/server pair (no Postfix needed,
# but run() starts it anyway; the sink listens on $SINKPORT).
sink_pair() {
    smtp-sink -u postfix -c 127.0.0.1:$SINKPORT 10 & sp=$!
    sleep 0.5
    smtp-source -c -m 2 -s 1 -l 2000 -f a@client.example -t root@lab.example 127.0.0.1:$SINKPORT
    sleep 0.5; kill $sp
}
run sink_completed "" sink_pair
sink_421() {
    smtp-sink -u postfix -Q rcpt 127.0.0.1:$SINKPORT 10 & sp=$!
    sleep 0.5
    smtp-source -m 1 -f a@client.example -t root@lab.example 127.0.0.1:$SINKPORT || true
    sleep 0.5; kill $sp
}
run sink_421_rcpt "" sink_421
