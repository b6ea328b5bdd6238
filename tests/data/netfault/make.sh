#!/bin/bash
# make.sh - regenerates the captures of tests/data/netfault/ on real faulty
# networks built from network namespaces: client ns -- router ns -- server ns.
#
#   nfc (client)  10.77.1.2/24  c0 ==== r0  10.77.1.1/24  nfr (router, forwards)
#   nfr           10.77.2.1/24  r1 ==== s0  10.77.2.2/24  nfs (server)
#   (and fd00:77:1::/64, fd00:77:2::/64 the same way for IPv6)
#
# The bundled server (`smtpsleuth serve`) listens on 10.77.2.2:25 in nfs, the
# scripted client (client.py, smtplib) runs in nfc, tcpdump captures on c0 in
# nfc (or s0 in nfs for the server-side views). Faults are made on the
# router with iptables/ip6tables, ip link and injector.py (forged RSTs from
# a raw socket). Needs root, iproute2, iptables, ethtool, tcpdump, editcap,
# tshark; not run in CI. Every address
# is private and lives inside the namespaces this script creates; they are
# deleted at the end (also on error).
#
# usage: sudo tests/data/netfault/make.sh [BUILD_DIR] [SCENARIO...]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../../../build}
shift || true
BIN=$(cd "$BUILD" && pwd)/smtpsleuth
ONLY="$*"
C=nfc; R=nfr; S=nfs
SRV=10.77.2.2
TMP=$(mktemp -d)
SRV_PID=""

cleanup() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null
	ip netns del $C 2>/dev/null; ip netns del $R 2>/dev/null; ip netns del $S 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

# Builds the three namespaces. $1 = the server's default TTL (64 = Linux,
# 128 = a Windows-like host, so a RST from the router stands out).
setup() {
	cleanup_ns
	ip netns add $C; ip netns add $R; ip netns add $S
	ip link add c0 netns $C type veth peer name r0 netns $R
	ip link add r1 netns $R type veth peer name s0 netns $S
	ip -n $C addr add 10.77.1.2/24 dev c0; ip -n $R addr add 10.77.1.1/24 dev r0
	ip -n $R addr add 10.77.2.1/24 dev r1; ip -n $S addr add 10.77.2.2/24 dev s0
	for ns in $C $R $S; do ip -n $ns link set lo up; done
	ip -n $C link set c0 up; ip -n $R link set r0 up; ip -n $R link set r1 up; ip -n $S link set s0 up
	ip -n $C route add default via 10.77.1.1; ip -n $S route add default via 10.77.2.1
	# IPv6 too (no duplicate address detection, so the addresses work at once)
	ip -n $C addr add fd00:77:1::2/64 dev c0 nodad; ip -n $R addr add fd00:77:1::1/64 dev r0 nodad
	ip -n $R addr add fd00:77:2::1/64 dev r1 nodad; ip -n $S addr add fd00:77:2::2/64 dev s0 nodad
	ip -n $C -6 route add default via fd00:77:1::1; ip -n $S -6 route add default via fd00:77:2::1
	ip netns exec $R sysctl -qw net.ipv6.conf.all.forwarding=1
	ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
	# Wire-sized segments in the capture: no segmentation offload.
	ip netns exec $C ethtool -K c0 tso off gso off gro off >/dev/null 2>&1
	ip netns exec $R ethtool -K r0 tso off gso off gro off >/dev/null 2>&1
	ip netns exec $R ethtool -K r1 tso off gso off gro off >/dev/null 2>&1
	ip netns exec $S ethtool -K s0 tso off gso off gro off >/dev/null 2>&1
	# Bounded runs: few SYN retries, a client that gives up quickly.
	ip netns exec $C sysctl -qw net.ipv4.tcp_syn_retries=2
	ip netns exec $C sysctl -qw net.ipv4.tcp_retries2=4
	ip netns exec $S sysctl -qw net.ipv4.ip_default_ttl="${1:-64}"
	ip netns exec $S sysctl -qw net.ipv6.conf.all.hop_limit="${1:-64}"
	ip netns exec $S sysctl -qw net.ipv6.conf.s0.hop_limit="${1:-64}"
	ip netns exec $S sysctl -qw net.ipv4.tcp_retries2=4
}
cleanup_ns() { ip netns del $C 2>/dev/null; ip netns del $R 2>/dev/null; ip netns del $S 2>/dev/null; true; }

