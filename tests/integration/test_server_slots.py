#!/usr/bin/env python3
"""The bundled server shares its connection slots fairly: one greedy
address (127.0.0.1) that opens many connections and never closes them gets
at most --max-conn-per-ip of them (16 by default), the rest a 421 4.7.0;
a normal client from another loopback address (127.0.0.2, 127.0.0.3) is
still greeted and delivers its message, also when the slot total is small
and the greedy client keeps its refused connections open too (a refused or
closing connection holds no slot). --max-conn-per-ip 0 lifts the cap.
Linux routes all of 127.0.0.0/8 to lo, so each address is a real client.
Bounded: at most 100 connections, every wait 5 s or less."""
import os
import smtplib
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sleuth_srv import Server, Checker, Conn  # noqa: E402

c = Checker()


def conn_from(srv, src):
    s = socket.create_connection((srv.host, srv.port), timeout=5, source_address=(src, 0))
    return Conn(s)


def greedy(srv, n):
    """n connections from 127.0.0.1, all kept open; their first replies."""
    conns, codes = [], []
    for _ in range(n):
        k = conn_from(srv, "127.0.0.1")
        conns.append(k)
        try:
            codes.append(k.reply()[0])
        except (EOFError, OSError):
            codes.append(None)
    return conns, codes


def normal_client(srv, src, what):
    try:
        s = smtplib.SMTP(srv.host, srv.port, timeout=5, source_address=(src, 0))
        ok = s.sendmail("a@x.test", ["b@x.test"], "Subject: t\r\n\r\nhi\r\n") == {}
        s.quit()
    except Exception as e:  # noqa: BLE001
        ok = False
        print("  %s: %s" % (what, e))
    c.true(what, ok)


# Defaults: 16 connections per address.
with Server() as srv:
    conns, codes = greedy(srv, 40)
    c.eq("default cap: 16 of 40 greedy connections greeted", codes.count(220), 16)
    c.eq("default cap: the other 24 get 421", codes.count(421), 24)
    refused = [k for k, code in zip(conns, codes) if code == 421]
    if refused:
        log = srv.session_for(refused[0].port)
        c.eq("refused connection logged rate_limited", log.get("cause"), "rate_limited")
    normal_client(srv, "127.0.0.2", "default cap: a client from 127.0.0.2 delivers its message")
    for k in conns:
        k.close()

# Few slots in all: the greedy address still cannot take them all, even
# with its 84 refused connections left open on its side.
with Server("--max-conns", "20") as srv:
    conns, codes = greedy(srv, 100)
    c.eq("--max-conns 20: 16 greedy connections greeted", codes.count(220), 16)
    normal_client(srv, "127.0.0.2", "--max-conns 20: a client from 127.0.0.2 delivers its message")
    held = [conn_from(srv, "127.0.0.3") for _ in range(4)]
    c.eq("--max-conns 20: 127.0.0.3 gets the 4 slots left", [k.reply()[0] for k in held], [220] * 4)
    extra = conn_from(srv, "127.0.0.4")
    code, lines = extra.reply()
    c.eq("--max-conns 20: the 21st slot is refused", code, 421)
    c.true("... 'too many connections'", "too many connections" in lines[0], lines)
    for k in conns + held + [extra]:
        k.close()

# --max-conn-per-ip 0: no cap per address.
with Server("--max-conn-per-ip", "0") as srv:
    conns, codes = greedy(srv, 40)
    c.eq("--max-conn-per-ip 0: all 40 greeted", codes.count(220), 40)
    for k in conns:
        k.close()

c.done()
