#!/usr/bin/env python3
"""Top operator frames of a JFR recording's execution samples (issue 21's profile tables in docs/benchmarks).

Usage: python3 tools/profile-frames.py RECORDING.jfr [TITLE]
Runs `jfr print --events jdk.ExecutionSample` of the JDK 25 in /usr/lib/jvm/temurin-25-jdk-amd64 (or $JFR) and
counts, per sample, the innermost io.tailops frame (its own time and the library calls below it) and every io.tailops
frame on the stack (inclusive time).
"""
import collections
import os
import re
import subprocess
import sys

jfr = os.environ.get("JFR", "/usr/lib/jvm/temurin-25-jdk-amd64/bin/jfr")
recording = sys.argv[1]
title = sys.argv[2] if len(sys.argv) > 2 else recording
out = subprocess.run([jfr, "print", "--events", "jdk.ExecutionSample", "--stack-depth", "64", recording],
                     check=True, capture_output=True, text=True).stdout
innermost = collections.Counter()
inclusive = collections.Counter()
n = 0
for event in out.split("jdk.ExecutionSample")[1:]:
    frames = re.findall(r"^\s+([\w.$<>]+)\(", event, re.M)
    if not frames:
        continue
    n += 1
    ours = [f for f in frames if f.startswith("io.tailops")]
    innermost[ours[0] if ours else "(no operator frame: " + frames[-1] + ")"] += 1
    for f in set(ours):
        inclusive[f] += 1
print(f"{title}: {n} execution samples")
print("\n# innermost operator frame (its own time and the library calls below it)")
for k, v in innermost.most_common(20):
    print(f"{v:6d} {100 * v / n:5.1f}%  {k}")
print("\n# operator frames anywhere on the stack (inclusive)")
for k, v in inclusive.most_common(25):
    print(f"{v:6d} {100 * v / n:5.1f}%  {k}")