server() {   # extra serve options
	ip netns exec $S "$BIN" serve --listen "${LISTEN:-$SRV:25}" --allow 0.0.0.0/0 --allow ::/0 "$@" >"$TMP/server.log" 2>&1 &
	SRV_PID=$!
	for _ in $(seq 50); do ip netns exec $C bash -c "echo >/dev/tcp/${PROBE:-$SRV}/25" 2>/dev/null && break; sleep 0.1; done
	sleep 0.3
}
stop_server() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; SRV_PID=""; }

# capture OUT command...: tcpdump around a command, on c0 in the client ns
# (CAPNS/CAPIF choose another point); CAP2=NS:IFACE:OUT2 captures a second
# point at the same time.
capture() {
	local out=$1; shift
	local tp2=""
	ip netns exec "${CAPNS:-$C}" tcpdump -i "${CAPIF:-c0}" -U --immediate-mode -s 0 -w "$TMP/cap.pcap" tcp \
		>/dev/null 2>"$TMP/tcpdump.err" &
	local tp=$!
	if [ -n "${CAP2:-}" ]; then
		IFS=: read -r ns2 if2 out2 <<<"$CAP2"
		ip netns exec "$ns2" tcpdump -i "$if2" -U --immediate-mode -s 0 -w "$TMP/cap2.pcap" tcp \
			>/dev/null 2>&1 &
		tp2=$!
	fi
	sleep 0.7
	"$@"
	sleep "${TAIL:-0.5}"
	kill -INT $tp; wait $tp 2>/dev/null
	cp "$TMP/cap.pcap" "$HERE/$out"
	echo "$out: $(stat -c %s "$HERE/$out") bytes"
	if [ -n "$tp2" ]; then
		kill -INT $tp2; wait $tp2 2>/dev/null
		cp "$TMP/cap2.pcap" "$HERE/$out2"
		echo "$out2: $(stat -c %s "$HERE/$out2") bytes"
	fi
}

client() { ip netns exec $C python3 "$HERE/client.py" "${CLIENT_TO:-$SRV}" 25 "$@"; }

# Runs the client in the background paused at a step, applies a fault, lets it go on.
client_with_fault() {   # step fault-command client-args...
	local step=$1 fault=$2; shift 2
	rm -f "$TMP/flag.ready" "$TMP/flag.go"
	client --pause-at "$step" --flag "$TMP/flag" "$@" &
	local cp=$!
	for _ in $(seq 100); do [ -e "$TMP/flag.ready" ] && break; sleep 0.05; done
	eval "$fault"
	touch "$TMP/flag.go"
	wait $cp
}

# The session (without the listening probe) is the last flow; the probe
# connection is filtered out by keeping only the client's last port.
last_session_only() {   # file
	local f="$HERE/$1" port
	port=$(tshark -r "$f" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.srcport 2>/dev/null | tail -1)
	[ -n "$port" ] || return 0
	tshark -r "$f" -Y "tcp.port==$port" -w "$TMP/one.pcap" -F pcap 2>/dev/null && cp "$TMP/one.pcap" "$f"
}

IPT="ip netns exec $R iptables"

# (a) a firewall on the router resets the connection when it sees DATA.
if want rst_data_ttl128; then
	setup 128; server
	$IPT -A FORWARD -p tcp --dport 25 -m length --length 58 -j REJECT --reject-with tcp-reset
	capture rst_data_ttl128.pcap client --timeout 4
	stop_server; last_session_only rst_data_ttl128.pcap
fi
if want rst_data_ttl64; then
	setup 64; server
	$IPT -A FORWARD -p tcp --dport 25 -m length --length 58 -j REJECT --reject-with tcp-reset
	capture rst_data_ttl64.pcap client --timeout 4
	stop_server; last_session_only rst_data_ttl64.pcap
fi
# (b) SYNs dropped by the router.
if want syn_dropped; then
	setup 64; server
	$IPT -A FORWARD -p tcp --syn --dport 25 -j DROP
	capture syn_dropped.pcap client --timeout 10
	stop_server
fi
# (c) nothing listens: the server's stack answers the SYN with a RST.
if want refused; then
	setup 64
	capture refused.pcap client --timeout 4
fi
# (c2) the router rejects the SYN with a RST on the server's behalf.
if want refused_by_router; then
	setup 64; server
	$IPT -A FORWARD -p tcp --syn --dport 25 -j REJECT --reject-with tcp-reset
	capture refused_by_router.pcap client --timeout 4
	stop_server
fi
# (d) the path is lost after EHLO: everything is dropped on the router.
if want path_lost_ehlo; then
	setup 64; server
	TAIL=2 capture path_lost_ehlo.pcap client_with_fault ehlo "$IPT -A FORWARD -j DROP" --timeout 8
	stop_server; last_session_only path_lost_ehlo.pcap
