#!/bin/sh
# make.sh — regenerates the Postfix-over-TLS lab captures in this directory.
#
# The scheme of ../postfix/make.sh, with TLS: the system's Postfix (3.7,
# Debian package) from a private configuration and queue under a temporary
# directory, on 127.0.0.1:$PORT (STARTTLS offered, smtpd_tls_security_level
# = may) and 127.0.0.1:$SMTPSPORT (implicit TLS: smtpd_tls_wrappermode = yes),
# delivering nowhere (every transport is discard), with a self-signed
# certificate made here by openssl. Each scenario forces one TLS version in
# Postfix (smtpd_tls_protocols and smtpd_tls_mandatory_protocols = >=V, <=V),
# starts Postfix, captures the loopback traffic with tcpdump while one client
# runs, stops Postfix, and keeps NAME.pcap with the client's key log as
# NAME.keys (NSS format: Python's ssl keylog_filename, curl's SSLKEYLOGFILE,
# and swaks through SleuthKeylog.pm, which gives IO::Socket::SSL OpenSSL's
# keylog callback). Postfix's own log of each scenario is kept while the run
# lasts (KEEP=1 keeps the whole work directory) to check the cause it gave.
# The expected verdicts are in MANIFEST.md;
# tests/integration/test_postfix_tls_captures.py checks them against tshark.
#
# Needs root (Postfix, tcpdump), Postfix, sasl2-bin, swaks, curl, python3,
# openssl, tcpdump. Not run in CI.
# Usage: sudo [ONLY="name ..."] [OUT=DIR] tests/data/postfix-tls/make.sh
# Bounded: every client times out within 30 s; Postfix is stopped on exit.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${PORT:-2625}
SMTPSPORT=${SMTPSPORT:-465}
W=$(mktemp -d /tmp/sleuth-pfxtls.XXXXXX)
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
# and an implicit-TLS smtpd on 127.0.0.1:$SMTPSPORT.
sed -e 's/^\([a-z][^ ]* *\(unix\|inet\|fifo\|pass\|unix-dgram\) *[-yn] *[-yn] *\)y/\1n/' \
    -e "s/^smtp      inet .*/127.0.0.1:$PORT inet n - n - - smtpd/" \
    /etc/postfix/master.cf.proto >"$CONF/master.cf"
echo "127.0.0.1:$SMTPSPORT inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt" \
    >>"$CONF/master.cf"
cp /etc/postfix/dynamicmaps.cf "$CONF/" 2>/dev/null || true

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.lab.example \
    -keyout "$W/key.pem" -out "$W/cert.pem" >/dev/null 2>&1

# Cyrus SASL with a private sasldb (user "user"; the clients give a wrong
# password), as in ../postfix/make.sh.
mkdir -p "$W/sasl" "$CONF/sasl"
cat >"$CONF/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $W/sasl/sasldb2
EOF
head -c 18 /dev/urandom | base64 | saslpasswd2 -p -c -f "$W/sasl/sasldb2" -u mx.lab.example user
chown postfix "$W/sasl/sasldb2"

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
smtpd_tls_security_level = may
smtpd_tls_chain_files = $W/key.pem, $W/cert.pem
smtpd_tls_loglevel = 1
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = mx.lab.example
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
EOF
}

