#!/usr/bin/env python3
"""A sender for the persistent-queue tests: posts one OTLP/HTTP JSON log record per request,
body `seq N`, for N in [--first, --first + --count), one request after the other, and prints
`acked N` for each request answered 200 (acknowledged) and `refused N STATUS` for the others.

  otlp_log_sender.py --url http://127.0.0.1:PORT/v1/logs --first 0 --count 100 [--padding BYTES]

--padding adds an attribute of that many bytes to each record (to fill a storage quickly).
"""
import argparse
import json
import urllib.error
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--first", type=int, default=0)
parser.add_argument("--count", type=int, required=True)
parser.add_argument("--padding", type=int, default=0)
args = parser.parse_args()

for number in range(args.first, args.first + args.count):
    record = {"timeUnixNano": "1700000000000000000", "body": {"stringValue": f"seq {number}"}}
    if args.padding:
        record["attributes"] = [{"key": "padding", "value": {"stringValue": "x" * args.padding}}]
    body = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}).encode()
    request = urllib.request.Request(args.url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0
    print(f"acked {number}" if status == 200 else f"refused {number} {status}", flush=True)