fi
# (d2) the router's server-side link goes down in the middle of the body.
if want path_lost_body; then
	setup 64; server
	TAIL=2 capture path_lost_body.pcap client_with_fault body "ip -n $R link set r1 down" --timeout 8 --size 4000
	stop_server; last_session_only path_lost_body.pcap
fi
# (d3) path lost after EHLO, and the client gives up only when its own
# timeout fires (longer kernel retries): it closes while data is unacknowledged.
if want path_lost_app_timeout; then
	setup 64; server
	ip netns exec $C sysctl -qw net.ipv4.tcp_retries2=15
	TAIL=2 capture path_lost_app_timeout.pcap client_with_fault ehlo "$IPT -A FORWARD -j DROP" --timeout 3
	stop_server; last_session_only path_lost_app_timeout.pcap
fi
# (e) MTU black hole: 1280 on the router's server side, ICMP frag-needed blocked.
if want mtu_blackhole; then
	setup 64; server
	ip -n $R link set r1 mtu 1280; ip -n $S link set s0 mtu 1500
	$IPT -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
	TAIL=2 capture mtu_blackhole.pcap client --timeout 8 --size 6000
	stop_server; last_session_only mtu_blackhole.pcap
fi
# (f) a normal session, then cut: the capture starts or stops mid-session.
if want normal || want start_mid || want stop_mid || want start_stop_mid; then
	setup 64; server
	capture normal.pcap client --timeout 4 --size 2000
	stop_server; last_session_only normal.pcap
	# start after the handshake and greeting; stop inside the body.
	editcap -r "$HERE/normal.pcap" "$HERE/start_mid.pcap" 7-1000 >/dev/null
	n=$(tshark -r "$HERE/normal.pcap" -Y 'tcp.len > 1000' -T fields -e frame.number | head -1)
	editcap -r "$HERE/normal.pcap" "$HERE/stop_mid.pcap" 1-"$n" >/dev/null
	editcap -r "$HERE/normal.pcap" "$HERE/start_stop_mid.pcap" 7-"$n" >/dev/null
fi
# (g) a slow server (3 s before its greeting) that is otherwise fine.
if want slow_greeting; then
	setup 64; server --greeting-delay 3
	capture slow_greeting.pcap client --timeout 8
	stop_server; last_session_only slow_greeting.pcap
fi
# (a2) an IPS resets both sides when it sees DATA (raw-socket injector on the
# router; the DATA segment itself is dropped). Captured at both ends.
if want inject_both_client_view || want inject_both_server_view; then
	setup 64; server --idle-timeout 30
	$IPT -A FORWARD -p tcp --dport 25 -m length --length 58 -j DROP
	ip netns exec $R python3 "$HERE/injector.py" r0 'DATA\r\n' --to both --wait 15 &
	ip=$!; sleep 0.5
	CAP2="$S:s0:inject_both_server_view.pcap" capture inject_both_client_view.pcap client --timeout 4
	wait $ip; stop_server
	last_session_only inject_both_client_view.pcap; last_session_only inject_both_server_view.pcap
fi
# (a3) the client pauses 3 s after EHLO; its MAIL FROM is met by a RST in the
# server's name (a firewall that forgot the idle connection rejects it).
if want inject_after_idle; then
	setup 64; server
	$IPT -A FORWARD -p tcp --dport 25 -m length --length 80:90 -j DROP
	ip netns exec $R python3 "$HERE/injector.py" r0 'MAIL FROM' --to client --wait 15 &
	ip=$!; sleep 0.5
	capture inject_after_idle.pcap client --pause-at ehlo --pause 3 --timeout 6
	wait $ip; stop_server; last_session_only inject_after_idle.pcap
fi
# (a4) the router rejects DATA toward the client; captured on the server,
# which never sees the RST: it waits, times the client out (421 4.4.2) and
# the client's stack, which has no socket any more, answers with a RST.
if want reject_server_view; then
	setup 64; server --idle-timeout 2
	$IPT -A FORWARD -p tcp --dport 25 -m length --length 58 -j REJECT --reject-with tcp-reset
	TAIL=3 CAPNS=$S CAPIF=s0 capture reject_server_view.pcap client --timeout 4
	stop_server; last_session_only reject_server_view.pcap
fi
# (b2) SYN-ACKs dropped on the way back, captured on the server.
if want synack_dropped_server_view; then
	setup 64; server
	$IPT -A FORWARD -p tcp --sport 25 --tcp-flags SYN,ACK SYN,ACK -j DROP
	CAPNS=$S CAPIF=s0 capture synack_dropped_server_view.pcap client --timeout 10
	stop_server
