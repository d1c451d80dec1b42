#!/usr/bin/env python3
"""Reads `perf script -F comm,tid,ip,sym,dso` output of the gateway's CPU samples (see profile.sh) and prints two
tables of shares:

  by code:  the module a sample's innermost frame was in: the gateway's own JIT'd code, the framework's JIT'd code,
            precompiled (ReadyToRun) code not yet recompiled, the runtime (libcoreclr: GC, allocation, stubs), the
            JIT (libclrjit), the kernel, other native code;
  by stage: the innermost frame on a sample's stack that names a stage (Kestrel, middleware, JSON, HttpClient, the
            gateway's feature folders, ...), so JSON called by the gateway counts as JSON and a GC allocation counts
            for whoever allocated; a sample with no managed frame that names one is named by the system call the
            kernel was making for it, or else by its thread's name. The second column leaves idle workers out.

usage: profile.py STACKS_TXT
"""
import collections
import re
import sys

# Checked from the innermost frame out, in this order for each frame: the first match names the sample's stage.
STAGES = [
    ("idle workers (spinning, then waiting)", ["LowLevelLifoSemaphore", "LowLevelSpinWaiter"]),
    ("the gateway: Chat (endpoint, request, chunks written)", ["Gateway.Chat."]),
    ("the gateway: Providers (upstream body, stream read)", ["Gateway.Providers."]),
    ("the gateway: Resilience, Polly", ["Gateway.Resilience.", "Polly."]),
    ("the gateway: Streaming (SSE writer)", ["Gateway.Streaming."]),
    ("the gateway: Security", ["Gateway.Security."]),
    ("the gateway: Telemetry", ["Gateway.Telemetry."]),
    ("the gateway: other", ["Gateway."]),
    ("System.Text.Json", ["System.Text.Json."]),
    ("SSE parser (System.Net.ServerSentEvents)", ["System.Net.ServerSentEvents."]),
    ("OpenAI SDK, System.ClientModel", ["OpenAI.", "System.ClientModel."]),
    ("HttpClient (System.Net.Http)", ["System.Net.Http."]),
    ("sockets (System.Net.Sockets)", ["System.Net.Sockets."]),
    ("Kestrel, pipelines", ["Microsoft.AspNetCore.Server.Kestrel.", "System.IO.Pipelines."]),
    ("authentication, authorization", ["Microsoft.AspNetCore.Authentication.", "Microsoft.AspNetCore.Authorization."]),
    ("routing, binding", ["Microsoft.AspNetCore.Routing.", "Microsoft.AspNetCore.Http.RequestDelegateFactory",
                          "Microsoft.AspNetCore.Http.Generated."]),
    ("hosting, other middleware", ["Microsoft.AspNetCore."]),
    ("dependency injection", ["Microsoft.Extensions.DependencyInjection."]),
    ("logging", ["Microsoft.Extensions.Logging."]),
    ("diagnostics (Activity, metrics)", ["System.Diagnostics."]),
]

# Helpers every layer calls (casts, async builders, span and string helpers, the thread pool's dispatch loop at the
# root of every worker's stack): a sample in them counts for the stage that called them, and for these only when no
# frame out from them names one.
FALLBACK_STAGES = [
    ("thread pool, tasks, timers", ["System.Threading."]),
    ("other BCL", ["System."]),
]

# A system call made through libc loses its managed caller (libc keeps no frame pointers), so a sample in the kernel
# with no stage above is named by what the kernel was doing for it.
KERNEL_STAGES = [
    ("idle workers (spinning, then waiting)", ["sys_sched_yield"]),
    ("kernel: socket I/O (loopback TCP)", ["tcp_", "sock_", "sys_sendto", "sys_recvfrom", "sys_sendmsg",
                                           "sys_recvmsg", "sys_write", "sys_read"]),
    ("kernel: epoll", ["epoll"]),
    ("kernel: futex (threads waking, waiting)", ["futex"]),
    ("kernel: scheduling (a thread switched in or out)", ["__schedule"]),
]


# A perf map names a method with its return type, assembly, declaring type and parameter types; what a frame belongs to
# is its declaring type alone (a framework stub whose parameters name a gateway type is the framework's).
DECLARING_TYPE = re.compile(r"\] ?([^\s\[]+?)(?:\[[^\]]*\])?::")


def declaring(sym):
    """The declaring type of a managed frame's method, or the whole symbol for a native frame."""
    matches = DECLARING_TYPE.findall(sym)
    return matches[-1] if matches else sym


def module(frame):
    """What kind of code a frame is, from its DSO (the perf map for JIT'd code) and its symbol."""
    dso, sym = frame
    if "perf-" in dso and dso.endswith(".map"):
        return "JIT'd code: the gateway's own" if declaring(sym).startswith("Gateway.") else "JIT'd code: framework"
    if dso.endswith(".dll"):
        return "ReadyToRun code (precompiled, not recompiled)"
    if "libcoreclr" in dso:
        return "runtime (libcoreclr: GC, allocation, stubs)"
    if "libclrjit" in dso:
        return "JIT (libclrjit)"
    if "kernel" in dso:
        return "kernel"
    return "other native code (" + dso.rsplit("/", 1)[-1] + ")"


def stage(frames, thread):
    for _, sym in frames:
        owner = declaring(sym)
        for name, prefixes in STAGES:
            if any(p in owner for p in prefixes):
                return name
    for name, parts in KERNEL_STAGES:
        if any(p in sym for _, sym in frames for p in parts):
            return name
    for _, sym in frames:
        owner = declaring(sym)
        for name, prefixes in FALLBACK_STAGES:
            if any(p in owner for p in prefixes):
                return name
    # Mostly frames perf cannot name: the runtime's (stripped) and CoreLib's precompiled ones.
    return "no frame that names a stage, thread " + thread


def samples(path):
    """Yields (thread name, frames innermost first) per sample."""
    header, frames = None, []
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.strip():
                if header is not None:
                    yield header, frames
                header, frames = None, []
            elif not line[0].isspace():
                # "comm tid" with a comm that may hold spaces (".NET TP Worker")
                header = line.rsplit(None, 1)[0].strip()
            else:
                parts = line.strip().split(None, 1)
                rest = parts[1] if len(parts) > 1 else ""
                sym, _, dso = rest.rpartition(" (")
                frames.append((dso.rstrip(")"), sym))
    if header is not None:
        yield header, frames


IDLE = STAGES[0][0]


def print_table(title, counts, total, busy=None):
    print(f"\n| {title} | share |" + (" share of the busy samples |" if busy else ""))
    print("|---|---:|" + ("---:|" if busy else ""))
    for name, n in counts.most_common():
        of_busy = "" if not busy else " – |" if name == IDLE else f" {100.0 * n / busy:.1f} % |"
        print(f"| {name} | {100.0 * n / total:.1f} % |" + of_busy)


by_code, by_stage, total = collections.Counter(), collections.Counter(), 0
for thread, frames in samples(sys.argv[1]):
    if not frames:
        continue
    total += 1
    by_code[module(frames[0])] += 1
    by_stage[stage(frames, thread)] += 1
if total == 0:
    sys.exit("no samples")
print(f"{total} samples")
print_table("by code (innermost frame)", by_code, total)
print_table("by stage (innermost frame naming one)", by_stage, total, busy=max(1, total - by_stage[IDLE]))
