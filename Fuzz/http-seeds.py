"""Seeds for the http fuzz target: whole client conversations built from OTLP fixtures.

Usage: python3 Fuzz/http-seeds.py DIRECTORY
"""
import gzip
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
root = pathlib.Path(__file__).resolve().parent.parent / "Fixtures"
bodies = [
    ("/v1/traces", "application/x-protobuf", root / "generated/shop-traces-single.pb"),
    ("/v1/traces", "application/x-protobuf", root / "corpus/otlp/otlp2parquet/trace.pb"),
    ("/v1/logs", "application/x-protobuf", root / "corpus/otlp/otlp2parquet/logs.pb"),
]
bodies += [("/v1/traces", "application/json", path) for path in sorted(root.glob("**/*trace*.json"))[:4]]
bodies += [("/v1/logs", "application/json", path) for path in sorted(root.glob("**/*log*.json"))[:3]]
bodies += [("/v1/metrics", "application/json", path) for path in sorted(root.glob("**/*metrics*.json"))[:2]]


def request(path, content_type, body, extra=b""):
    head = f"POST {path} HTTP/1.1\r\nHost: fuzz\r\nContent-Type: {content_type}\r\n".encode()
    return head + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body


def chunked(path, content_type, body):
    head = f"POST {path} HTTP/1.1\r\nHost: fuzz\r\nContent-Type: {content_type}\r\n".encode()
    middle = len(body) // 2
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:middle], body[middle:]) if part)
    return head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"


count = 0
for path, content_type, file in bodies:
    body = file.read_bytes()
    if len(body) > 12000:
        continue
    seeds = [
        request(path, content_type, body),
        request(path, content_type, gzip.compress(body), b"Content-Encoding: gzip\r\n"),
        request(path, content_type, body, b"Expect: 100-continue\r\n"),
        chunked(path, content_type, body),
        request(path, content_type, body) + b"GET /metrics HTTP/1.1\r\nHost: fuzz\r\n\r\n",
    ]
    for seed in seeds:
        count += 1
        (out / f"request-{count}").write_bytes(seed)
for extra in [
    b"GET /healthz HTTP/1.1\r\nHost: fuzz\r\n\r\nGET /readyz HTTP/1.0\r\n\r\n",
    b"GET /v1/traces HTTP/1.1\r\nHost: fuzz\r\n\r\n",
    b"POST /v1/traces HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
    b"POST /v1/logs HTTP/1.1\r\nContent-Type: application/json\r\nContent-Encoding: br\r\nContent-Length: 2\r\n\r\n{}",
]:
    count += 1
    (out / f"request-{count}").write_bytes(extra)
