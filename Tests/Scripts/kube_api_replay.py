#!/usr/bin/env python3
"""A loopback Kubernetes API server for the k8sattributes watch tests: HTTPS with the given
certificate, bearer token checked, answering /api/v1/pods lists and watches from a real pod list
(Fixtures/k8s/kubelet-pods.json) in a fixed script:

  list 1   items 0..19, resourceVersion 1000
  watch 1  (from 1000) ADDED item 20 (1001), a line that is not JSON, MODIFIED item 0 (1002), then
           the server closes the stream
  watch 2  (from 1002) 410 Gone
  list 2   items 1..21, resourceVersion 2000
  watch 3  (from 2000) DELETED item 1 (2001), then stays open until the client leaves

  kube_api_replay.py --cert C --key K --token T --pods FILE --log LOG

Prints its port, then appends `LIST` or `WATCH <resourceVersion>` to LOG for each request.
"""
import argparse
import http.server
import json
import ssl
import threading
import time
import urllib.parse

parser = argparse.ArgumentParser()
for name in ("--cert", "--key", "--token", "--pods", "--log"):
    parser.add_argument(name, required=True)
args = parser.parse_args()
items = json.load(open(args.pods))["items"]
lock = threading.Lock()
calls = {"list": 0, "watch": 0}


def versioned(item, version):
    item = json.loads(json.dumps(item))
    item["metadata"]["resourceVersion"] = str(version)
    return item


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log(self, line):
        with lock, open(args.log, "a") as out:
            out.write(line + "\n")

    def send_json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def chunk(self, data):
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def event(self, kind, item):
        self.chunk(json.dumps({"type": kind, "object": item}).encode() + b"\n")

    def do_GET(self):
        if self.headers.get("Authorization") != f"Bearer {args.token}":
            return self.send_json(401, {"kind": "Status", "code": 401, "reason": "Unauthorized"})
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path != "/api/v1/pods":
            return self.send_json(404, {"kind": "Status", "code": 404})
        if "watch" not in query:
            with lock:
                calls["list"] += 1
                number = calls["list"]
            self.log("LIST")
            listed, version = (items[0:20], 1000) if number == 1 else (items[1:22], 2000)
            return self.send_json(200, {"kind": "PodList", "metadata": {"resourceVersion": str(version)},
                                        "items": listed})
        with lock:
            calls["watch"] += 1
            number = calls["watch"]
        self.log(f"WATCH {query.get('resourceVersion', [''])[0]}")
        if number == 2:
            return self.send_json(410, {"kind": "Status", "code": 410, "reason": "Expired"})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if number == 1:
            self.event("ADDED", versioned(items[20], 1001))
            self.chunk(b"{this is not json\n")
            modified = versioned(items[0], 1002)
            modified["metadata"].setdefault("labels", {})["changed"] = "yes"
            self.event("MODIFIED", modified)
            self.chunk(b"")  # the server ends the watch
            return
        self.event("DELETED", versioned(items[1], 2001))
        try:
            while True:
                time.sleep(1)
                self.chunk(b"\n")  # keep-alive blank lines, as a long watch may carry
        except OSError:
            pass

    def log_message(self, *_):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(args.cert, args.key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
