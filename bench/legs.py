#!/usr/bin/env python3
"""Reads a `perf record -e sched:sched_waking,sched:sched_switch -a` trace of one proxy at concurrency 1 (see
legs.sh) and prints, for the first token's way through the proxy:

  in-leg:  from the client waking the proxy (the request arrives) to the proxy waking the simulator (the request
           goes out), and
  out-leg: from the simulator waking the proxy (the first chunk arrives) to the proxy waking the client (it goes
           out),

each as p25/p50/p75 in microseconds, with the proxy's longest stretch on one CPU without a context switch inside the
leg (spinning before the work included) and how many times a proxy thread was woken inside it. A leg that is one
long stretch did its work on one thread without waiting; a leg made of many short ones and wake-ups waited on hops.

usage: legs.py TRACE PROXY_PID SIMULATOR_PID CLIENT_PID
"""
import re
import subprocess
import sys

trace, proxy, simulator, client = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
text = subprocess.run(
    ["perf", "script", "-i", trace, "-F", "comm,pid,tid,cpu,time,event,trace"],
    capture_output=True, text=True, check=True).stdout

line_re = re.compile(r"^\s*(.+?)\s+(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s+(.*)$")
events = []
process_of = {}  # thread id -> process id, learnt from every event a thread was running for
for line in text.splitlines():
    match = line_re.match(line)
    if match:
        _, pid, tid, cpu, time, event, fields = match.groups()
        process_of[int(tid)] = int(pid)
        events.append((float(time), int(pid), int(cpu), event, fields))


def role(pid):
    return "P" if pid == proxy else "S" if pid == simulator else "C" if pid == client else None


# Wake-ups across processes, in order, and the proxy's on-CPU runs (start, end). A run is only counted when the
# switch that ends it names the thread the previous switch put on that CPU: a lost event must not stitch two together.
crossings, proxy_wakes, runs, on_cpu = [], [], [], {}
for time, pid, cpu, event, fields in events:
    if event.endswith("sched_waking"):
        woken = process_of.get(int(re.search(r" pid=(\d+)", fields).group(1)))
        waker, wakee = role(pid), role(woken)
        if wakee == "P":
            proxy_wakes.append(time)
        if waker and wakee and waker != wakee:
            crossings.append((time, waker + wakee))
    elif event.endswith("sched_switch"):
        previous = int(re.search(r"prev_pid=(\d+)", fields).group(1))
        following = int(re.search(r"next_pid=(\d+)", fields).group(1))
        since, thread = on_cpu.get(cpu, (None, None))
        if since is not None and thread == previous and previous and process_of.get(previous) == proxy:
            runs.append((since, time))
        on_cpu[cpu] = (time, following)

# A stream's first token: C wakes P, P wakes S, S wakes P, P wakes C, in that order. Any other crossing in between
# (a wake-up not seen because its thread was already running, say) drops the stream rather than pairing it with a
# later token's crossings.
in_legs, out_legs = [], []
step, marks, requests = 0, [], 0
for time, pair in crossings:
    if pair == "CP":
        requests += 1
        step, marks = 1, [time]
    elif step > 0 and pair == ["CP", "PS", "SP", "PC"][step]:
        marks.append(time)
        step += 1
        if step == 4:
            in_legs.append((marks[0], marks[1]))
            out_legs.append((marks[2], marks[3]))
            step, marks = 0, []
    else:
        step, marks = 0, []


def describe(name, legs):
    if not legs:
        print(f"{name}: no complete legs in the trace")
        return
    def longest_run(start, end):
        return max((min(b, end) - max(a, start) for a, b in runs if b > start and a < end), default=0.0)
    def wakes(start, end):
        return sum(1 for t in proxy_wakes if start < t < end)
    def quartiles(values):
        values = sorted(values)
        return " / ".join(f"{values[int(len(values) * q)]:.0f}" for q in (0.25, 0.5, 0.75))
    print(f"{name}: {len(legs)} streams; µs p25 / p50 / p75: "
          f"leg {quartiles([(b - a) * 1e6 for a, b in legs])}; "
          f"longest stretch on a CPU {quartiles([longest_run(a, b) * 1e6 for a, b in legs])}; "
          f"proxy wake-ups {quartiles([wakes(a, b) for a, b in legs])}")


print(f"{len(in_legs)} of {requests} requests seen whole (a request the proxy was awake for, or one cut by the trace's "
      "ends, is left out)")
describe("in-leg  (request in -> request out)", in_legs)
describe("out-leg (first chunk in -> first chunk out)", out_legs)