# run NAME TLSVERSION "main.cf lines" CLIENT-COMMAND... (the command finds
# the key log to write in $KEYS and $SSLKEYLOGFILE)
run() {
    name=$1; ver=$2; extra=$3; shift 3
    case " ${ONLY:-} " in "  ") ;; *" $name "*) ;; *) return 0 ;; esac
    base_main >"$CONF/main.cf"
    printf 'smtpd_tls_protocols = >=%s, <=%s\nsmtpd_tls_mandatory_protocols = >=%s, <=%s\n%s\n' \
        "$ver" "$ver" "$ver" "$ver" "$extra" >>"$CONF/main.cf"
    postfix -c "$CONF" check
    : >"$W/maillog"
    postfix -c "$CONF" start >/dev/null 2>&1
    sleep 1
    dir=${OUT:-$HERE}
    pcap=$dir/$name.pcap
    KEYS=$dir/$name.keys
    rm -f "$pcap" "$KEYS"
    tcpdump -i lo --immediate-mode -B 65536 -s 0 -U -w "$pcap" \
        "tcp port $PORT or tcp port $SMTPSPORT" 2>"$W/tcpdump.err" &
    TCPDUMP_PID=$!
    n=0
    until grep -q listening "$W/tcpdump.err" 2>/dev/null; do
        n=$((n + 1)); [ $n -lt 50 ] || break; sleep 0.1
    done
    sleep 0.5
    KEYS=$KEYS SSLKEYLOGFILE=$KEYS PERL5LIB=$HERE PERL5OPT=-MSleuthKeylog \
        "$@" >"$W/$name.client" 2>&1 || true
    # tcpdump writes packet by packet (-U); wait until the file stops growing.
    size=-1; still=0; n=0
    while [ $still -lt 4 ] && [ $n -lt 60 ]; do
        sleep 0.25; n=$((n + 1))
        now=$(stat -c %s "$pcap" 2>/dev/null || echo 0)
        if [ "$now" = "$size" ]; then still=$((still + 1)); else still=0; fi
        size=$now
    done
    kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" 2>/dev/null || true
    TCPDUMP_PID=
    postfix -c "$CONF" stop >/dev/null 2>&1 || true
    sleep 1
    chmod 644 "$KEYS" 2>/dev/null || true
    cp "$W/maillog" "$W/$name.maillog"
    echo "$name: $(stat -c %s "$pcap") bytes, $(wc -l <"$KEYS" 2>/dev/null || echo 0) key log lines"
    grep -E "smtpd\[[0-9]+\]: (Anonymous TLS|Untrusted TLS|warning|[A-F0-9]+: reject|disconnect|timeout)|SASL" \
        "$W/maillog" | sed 's/^.*smtpd\[[0-9]*\]: /    postfix: /' || true
}

C="python3 $HERE/client_tls.py"
SW="swaks --silent 2 --timeout 30 --server 127.0.0.1:$PORT --helo client.example --from a@client.example --tls"
CURL="curl -s -S -k --max-time 30 --ssl-reqd --mail-from a@client.example --mail-rcpt root@lab.example"
MSG=$W/msg.eml
printf 'From: a@client.example\r\nTo: root@lab.example\r\nSubject: lab\r\n\r\nhello\r\n' >"$MSG"
SIZE="message_size_limit = 10000"

# STARTTLS, TLS 1.2 forced
run tls12_completed TLSv1.2 "" sh -c "$C completed $PORT \$KEYS"
run tls12_auth_failed TLSv1.2 "" sh -c "$SW --to someone@outside.example --auth PLAIN --auth-user user --auth-password wrong"
run tls12_size_body TLSv1.2 "$SIZE" sh -c "$C size_body $PORT \$KEYS"
run tls12_curl_completed TLSv1.2 "" sh -c "$CURL -T $MSG smtp://127.0.0.1:$PORT"
# STARTTLS, TLS 1.3 forced
run tls13_completed TLSv1.3 "" sh -c "$SW --to root@lab.example"
run tls13_auth_failed TLSv1.3 "" sh -c "$C auth_failed $PORT \$KEYS"
run tls13_size_at_mail TLSv1.3 "$SIZE" sh -c "$C size_at_mail $PORT \$KEYS"
run tls13_idle_timeout TLSv1.3 "smtpd_timeout = 5s" sh -c "$C idle $PORT \$KEYS"
run tls13_curl_completed TLSv1.3 "" sh -c "$CURL -T $MSG smtp://127.0.0.1:$PORT"
# Implicit TLS on $SMTPSPORT (smtpd_tls_wrappermode = yes)
run smtps_tls13_completed TLSv1.3 "" sh -c "$C smtps_completed $SMTPSPORT \$KEYS"
run smtps_tls12_auth_failed TLSv1.2 "" sh -c "$C smtps_auth_failed $SMTPSPORT \$KEYS"
run smtps_tls12_curl_completed TLSv1.2 "" sh -c "$CURL -T $MSG smtps://127.0.0.1:$SMTPSPORT"
