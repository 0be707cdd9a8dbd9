#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Raw control-socket client for tests/vm/t_protocol.sh: speaks bulwarkd's
wire format directly, including what libbulwark never sends.

  ctl.py SOCK send LINE...   send each line, print the one reply line to each
  ctl.py SOCK each LINE...   as send, but each line on a connection of its own
                             (a malformed line may end its connection)
  ctl.py SOCK hog OUT        ask for the backlog, print "sent", read nothing
                             until OUT.go exists, then read to the end and
                             write "lines=N bad=N end=yes|no" to OUT
  ctl.py SOCK flood N        send N status requests without reading a byte,
                             print "sent", then wait (bounded) to be dropped
"""
import json
import os
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def read_line(f):
    line = f.readline()
    return line.decode(errors="replace").rstrip("\n") if line else "<eof>"


def main():
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "each":
        for line in sys.argv[3:]:
            with connect(path) as s:
                s.settimeout(60)
                s.sendall(line.encode() + b"\n")
                print(read_line(s.makefile("rb")), flush=True)
        return
    s = connect(path)
    if mode == "send":
        s.settimeout(60)
        f = s.makefile("rb")
        for line in sys.argv[3:]:
            s.sendall(line.encode() + b"\n")
            print(read_line(f), flush=True)
    elif mode == "hog":
        out = sys.argv[3]
        s.sendall(b'{"cmd":"events","backlog":true}\n')
        print("sent", flush=True)
        for _ in range(6000):
            if os.path.exists(out + ".go"):
                break
            time.sleep(0.1)
        s.settimeout(60)
        lines = bad = 0
        end = "no"
        for raw in s.makefile("rb"):
            lines += 1
            try:
                o = json.loads(raw)
            except ValueError:
                bad += 1
                continue
            if not raw.endswith(b"\n"):
                bad += 1
            if o.get("end"):
                end = "yes"
                break
        with open(out, "w") as fo:
            fo.write(f"lines={lines} bad={bad} end={end}\n")
    elif mode == "flood":
        # A dropped client sees its queue's head, then end of file or a
        # reset (the daemon closed with requests of ours unread).
        n = int(sys.argv[3])
        try:
            for _ in range(n):
                s.sendall(b'{"cmd":"status"}\n')
            print("sent", flush=True)
            s.settimeout(120)
            while s.recv(1 << 20):
                pass
            print("closed", flush=True)
        except (ConnectionResetError, BrokenPipeError):
            print("closed", flush=True)
        except OSError as e:
            print(f"error {e}", flush=True)

main()
