#!/usr/bin/env python3
"""token_server.py - a Docker registry token server for the integration tests.

token_server.py PORT DIR SERVICE ISSUER LOG [--user U --password P]
                [--expires-in N] [--expired-first N]

Writes DIR/cert.pem (the registry's rootcertbundle) and serves, on 127.0.0.1:PORT,
GET /token?service=S&scope=... with RS256 JWTs that carry the certificate in x5c
and grant what each scope asks.  With --user, Basic credentials are required.
Each request's scopes (space-joined, "-" for none) are appended to LOG, one line
per request.  --expires-in sets the answer's expires_in (default 300); the first
--expired-first tokens are already expired (exp an hour ago, beyond the
registry's 60 s leeway) while claiming expires_in.
"""
import argparse, base64, datetime, http.server, json, os, time, urllib.parse, uuid
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

ap = argparse.ArgumentParser()
for a in ("port", "dir", "service", "issuer", "log"):
    ap.add_argument(a)
ap.add_argument("--user")
ap.add_argument("--password")
ap.add_argument("--expires-in", type=int, default=300)
ap.add_argument("--expired-first", type=int, default=0)
o = ap.parse_args()

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "token-issuer")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
with open(os.path.join(o.dir, "cert.pem"), "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM))
x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
issued = 0


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, code, body, extra=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        global issued
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path != "/token":
            return self.answer(404, {"error": "not found"})
        if o.user is not None:
            want = "Basic " + base64.b64encode(("%s:%s" % (o.user, o.password)).encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                                   [("WWW-Authenticate", 'Basic realm="token"')])
        scopes = q.get("scope", [])
        with open(o.log, "a") as f:
            f.write((" ".join(scopes) or "-") + "\n")
        access = []
        for s in scopes:
            parts = s.split(":")
            if len(parts) >= 3:
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]), "actions": parts[-1].split(",")})
        t = int(time.time())
        issued += 1
        exp = t - 3600 if issued <= o.expired_first else t + o.expires_in
        claims = {"iss": o.issuer, "sub": o.user or "anonymous", "aud": q.get("service", [""])[0],
                  "exp": exp, "nbf": t - 7200, "iat": t - 7200, "jti": uuid.uuid4().hex, "access": access}
        head = {"typ": "JWT", "alg": "RS256", "x5c": [x5c]}
        signing = b64(json.dumps(head).encode()) + "." + b64(json.dumps(claims).encode())
        sig = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        tok = signing + "." + b64(sig)
        self.answer(200, {"token": tok, "access_token": tok, "expires_in": o.expires_in,
                          "issued_at": datetime.datetime.now(datetime.timezone.utc).isoformat()})


http.server.ThreadingHTTPServer(("127.0.0.1", int(o.port)), H).serve_forever()
