#!/bin/bash
# make.sh - regenerates the two-point captures of tests/data/pair/: every
# scenario is captured at the client and at the server at the same time, so
# `smtpsleuth analyze --pair CLIENT_SIDE SERVER_SIDE` can say what the path
# between them did.
#
#   psc (client) 192.0.2.10/24    c0 ==== r0 192.0.2.1/24    psr (router, nftables)
#   psr          203.0.113.1/24   r1 ==== s0 203.0.113.25/24  pss (server)
#   and 2001:db8:1::10 / ::1 -- 2001:db8:2::1 / ::25 the same way for IPv6.
#   NAT scenarios: the router rewrites the client to 198.51.100.7 (or its own
#   203.0.113.1 with masquerade), source ports 40000-40099.
#
# Only documentation address ranges (RFC 5737, RFC 3849) are used, and only inside the
# three namespaces this script creates; nothing is configured in the root
# namespace. The namespaces are deleted at the end (also on error or ^C).
# The bundled server (`smtpsleuth serve`) runs in pss; the scripted client is
# ../netfault/client.py (Python smtplib) in psc; RSTs in the client's name are
# forged by ../netfault/injector.py on the router. tcpdump runs in psc (c0)
# and in pss (s0) at once. Offloads are off, so captured segments are the
# ones on the wire. Every command is bounded in time (`timeout`).
#
# Needs root, iproute2, nftables, ethtool, tcpdump, editcap, python3.
# usage: sudo tests/data/pair/make.sh [BUILD_DIR] [SCENARIO...]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
NETFAULT=$HERE/../netfault
BUILD=${1:-$HERE/../../../build}
shift || true
BIN=$(cd "$BUILD" && pwd)/smtpsleuth
ONLY="$*"
C=psc; R=psr; S=pss
SRV=203.0.113.25
SRV6=2001:db8:2::25
TMP=$(mktemp -d)
SRV_PID=""

cleanup_ns() { for ns in $C $R $S; do ip netns del $ns 2>/dev/null; done; true; }
cleanup() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null
	jobs -p | xargs -r kill 2>/dev/null
	cleanup_ns
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

setup() {
	cleanup_ns
	ip netns add $C; ip netns add $R; ip netns add $S
	ip link add c0 netns $C type veth peer name r0 netns $R
	ip link add r1 netns $R type veth peer name s0 netns $S
	ip -n $C addr add 192.0.2.10/24 dev c0; ip -n $R addr add 192.0.2.1/24 dev r0
	ip -n $R addr add 203.0.113.1/24 dev r1; ip -n $S addr add $SRV/24 dev s0
	for ns in $C $R $S; do ip -n $ns link set lo up; done
	ip -n $C link set c0 up; ip -n $R link set r0 up; ip -n $R link set r1 up; ip -n $S link set s0 up
	ip -n $C route add default via 192.0.2.1; ip -n $S route add default via 203.0.113.1
	nsx $R sysctl -qw net.ipv4.ip_forward=1
	# IPv6 too (2001:db8::/32; no duplicate address detection)
	ip -n $C addr add 2001:db8:1::10/64 dev c0 nodad; ip -n $R addr add 2001:db8:1::1/64 dev r0 nodad
	ip -n $R addr add 2001:db8:2::1/64 dev r1 nodad; ip -n $S addr add $SRV6/64 dev s0 nodad
	ip -n $C -6 route add default via 2001:db8:1::1; ip -n $S -6 route add default via 2001:db8:2::1
	nsx $R sysctl -qw net.ipv6.conf.all.forwarding=1
	nsx $C ethtool -K c0 tso off gso off gro off >/dev/null 2>&1
	nsx $R ethtool -K r0 tso off gso off gro off >/dev/null 2>&1
	nsx $R ethtool -K r1 tso off gso off gro off >/dev/null 2>&1
	nsx $S ethtool -K s0 tso off gso off gro off >/dev/null 2>&1
	nsx $C sysctl -qw net.ipv4.tcp_syn_retries=2
	nsx $C sysctl -qw net.ipv4.tcp_retries2=4
	nsx $S sysctl -qw net.ipv4.tcp_retries2=4
	nsx $R nft -f - <<-'EOF'
	table inet pair {
		chain pfwd { type filter hook forward priority 0; policy accept; }
		chain pout { type filter hook output priority 0; policy accept; }
	}
	EOF
}
fwd() { nsx $R nft add rule inet pair pfwd "$@"; }

