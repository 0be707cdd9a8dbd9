# SPDX-License-Identifier: MIT
# recreate.py EVENTS CGROUP ROUNDS: remove CGROUP, make it again the moment
# the daemon's event says it is gone (while the daemon moves its watch), and
# wait up to 5 s for the re-resolution event. Prints one line per round and
# "recreated N of M re-resolved"; t_drift.sh checks it.
import json
import os
import sys
import time

events, cgroup, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
f = open(events)
f.seek(0, os.SEEK_END)


def next_event(match, seconds):
    """The first new event that satisfies match, or None. Polls without sleeping: the window is short."""
    buf, deadline = "", time.monotonic() + seconds
    while time.monotonic() < deadline:
        buf += f.read()
        while "\n" in buf:
            line, buf = buf.split("\n", 1)
            e = json.loads(line)
            if match(e):
                return e
    return None


good = 0
for i in range(rounds):
    os.rmdir(cgroup)
    gone = next_event(lambda e: e.get("event") == "drift" and e.get("now") == "missing", 5)
    os.mkdir(cgroup)
    back = gone and next_event(lambda e: e.get("event") == "loaded" and e.get("reason") == "re-resolve", 5)
    good += bool(back)
    print(f"round {i}: gone {'reported' if gone else 'NOT reported'}, "
          f"{'re-resolved: generation %d' % back['policy']['generation'] if back else 'NOT re-resolved'}", flush=True)
print(f"recreated {good} of {rounds} re-resolved")
