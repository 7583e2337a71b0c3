#!/usr/bin/env python3
"""A steady log writer for the following tests: appends numbered lines to a file at an
interval, as an application logging would.

  steady_writer.py --path FILE --count N [--interval SECONDS] [--pid-file FILE]

Each line is `seq <n> at <seconds since the epoch>` (the time it was written, for latency),
written and flushed whole. The file is opened for appending; SIGHUP reopens it by name (what
logrotate's postrotate asks of a program after `create`). Prints `done` when every line is out.
"""
import argparse
import os
import signal
import time

parser = argparse.ArgumentParser()
parser.add_argument("--path", required=True)
parser.add_argument("--count", type=int, required=True)
parser.add_argument("--interval", type=float, default=0.002)
parser.add_argument("--pid-file")
args = parser.parse_args()

reopen = False


def on_hangup(*_):
    global reopen
    reopen = True


signal.signal(signal.SIGHUP, on_hangup)
if args.pid_file:
    with open(args.pid_file, "w") as out:
        out.write(str(os.getpid()))
descriptor = os.open(args.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
for number in range(args.count):
    if reopen:
        reopen = False
        os.close(descriptor)
        descriptor = os.open(args.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(descriptor, f"seq {number} at {time.time():.6f}\n".encode())
    time.sleep(args.interval)
os.close(descriptor)
print("done", flush=True)
