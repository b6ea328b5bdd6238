#!/bin/sh
# make.sh — regenerates the Sendmail lab captures in this directory.
#
# Runs the system's Sendmail (8.17.1.9, Debian 12 package sendmail-bin; it
# conflicts with Postfix, Exim and OpenSMTPD (mail-transport-agent), so
# install it for the run only: `apt-get install -y sendmail-bin sendmail-cf
# m4` removes whichever of them is installed; it is not in the Makefile's
# package lists) in the foreground (sendmail -bD) from a
# private configuration under a temporary directory: a .cf made with m4 and
# sendmail-cf from a private .mc, listening on 127.0.0.1:$PORT only, local
# domain lab.example, host names from a private hosts file only (no DNS), and
# delivery mode "queueonly" into a private queue that is never run and removed
# afterwards: accepted mail goes nowhere. The TLS scenarios add STARTTLS
# with a self-signed certificate. For each scenario it writes the .mc
# (base + the scenario's lines), the access map and the daemon's -O options,
# starts sendmail, captures the loopback traffic with tcpdump while one client
# (swaks or ../postfix/client.py) runs, stops sendmail, and keeps NAME.pcap.
# The expected verdicts are in MANIFEST.md;
# tests/integration/test_sendmail_captures.py checks them.
#
# Sendmail relays for 127.0.0.1 whatever the configuration says ("originated
# locally" in its Relay_ok ruleset), so the relay scenario's client connects
# from 127.0.0.2. A session process stopped with SIGTERM closes without a
# word (FIN), the same packets as the idle timeout, so there is no capture of
# it; the one "cannot serve now" refusal here is MinFreeBlocks (452 4.4.5 at
# MAIL). MaxDaemonChildren and ConnectionRateThrottle only hold connections
# in the listen backlog (nothing on the wire says why), so the connection
# limits here are conncontrol and ratecontrol (421 4.3.2). Not expressed
# here: an AUTH requirement (Sendmail only makes relaying depend on AUTH), a
# per-session message limit (Sendmail has none).
#
# Needs root (sendmail, tcpdump, unshare, mount), sendmail-bin, sendmail-cf,
# m4, sasl2-bin (saslpasswd2) and libsasl2-modules (PLAIN, LOGIN, CRAM-MD5,
# sasldb; both were installed here already), openssl, swaks,
# python3, tcpdump. Not run in CI.
# Usage: sudo [ONLY="name ..."] [OUT=DIR] tests/data/sendmail/make.sh
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${PORT:-2925}
# not under /tmp: Sendmail refuses maps in a world-writable directory
W=$(mktemp -d /run/sleuth-sendmail.XXXXXX)
chmod 700 "$W"
TCPDUMP_PID=
SM_PID=

