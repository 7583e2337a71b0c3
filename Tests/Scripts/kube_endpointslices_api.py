#!/usr/bin/env python3
"""A loopback Kubernetes API server for the loadbalancing exporter's k8s resolver: HTTPS with the
given certificate, bearer token checked, serving the EndpointSlices of one Service
(discovery.k8s.io/v1, selected by the kubernetes.io/service-name label) in a fixed script:

  list     one slice: 127.0.0.1 ready, 127.0.0.2 not ready; resourceVersion 10
  watch    (from 10) after --delay seconds, MODIFIED: 127.0.0.2 ready too (11); then stays
           open until the client leaves

  kube_endpointslices_api.py --cert C --key K --token T --namespace NS --service NAME --log LOG

With --ready A,B,C the slice lists those addresses, all ready, and the watch changes nothing
until the file --drop-when names exists; then MODIFIED: --drop is no longer ready (the scale-out
test takes a gateway away while the agent runs).

Prints its port, then appends the path and query of each request to LOG.
"""
import argparse
import http.server
import json
import os
import ssl
import threading
import time
import urllib.parse

parser = argparse.ArgumentParser()
for name in ("--cert", "--key", "--token", "--namespace", "--service", "--log"):
    parser.add_argument(name, required=True)
parser.add_argument("--delay", type=float, default=1.0)
parser.add_argument("--ready")
parser.add_argument("--drop-when")
parser.add_argument("--drop")
args = parser.parse_args()
lock = threading.Lock()


def endpoint_slice(version, changed):
    if args.ready:
        endpoints = [{"addresses": [address], "conditions": {"ready": not (changed and address == args.drop)}}
                     for address in args.ready.split(",")]
    else:
        endpoints = [
            {"addresses": ["127.0.0.1"], "conditions": {"ready": True}},
            {"addresses": ["127.0.0.2"], "conditions": {"ready": changed}},
        ]
    return {
        "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "addressType": "IPv4",
        "metadata": {"name": args.service + "-abcde", "namespace": args.namespace,
                     "resourceVersion": str(version), "labels": {"kubernetes.io/service-name": args.service}},
        "endpoints": endpoints,
        "ports": [{"name": "otlp-grpc", "port": 4317, "protocol": "TCP"}],
    }


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

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

    def do_GET(self):
        with lock, open(args.log, "a") as out:
            out.write(self.path + "\n")
        if self.headers.get("Authorization") != f"Bearer {args.token}":
            return self.send_json(401, {"kind": "Status", "code": 401, "reason": "Unauthorized"})
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        expected = f"/apis/discovery.k8s.io/v1/namespaces/{args.namespace}/endpointslices"
        selector = query.get("labelSelector", [""])[0]
        if url.path != expected or selector != f"kubernetes.io/service-name={args.service}":
            return self.send_json(404, {"kind": "Status", "code": 404})
        if "watch" not in query:
            return self.send_json(200, {"kind": "EndpointSliceList", "metadata": {"resourceVersion": "10"},
                                        "items": [endpoint_slice(10, False)]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if args.drop_when:
                while not os.path.exists(args.drop_when):
                    time.sleep(0.1)
                    self.chunk(b"\n")
            else:
                time.sleep(args.delay)
            self.chunk(json.dumps({"type": "MODIFIED", "object": endpoint_slice(11, True)}).encode() + b"\n")
            while True:
                time.sleep(1)
                self.chunk(b"\n")
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
