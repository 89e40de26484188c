#!/usr/bin/env python3
"""fault_proxy.py - a fault-injecting HTTP/1.1 proxy for the integration tests.

fault_proxy.py --upstream 127.0.0.1:UPORT [--port P | --port 0 --port-file F]
               [--rate R] [--seed S] [--kinds K,K,...] [--match REGEX]
               [--max-faults-per-request N]
               [--log FILE] [--access-log FILE] [--log-query] [--max-seconds N]

Listens on 127.0.0.1:PORT and forwards every request to the registry at
127.0.0.1:UPORT (plain HTTP), one upstream connection per client connection,
client connections kept alive.  Request bodies are read whole, with a
Content-Length or chunked (and "Expect: 100-continue" is answered), and sent on
with a Content-Length; response bodies are read whole and sent back with a
Content-Length.  A Location header that points at the upstream is rewritten to
point at the proxy.

A request is faulted with probability --rate (only requests whose
"METHOD /path?query" matches --match, when given).  The decision for the n-th
occurrence of one request (method and path, upload ids blanked) is a hash of
the seed, the request and n, so a seed gives the same faults whatever the
timing (concurrent uploads to one repository share a key, so which of them
gets which decision may vary).  With --max-faults-per-request N, one request
is faulted N times at most (e.g. --rate 1 --max-faults-per-request 2: the
first two tries fail, the third goes through).  A kind is picked the same way, uniformly
among --kinds (default all; a kind may be listed twice for more weight):

  reset     the request is not forwarded; the connection is reset (RST, SO_LINGER 0)
            right after the request headers, while a body may still be coming
  close     the request (and its body) is read, not forwarded; the connection is
            closed (FIN) without an answer
  drop      the request IS forwarded (it takes effect), the answer is lost:
            connection reset
  429 500 502 503
            the request is not forwarded; answered with that status and a
            registry-style JSON error body (connection kept alive)
  truncate  forwarded; the answer's headers go out with the full Content-Length,
            then half of the body, then the connection is closed (FIN); an
            answer without a body of 2 bytes or more (HEAD, 201, 202...) is
            reset instead, after forwarding, and logged as truncate-as-reset
  delay     forwarded after 0.5-2 s; the answer is the right one

No fault ever yields a complete-looking wrong answer: bytes are never altered,
only cut short or withheld.  Each fault is appended to --log as one line
"FAULT <kind> <METHOD> <path>"; --access-log gets one line per request
"<seconds since start> <status or kind> <METHOD> <path>" (with --log-query,
the path with its query string, e.g. a mount's "?mount=...&from=...").  A request line
that is not HTTP/1.x (e.g. a TLS handshake) closes the connection, unlogged.
The proxy stops by itself after --max-seconds (default 300); every loop is
bounded, and connections idle for 60 s are closed.
"""
import argparse
import hashlib
import http.client
import os
import re
import socket
import socketserver
import struct
import sys
import threading
import time
import zlib

ALL_KINDS = ["reset", "close", "drop", "429", "500", "502", "503", "truncate", "delay"]
MAX_HEADERS = 200
MAX_HEADER_LINE = 65536
MAX_BODY = 512 << 20
MAX_CHUNKS = 1 << 20
MAX_REQUESTS_PER_CONN = 100000
IDLE_TIMEOUT = 60
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "proxy-authorization", "proxy-authenticate", "expect",
              "content-length", "host"}
REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable"}
CODES = {429: "TOOMANYREQUESTS", 500: "UNKNOWN", 502: "UNAVAILABLE", 503: "UNAVAILABLE"}
UPLOAD_ID = re.compile(r"/uploads/[^/?]+")


class Conf:
    pass


conf = Conf()
lock = threading.Lock()
counts = {}
fault_counts = {}
log_files = {}


def log(which, line):
    f = log_files.get(which)
    if f is None:
        return
    if which == "access":
        line = "%8.3f %s" % (time.time() - conf.start, line)
    with lock:
        f.write(line + "\n")
        f.flush()


def decide(method, target):
    """Returns the fault kind for this request, or None."""
    if conf.rate <= 0 or not conf.kinds:
        return None
    if conf.match is not None and not conf.match.search("%s %s" % (method, target)):
        return None
    path = target.split("?", 1)[0]
    key = "%s %s" % (method, UPLOAD_ID.sub("/uploads/*", path))
    with lock:
        n = counts.get(key, 0)
        counts[key] = n + 1
    h = hashlib.sha256(("%d|%s|%d" % (conf.seed, key, n)).encode()).digest()
    x = struct.unpack(">Q", h[:8])[0] / 2.0 ** 64
    if x >= conf.rate:
        return None
    with lock:
        f = fault_counts.get(key, 0)
        if conf.max_faults is not None and f >= conf.max_faults:
            return None
        fault_counts[key] = f + 1
    return conf.kinds[struct.unpack(">I", h[8:12])[0] % len(conf.kinds)]