server() {   # extra serve options
	ip netns exec $S timeout 120 "$BIN" serve --listen "${LISTEN:-$SRV:25}" --allow 0.0.0.0/0 --allow ::/0 "$@" \
		>"$TMP/server.log" 2>&1 &
	SRV_PID=$!
	# probe from the router, before any capture starts
	for _ in $(seq 50); do nsx $R bash -c "echo >/dev/tcp/${PROBE:-$SRV}/25" 2>/dev/null && break; sleep 0.1; done
	sleep 0.5
}
stop_server() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; SRV_PID=""; }

# capture NAME command...: tcpdump at both ends around a command; writes
# NAME_client.pcap and NAME_server.pcap.
capture() {
	local name=$1; shift
	ip netns exec $C timeout 90 tcpdump -i c0 -U --immediate-mode -s 0 -w "$TMP/c.pcap" tcp >/dev/null 2>&1 &
	local tc=$!
	ip netns exec $S timeout 90 tcpdump -i s0 -U --immediate-mode -s 0 -w "$TMP/s.pcap" tcp >/dev/null 2>&1 &
	local ts=$!
	sleep 0.8
	"$@"
	sleep "${TAIL:-0.5}"
	kill -INT $tc $ts; wait $tc $ts 2>/dev/null
	cp "$TMP/c.pcap" "$HERE/${name}_client.pcap"
	cp "$TMP/s.pcap" "$HERE/${name}_server.pcap"
	echo "$name: client $(stat -c %s "$HERE/${name}_client.pcap") bytes, server $(stat -c %s "$HERE/${name}_server.pcap") bytes"
}

client() { nsx $C timeout 40 python3 "$NETFAULT/client.py" "${CLIENT_TO:-$SRV}" 25 "$@"; }
injector() {   # PREFIX --to WHO: forged RSTs from the router (raw socket on r0)
	ip netns exec $R timeout 30 python3 "$NETFAULT/injector.py" r0 "$@" --wait 20 >"$TMP/injector.log" 2>&1 &
	INJ=$!
	sleep 0.5
}
nat() {   # snat | masquerade: rewrite the client's address and its port (40000-40099)
	local how="snat ip to 198.51.100.7:40000-40099"
	[ "${1:-snat}" = masquerade ] && how="masquerade to :40000-40099"
	nsx $R nft -f - <<-EOF
	table ip pairnat {
		chain post { type nat hook postrouting priority 100; policy accept;
			oifname "r1" ip saddr 192.0.2.0/24 meta l4proto tcp $how; }
	}
	EOF
}

# (1) control: an untouched session through the router.
if want normal; then
	setup; server
	capture normal client --timeout 4 --size 2000
	stop_server
fi
# (2) the router rejects DATA (IP length 58: `DATA\r\n` with TCP timestamps)
# with `reject with tcp reset`: a RST in the server's name goes to the
# client; DATA never reaches the server, which times the silent client out
# (421 4.4.2 after 3 s), and the client's stack answers that with a RST.
if want rst_to_client; then
	setup; server --idle-timeout 3
	fwd tcp dport 25 ip length 58 reject with tcp reset
	TAIL=4 capture rst_to_client client --timeout 4
	stop_server
fi
# (2b) the same over IPv6 (`DATA\r\n` is an IPv6 payload length of 38).
if want rst_to_client_v6; then
	setup; LISTEN="[$SRV6]:25" PROBE=$SRV6 server --idle-timeout 3
	fwd tcp dport 25 ip6 length 38 reject with tcp reset
	CLIENT_TO=$SRV6 TAIL=4 capture rst_to_client_v6 client --timeout 4
	stop_server
fi
# (3) an IPS resets the server in the client's name at DATA (the DATA
# segment is dropped): the server's socket is gone; the client retransmits
# DATA (dropped), gives up after 4 s and closes; the server's stack answers
# its FIN with a RST.
if want rst_to_server; then
	setup; server
	fwd tcp dport 25 ip length 58 drop
	injector 'DATA\r\n' --to server
	TAIL=3 capture rst_to_server client --timeout 4
	wait $INJ; stop_server
fi
# (4) the IPS resets both sides at DATA.
if want rst_both; then
	setup; server
	fwd tcp dport 25 ip length 58 drop
	injector 'DATA\r\n' --to both
	TAIL=1 capture rst_both client --timeout 4
	wait $INJ; stop_server
