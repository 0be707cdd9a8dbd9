#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# policy-shapes.py DIR [NEXEC]: the policies against.sh and variants.sh
# measure, written into DIR (files they name into DIR/files):
#   small.policy   10 rules of every shape the workloads meet (exec, fork,
#                  thread, signal, ptrace, control, bpf, lockdown), none
#                  matching them (they run as root)
#   nofork.policy  the same without its fork and thread rules
#   big.policy     with NEXEC: 10,000 rules of those shapes plus NEXEC
#                  exact exec rules
import sys


def shapes(w, k, forks=True):
    ops = ["exec", "write", "read", "control", "signal", "fork", "thread", "bpf", "lockdown", "exec"]
    out = []
    for i in range(k):
        op, who, tgt = ops[i % len(ops)], 20000 + i, 40000 + i
        if op == "exec":
            open(f"{w}/files/s{i}", "w").close()
            out.append(f"deny exec {w}/files/s{i}\n")
        elif op in ("fork", "thread"):
            if forks:
                out.append(f"deny {op} any from uid={who}\n")
        elif op == "bpf":
            out.append(f"deny bpf any from uid={who}\n")
        elif op == "lockdown":
            out.append(f"deny lockdown integrity from uid={who}\n")
        elif op == "signal":
            out.append(f"deny signal uid={tgt} from uid={who} with signals=KILL,TERM\n")
        else:
            out.append(f"deny {op} uid={tgt} from uid={who}\n")
    return out


w = sys.argv[1]
open(f"{w}/small.policy", "w").writelines(shapes(w, 10))
open(f"{w}/nofork.policy", "w").writelines(shapes(w, 10, forks=False))
if len(sys.argv) > 2:
    with open(f"{w}/big.policy", "w") as f:
        f.writelines(shapes(w, 10000))
        for i in range(int(sys.argv[2])):
            open(f"{w}/files/e{i}", "w").close()
            f.write(f"deny exec {w}/files/e{i}\n")