class BadRequest(Exception):
    pass


def read_line(rf):
    line = rf.readline(MAX_HEADER_LINE + 1)
    if len(line) > MAX_HEADER_LINE:
        raise BadRequest("header line too long")
    return line


def read_head(rf):
    """Returns (method, target, version, headers list) or None at EOF."""
    line = read_line(rf)
    if not line:
        return None
    m = re.match(rb"^([A-Z]+) (\S+) (HTTP/1\.[01])\r?\n$", line)
    if not m:
        raise BadRequest("not an HTTP/1.x request line")
    method, target, version = (g.decode("latin-1") for g in m.groups())
    headers = []
    for _ in range(MAX_HEADERS + 1):
        line = read_line(rf)
        if not line:
            raise BadRequest("EOF in headers")
        if line in (b"\r\n", b"\n"):
            break
        k, sep, v = line.decode("latin-1").partition(":")
        if not sep:
            raise BadRequest("malformed header")
        headers.append((k.strip(), v.strip()))
    else:
        raise BadRequest("too many headers")
    return method, target, version, headers


def read_body(rf, wf, headers):
    hmap = {k.lower(): v for k, v in headers}
    if hmap.get("expect", "").lower() == "100-continue":
        wf.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        wf.flush()
    body = b""
    if "chunked" in hmap.get("transfer-encoding", "").lower():
        parts, total = [], 0
        for _ in range(MAX_CHUNKS):
            size_line = read_line(rf)
            if not size_line:
                raise BadRequest("EOF in chunked body")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                for _ in range(MAX_HEADERS + 1):  # trailers
                    t = read_line(rf)
                    if not t or t in (b"\r\n", b"\n"):
                        break
                break
            total += size
            if total > MAX_BODY:
                raise BadRequest("body too large")
            data = rf.read(size)
            if len(data) != size:
                raise BadRequest("EOF in chunk")
            parts.append(data)
            rf.read(2)  # CRLF after the chunk
        else:
            raise BadRequest("too many chunks")
        body = b"".join(parts)
    elif "content-length" in hmap:
        n = int(hmap["content-length"])
        if n < 0 or n > MAX_BODY:
            raise BadRequest("bad Content-Length")
        body = rf.read(n)
        if len(body) != n:
            raise BadRequest("EOF in body")
    return body