fi
# (4b) the IPS is 50 ms late at EHLO: both RSTs arrive after real data moved
# the sequence numbers on, so both ends ignore them (challenge ACKs); the
# router then drops RCPT TO (IP length 80-90) until the client gives up.
if want rst_late; then
	setup; server
	fwd tcp dport 25 ip length 80-90 drop
	injector 'EHLO' --to both --delay 0.05
	TAIL=1 capture rst_late client --timeout 4
	wait $INJ; stop_server
fi
# (5) the return path drops the server's SYN-ACKs: the client sees nothing
# (3 SYNs), the server answers each with a SYN-ACK.
if want synack_dropped; then
	setup; server
	fwd tcp sport 25 tcp flags '&' '(syn|ack)' == 'syn|ack' drop
	TAIL=3 capture synack_dropped client --timeout 10
	stop_server
fi
# (6) MTU black hole: MTU 1280 on the router's server-side link, the
# router's ICMP fragmentation-needed dropped: the dialog passes, the
# full-sized body segments never arrive.
if want mtu_blackhole; then
	setup; server
	ip -n $R link set r1 mtu 1280
	nsx $R nft add rule inet pair pout icmp type destination-unreachable icmp code frag-needed drop
	TAIL=2 capture mtu_blackhole client --timeout 8 --size 6000
	stop_server
fi
# (7) random loss: the router drops 5 % of the packets both ways; TCP
# recovers and the mail gets through.
if want loss5; then
	setup; server
	fwd numgen random mod 100 '<' 5 drop
	TAIL=1 capture loss5 client --timeout 15 --size 150000
	stop_server
fi
# (8) a stateful firewall that forgets idle connections: the router accepts
# only packets of connections it tracks (no loose pickup), and forgets an
# established connection after 2 s. The client pauses 4 s after EHLO; its
# MAIL FROM is then dropped as are all later packets both ways (the
# server's 421 after its 8 s idle timeout included).
if want idle_drop; then
	setup; server --idle-timeout 8
	fwd ct state established,related accept
	fwd tcp flags '&' '(syn|ack)' == syn ct state new accept
	fwd drop
	# (the conntrack sysctls exist once the ct rules loaded conntrack)
	nsx $R sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
	nsx $R sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=2
	TAIL=7 capture idle_drop client --pause-at ehlo --pause 4 --timeout 3
	stop_server
fi
# (9) NAT: the router rewrites the client's address to 198.51.100.7 and its
# port into 40000-40099; a normal session.
if want nat_normal; then
	setup; server; nat snat
	capture nat_normal client --timeout 4 --size 2000
	stop_server
fi
# (10) NAT (masquerade, ports rewritten) and the router's RST at DATA.
if want nat_rst_to_client; then
	setup; server --idle-timeout 3; nat masquerade
	fwd tcp dport 25 ip length 58 reject with tcp reset
	TAIL=4 capture nat_rst_to_client client --timeout 4
	stop_server
fi
# (11) NAT and the MTU black hole.
if want nat_mtu_blackhole; then
	setup; server; nat snat
	ip -n $R link set r1 mtu 1280
	nsx $R nft add rule inet pair pout icmp type destination-unreachable icmp code frag-needed drop
	TAIL=2 capture nat_mtu_blackhole client --timeout 8 --size 6000
	stop_server
fi
# (12) several sessions through NAT, plus one seen only at the client (to
# the router's own address, where nothing listens: refused) and one seen
# only at the server (from the router). The server side is also stored with
# its clock 7.5 s ahead (editcap -t 7.5), as a capture host with a wrong
# clock would write it.
multi() {
	client --timeout 4 --size 500
	client --timeout 4 --size 3000
	nsx $C timeout 5 python3 -c 'import socket
try: socket.create_connection(("192.0.2.1", 25), 2)
except OSError as e: print("refused:", e)'
	nsx $R timeout 5 python3 -c 'import socket,time
s = socket.create_connection(("'$SRV'", 25), 2); s.recv(512); s.sendall(b"QUIT\r\n"); s.recv(512); s.close()'
	client --timeout 4 --size 800
	client --timeout 4 --size 100
}
if want nat_multi; then
	setup; server; nat snat
	capture nat_multi multi
	stop_server
	editcap -t 7.5 "$HERE/nat_multi_server.pcap" "$HERE/nat_multi_server_shifted.pcap" >/dev/null
	echo "nat_multi_server_shifted.pcap: +7.5 s"
fi