stop_sm() {
    if [ -n "$SM_PID" ]; then
        kill "$SM_PID" 2>/dev/null || true
        wait "$SM_PID" 2>/dev/null || true
        sleep 0.5
    fi
    SM_PID=
}
cleanup() {
    [ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null || true
    stop_sm
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT INT TERM

# A self-signed certificate for STARTTLS (key readable by root only, as
# Sendmail wants).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=mx.lab.example \
    -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
chmod 600 "$W/key.pem"

mkdir -p "$W/queue"
chmod 700 "$W/queue"
printf 'passwd\tfiles\nhosts\tfiles\naliases\tfiles\n' >"$W/service.switch"
# the machine's own name is an alias of mx.lab.example, qualified without DNS
printf '127.0.0.1\tmx.lab.example lab.example localhost %s\n' "$(hostname)" >"$W/hosts"
printf 'postmaster: root\nMAILER-DAEMON: root\n' >"$W/aliases"
# SMTP AUTH: Cyrus SASL's configuration for Sendmail is bind-mounted over the
# system's (see run) and checks one lab credential, user/secret, in a private
# sasldb.
printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\nmech_list: PLAIN LOGIN CRAM-MD5\n' \
    "$W/sasldb2" >"$W/Sendmail.conf"
printf secret | saslpasswd2 -p -c -f "$W/sasldb2" -a Sendmail -u mx.lab.example user
chmod 600 "$W/sasldb2"

# mc EXTRA: the .mc of one scenario. EXTRA goes after the access map (FEATUREs
# that need it) and before the mailers; RESOLVE (default 1) adds
# accept_unresolvable_domains, so that senders of unresolvable domains (every
# domain but lab.example here) are accepted.
mc() {
    cat <<EOF
divert(-1)
include(\`/usr/share/sendmail/cf/m4/cf.m4')
divert(0)dnl
VERSIONID(\`smtpsleuth lab')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.lab.example')dnl
define(\`QUEUE_DIR', \`$W/queue')dnl
define(\`ALIAS_FILE', \`$W/aliases')dnl
define(\`STATUS_FILE', \`$W/statistics')dnl
define(\`confPID_FILE', \`$W/sendmail.pid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$W/service.switch')dnl
define(\`confHOSTS_FILE', \`$W/hosts')dnl
define(\`confDELIVERY_MODE', \`q')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confLOG_LEVEL', \`9')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Port=$PORT, Addr=127.0.0.1, Name=MTA')dnl
LOCAL_DOMAIN(\`lab.example')dnl
FEATURE(\`access_db', \`hash -T<TMPF> $W/access')dnl
$1
ifelse(\`${RESOLVE:-1}', \`1', \`FEATURE(\`accept_unresolvable_domains')')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
}

# run NAME MC-EXTRA ACCESS-LINES DAEMON-OPTIONS CLIENT-COMMAND...
run() {
    name=$1; shift
    case " ${ONLY:-} " in "  ") ;; *" $name "*) ;; *) return 0 ;; esac
    mc "$1" >"$W/sendmail.mc"
    m4 "$W/sendmail.mc" >"$W/sendmail.cf"
    printf '%s\n' "$2" | sed '/^$/d' >"$W/access"
    makemap hash "$W/access" <"$W/access"
    opts=$3
    shift 3
    # In a private mount namespace, /etc/mail/service.switch and /etc/hosts
    # are the lab's (files only): Sendmail reads them before its .cf and
    # would otherwise wait on DNS to qualify the machine's name.
    unshare -m sh -c "mount --bind $W/service.switch /etc/mail/service.switch &&
        mount --bind $W/hosts /etc/hosts &&
        mount --bind $W/Sendmail.conf /usr/lib/sasl2/Sendmail.conf &&
        sendmail -C $W/sendmail.cf -bi >/dev/null 2>&1;
        exec sendmail -bD -C $W/sendmail.cf $opts" >"$W/$name.sendmail" 2>&1 &
    SM_PID=$!
    n=0
    until ss -ltn "sport = :$PORT" | grep -q LISTEN; do
        n=$((n + 1)); [ $n -lt 100 ] || break; sleep 0.1
    done
    sleep 0.5
    pcap=${OUT:-$HERE}/$name.pcap
    rm -f "$pcap"
    tcpdump --immediate-mode -s 0 -B 65536 -i lo -U -w "$pcap" "tcp port $PORT" 2>"$W/tcpdump.err" &
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
    stop_sm
    rm -rf "$W/queue"/*
    echo "$name: $(stat -c %s "$pcap") bytes"
}

C="python3 $HERE/../postfix/client.py"
SW="swaks --silent 2 --server 127.0.0.1:$PORT --helo client.example --from a@client.example"
SIZE10K="-OMaxMessageSize=10240"
# AUTH PLAIN, LOGIN and CRAM-MD5 offered, and trusted for relaying (the
# AUTH scenarios only; without it Sendmail offers CRAM-MD5 alone, its
# default DIGEST-MD5 CRAM-MD5 within the SASL mech_list)
AUTH="define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN CRAM-MD5')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN CRAM-MD5')dnl"
# STARTTLS with the self-signed certificate (the TLS scenarios only)
TLS="define(\`confCACERT_PATH', \`$W')dnl
define(\`confCACERT', \`$W/cert.pem')dnl
define(\`confSERVER_CERT', \`$W/cert.pem')dnl
define(\`confSERVER_KEY', \`$W/key.pem')dnl"

run completed "" "" "" $SW --to root@lab.example
run size_at_mail "" "" "$SIZE10K" $C size_at_mail $PORT
run size_body "" "" "$SIZE10K" $C size_body $PORT
run relay_denied "" "" "" $SW --local-interface 127.0.0.2 --to someone@outside.example
run unknown_user "" "" "" $SW --to nosuchuser@lab.example
run sender_rejected "" "From:a@client.example REJECT" "" $SW --to root@lab.example
RESOLVE=0
run sender_unresolvable "" "" "" $SW --from a@nowhere.invalid --to root@lab.example
RESOLVE=1
run auth_failed "" "" "" $SW --to root@lab.example --auth CRAM-MD5 --auth-user user --auth-password wrong
run rcpt_limit "" "" "-OMaxRecipientsPerMessage=2" $C many_rcpts $PORT
run idle "" "" "-OTimeout.command=5s" $C idle $PORT
run silent "" "" "-OTimeout.command=5s" $C silent $PORT
run data_idle "" "" "-OTimeout.datablock=5s" $C data_idle $PORT
run client_reject_connect "" "Connect:127.0.0.1 REJECT" "" $SW --to root@lab.example
run mail_before_helo "" "" "-OPrivacyOptions=needmailhelo" $C no_helo $PORT
run conn_count "FEATURE(\`conncontrol', \`', \`terminate')dnl" "ClientConn:127.0.0.1 1" "" $C conn_count $PORT
run conn_rate "define(\`confCONNECTION_RATE_WINDOW_SIZE', \`60s')dnl
FEATURE(\`ratecontrol', \`', \`terminate')dnl" "ClientRate:127.0.0.1 2" "" $C conn_rate $PORT
run bad_commands "" "" "" $C bad_commands_many $PORT
run early_talker "FEATURE(\`greet_pause', \`2000')dnl" "" "" $C pregreet $PORT
run early_talker_go_on "FEATURE(\`greet_pause', \`2000')dnl" "" "" $C pregreet_go_on $PORT
run unauth_pipelining "" "" "" $C unauth_pipelining $PORT
run http_command "" "" "" $C http $PORT
run abort_data "" "" "" $C abort_data $PORT
run client_rst "" "" "" $C rst $PORT
run rst_data "" "" "" $C rst_data $PORT
run disk_full "" "" "-OMinFreeBlocks=2000000000" $SW --to root@lab.example
run starttls_completed "$TLS" "" "" $SW --to root@lab.example --tls
run starttls_plaintext "$TLS" "" "" $C starttls_plain $PORT
run tls_on_connect_plain_server "$TLS" "" "" $SW --to root@lab.example --tls-on-connect
run starttls_failed "$TLS" "" "-OCipherList=AES256-SHA" $SW --to root@lab.example --tls --tls-protocol tlsv1_2 --tls-cipher ECDHE-ECDSA-AES128-GCM-SHA256
run auth_relay_completed "$AUTH" "" "" $SW --local-interface 127.0.0.2 --to someone@outside.example --auth PLAIN --auth-user user --auth-password secret
run auth_plain_failed "$AUTH" "" "" $C auth_bad_many $PORT
run bdat_size "" "" "$SIZE10K" $C bdat_size $PORT
run no_quit "" "" "" $C no_quit $PORT
run header_rejected "LOCAL_CONFIG
HSubject: \$>CheckSubject
LOCAL_RULESETS
SCheckSubject
R\$* forbidden \$*	\$#error \$@ 5.7.1 \$: \"550 Subject not allowed here\"" "" "" \
    $SW --to root@lab.example --header "Subject: some forbidden words"