fi
# (d4) path lost after EHLO; the client aborts with a RST when it gives up.
if want path_lost_rst; then
	setup 64; server
	TAIL=1 capture path_lost_rst.pcap client_with_fault ehlo "$IPT -A FORWARD -j DROP" --timeout 3 --abort-rst
	stop_server; last_session_only path_lost_rst.pcap
fi
# (f2) the injected-RST capture cut at the start (from the client's EHLO).
if want rst_data_ttl64_mid && [ -e "$HERE/rst_data_ttl64.pcap" ]; then
	editcap -r "$HERE/rst_data_ttl64.pcap" "$HERE/rst_data_ttl64_mid.pcap" 6-1000 >/dev/null
fi
# (a5) an SMTP-inspecting firewall tries to reset the connection at the
# client's EHLO but is slower than the server: its RST to the client is
# behind the window (the EHLO reply came first) and is ignored.
if want inject_at_ehlo; then
	setup 64; server
	$IPT -A FORWARD -p tcp --dport 25 -m length --length 80:90 -j DROP
	# 50 ms late: the server's EHLO reply is always there first
	ip netns exec $R python3 "$HERE/injector.py" r0 'EHLO' --to both --wait 15 --delay 0.05 &
	ip=$!; sleep 0.5
	capture inject_at_ehlo.pcap client --timeout 4
	wait $ip; stop_server; last_session_only inject_at_ehlo.pcap
fi
# (a6) the same firewall winning the race: the EHLO is dropped, so the RST
# to the client (seq = the EHLO's ack) is exactly in window; the server has
# sent only its SYN-ACK and greeting before it.
if want inject_early; then
	setup 64; server
	$IPT -A FORWARD -p tcp --dport 25 -m length --length 79 -j DROP
	ip netns exec $R python3 "$HERE/injector.py" r0 'EHLO' --to client --wait 15 &
	ip=$!; sleep 0.5
	capture inject_early.pcap client --timeout 4
	wait $ip; stop_server; last_session_only inject_early.pcap
fi
# (d5) only the client-to-server direction is lost after EHLO: the client
# retransmits MAIL FROM; the server, which never gets it, closes at its 2 s
# idle timeout without a word, and its FIN does reach the client.
if want path_lost_c2s_server_fin; then
	setup 64; server --idle-timeout 2 --idle-action close
	TAIL=1 capture path_lost_c2s_server_fin.pcap client_with_fault ehlo "sleep 0.5; $IPT -A FORWARD -i r0 -j DROP" --timeout 6
	stop_server; last_session_only path_lost_c2s_server_fin.pcap
fi
# (n) control: the server itself resets an oversized message through the
# router (its RST has its own TTL and timestamps): not a middlebox.
if want server_reset_control; then
	setup 64; server --max-size 1000 --size-action reset
	capture server_reset_control.pcap client --timeout 4 --size 6000
	stop_server; last_session_only server_reset_control.pcap
fi
# (a7) the router's REJECT of DATA over IPv6 (hop limits instead of TTLs;
# the server's hop limit is 128, a Windows-like host).
if want rst_data_v6; then
	setup 128; LISTEN="[fd00:77:2::2]:25" PROBE=fd00:77:2::2 server
	ip netns exec $R ip6tables -A FORWARD -p tcp --dport 25 -m length --length 78 -j REJECT --reject-with tcp-reset
	CLIENT_TO=fd00:77:2::2 capture rst_data_v6.pcap client --timeout 4
	stop_server; last_session_only rst_data_v6.pcap
fi
if want rst_data_v6_hl64; then
	setup 64; LISTEN="[fd00:77:2::2]:25" PROBE=fd00:77:2::2 server
	ip netns exec $R ip6tables -A FORWARD -p tcp --dport 25 -m length --length 78 -j REJECT --reject-with tcp-reset
	CLIENT_TO=fd00:77:2::2 capture rst_data_v6_hl64.pcap client --timeout 4
	stop_server; last_session_only rst_data_v6_hl64.pcap
fi
# (g2) a server slower than the client's patience: the greeting would come
# after 5 s, the client gives up after 2 s and closes.
if want slow_greeting_client_gives_up; then
	setup 64; server --greeting-delay 5
	TAIL=4 capture slow_greeting_client_gives_up.pcap client --timeout 2
	stop_server; last_session_only slow_greeting_client_gives_up.pcap
fi