def rst(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def error_answer(status):
    body = ('{"errors":[{"code":"%s","message":"injected by fault_proxy","detail":null}]}'
            % CODES[status]).encode()
    head = ("HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
            "Docker-Distribution-Api-Version: registry/2.0\r\nContent-Length: %d\r\n%s\r\n"
            % (status, REASONS[status], len(body), "Retry-After: 0\r\n" if status == 429 else ""))
    return head.encode() + body


def rewrite_location(v):
    for up in conf.upstream_names:
        for scheme in ("http://", "https://"):
            if v.startswith(scheme + up):
                return "http://" + conf.self_name + v[len(scheme + up):]
    return v


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        self.request.settimeout(IDLE_TIMEOUT)
        self.rf = self.request.makefile("rb", buffering=1 << 16)
        self.wf = self.request.makefile("wb", buffering=0)
        self.up = None

    def finish(self):
        for f in (self.rf, self.wf):
            try:
                f.close()
            except OSError:
                pass
        if self.up is not None:
            self.up.close()

    def upstream(self, method, target, headers, body):
        """Forwards; returns (status, reason, headers, body).  Reconnects once."""
        fwd = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
        fwd.append(("Host", conf.upstream))
        for attempt in range(2):
            if self.up is None:
                self.up = http.client.HTTPConnection(conf.up_host, conf.up_port, timeout=120)
            try:
                self.up.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
                for k, v in fwd:
                    self.up.putheader(k, v)
                if body or method in ("POST", "PUT", "PATCH"):
                    self.up.putheader("Content-Length", str(len(body)))
                self.up.endheaders(body if body else None)
                resp = self.up.getresponse()
                data = resp.read()
                rheaders = resp.getheaders()
                if resp.will_close:
                    self.up.close()
                    self.up = None
                return resp.status, resp.reason, rheaders, data
            except (OSError, http.client.HTTPException):
                self.up.close()
                self.up = None
                if attempt == 1:
                    raise
        raise OSError("unreachable")

    def handle(self):
        for _ in range(MAX_REQUESTS_PER_CONN):
            if time.time() > conf.deadline:
                return
            try:
                req = read_head(self.rf)
            except (BadRequest, ValueError, OSError):
                return  # e.g. a TLS handshake: just close
            if req is None:
                return
            method, target, version, headers = req
            hmap = {k.lower(): v.lower() for k, v in headers}
            keep = hmap.get("connection") != "close" and (
                version == "HTTP/1.1" or hmap.get("connection") == "keep-alive")
            kind = decide(method, target)
            path = target.split("?", 1)[0]
            if kind is not None and kind != "truncate":
                log("faults", "FAULT %s %s %s" % (kind, method, path))
            if kind == "reset":
                # at once, while the client may still be sending its body
                log("access", "%s %s %s" % (kind, method, path))
                rst(self.request)
                return
            try:
                body = read_body(self.rf, self.wf, headers)
            except (BadRequest, ValueError, OSError):
                return
            if kind == "close":
                log("access", "%s %s %s" % (kind, method, path))
                try:
                    self.request.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if kind in ("429", "500", "502", "503"):
                log("access", "%s %s %s" % (kind, method, path))
                try:
                    self.wf.write(error_answer(int(kind)))
                except OSError:
                    return
                if not keep:
                    return
                continue
            if kind == "delay":
                time.sleep(0.5 + (zlib.crc32(("%s %s %f" % (method, target, time.time())).encode()) % 1500) / 1000.0)
            try:
                status, reason, rheaders, data = self.upstream(method, target, headers, body)
            except (OSError, http.client.HTTPException) as e:
                log("access", "upstream-error %s %s %s" % (method, path, e))
                try:
                    self.wf.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                                  b"Connection: close\r\n\r\n")
                except OSError:
                    pass
                return
            log("access", "%d %s %s" % (status, method, target if conf.log_query else path))
            if kind == "drop":
                rst(self.request)
                return
            no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
            out = ["HTTP/1.1 %d %s" % (status, reason)]
            for k, v in rheaders:
                lk = k.lower()
                if lk in ("connection", "keep-alive", "transfer-encoding"):
                    continue
                if lk == "content-length" and not no_body:
                    continue
                if lk == "location":
                    v = rewrite_location(v)
                out.append("%s: %s" % (k, v))
            if not no_body:
                out.append("Content-Length: %d" % len(data))
            if not keep:
                out.append("Connection: close")
            head = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
            if kind == "truncate":
                if no_body or len(data) < 2:
                    log("faults", "FAULT truncate-as-reset %s %s" % (method, path))
                    rst(self.request)
                    return
                log("faults", "FAULT truncate %s %s" % (method, path))
                try:
                    self.wf.write(head + data[: len(data) // 2])
                    self.request.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            try:
                self.wf.write(head + (b"" if no_body else data))
            except OSError:
                return
            if not keep:
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser(description="fault-injecting HTTP/1.1 proxy for tests")
    ap.add_argument("--upstream", required=True, help="127.0.0.1:PORT of the registry")
    ap.add_argument("--port", type=int, default=0, help="port to listen on (0: any)")
    ap.add_argument("--port-file", help="write the port listened on here")
    ap.add_argument("--rate", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kinds", default=",".join(ALL_KINDS))
    ap.add_argument("--match", help="only requests whose 'METHOD target' matches")
    ap.add_argument("--max-faults-per-request", type=int,
                    help="fault one request (method and path) this many times at most")
    ap.add_argument("--log", help="fault log")
    ap.add_argument("--access-log", help="one line per request")
    ap.add_argument("--log-query", action="store_true",
                    help="the access log shows each request's query string too")
    ap.add_argument("--max-seconds", type=float, default=300)
    o = ap.parse_args()

    host, _, port = o.upstream.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        sys.exit("fault_proxy: upstream must be on 127.0.0.1")
    conf.up_host, conf.up_port = "127.0.0.1", int(port)
    conf.upstream = "127.0.0.1:%d" % conf.up_port
    conf.upstream_names = [conf.upstream, "localhost:%d" % conf.up_port]
    conf.rate = o.rate
    conf.seed = o.seed
    conf.kinds = [k for k in o.kinds.split(",") if k]
    for k in conf.kinds:
        if k not in ALL_KINDS:
            sys.exit("fault_proxy: unknown kind %r (known: %s)" % (k, ", ".join(ALL_KINDS)))
    conf.match = re.compile(o.match) if o.match else None
    conf.max_faults = o.max_faults_per_request
    conf.log_query = o.log_query
    conf.start = time.time()
    conf.deadline = conf.start + o.max_seconds
    if o.log:
        log_files["faults"] = open(o.log, "a")
    if o.access_log:
        log_files["access"] = open(o.access_log, "a")

    srv = Server(("127.0.0.1", o.port), Handler)
    conf.self_name = "127.0.0.1:%d" % srv.server_address[1]
    if o.port_file:
        tmp = o.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, o.port_file)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    while time.time() < conf.deadline and t.is_alive():
        time.sleep(min(0.5, max(0.0, conf.deadline - time.time())))
    srv.shutdown()
    srv.server_close()
    for f in log_files.values():
        f.close()
    os._exit(0)


if __name__ == "__main__":
    main()
