#!/usr/bin/env python3
"""keyward-web over real HTTP, against keywardd (or a stand-in):

  - the whole flow: sign-in form, code, keys page, a key added by upload and
    by paste (its fingerprint exactly as ssh-keygen -l prints it), errors a
    person can act on shown on the form (a private key, the same key twice,
    a 1024-bit RSA key), a revoke, sign-out;
  - a certificate through the page (real keywardd only): the roles the
    account may have offered, a key uploaded, the certificate page with the
    two commands, the download as <key>-cert.pub (attachment, text/plain)
    that `ssh-keygen -L` reads with the role's principals; errors a person
    can act on (a private key, a validity beyond the role's maximum, a role
    of another account), and without the CSRF token 403 and nothing signed;
  - every POST without its CSRF token, or with a wrong one, gets 403;
  - the headers: Content-Security-Policy, nosniff, Referrer-Policy,
    Cache-Control, cookies HttpOnly and SameSite=Strict;
  - a 10 MiB body gets 413 (or the connection is closed) quickly, and the
    server stays up; so does a chunked body that never ends;
  - a client sending one byte a second is disconnected within seconds;
  - X-Forwarded-For is believed only from a trusted proxy.

keywardd: $KEYWARD_BUILD_DIR/keywardd --demo DIR when it is built, else
tests/e2e/lib/fake_keywardd.py (set KWT_FAKE_KEYWARDD=1 to force the fake).
The X-Forwarded-For checks always use the fake, which records the client
address each request carried.

Environment: KEYWARD_BUILD_DIR (required). Exits non-zero on failure.
"""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import fake_keywardd  # noqa: E402

BUILD = os.environ.get("KEYWARD_BUILD_DIR", "")
WEB = os.path.join(BUILD, "keyward-web")
KEYWARDD = os.path.join(BUILD, "keywardd")
SSH_KEYGEN = shutil.which("ssh-keygen")

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")

failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, file=sys.stderr)
    return cond


# ------------------------------------------------------------------ processes

class Web:
    """keyward-web on a free loopback port."""

    def __init__(self, socket_path, *extra, log_dir=None):
        argv = [WEB, "--listen", "127.0.0.1:0", "--socket", socket_path] + list(extra)
        if os.geteuid() == 0:
            argv.append("--allow-root")  # the demo keywardd serves only its own user
        self.log_path = os.path.join(log_dir or tempfile.gettempdir(), "keyward-web-%s.log" % uuid.uuid4().hex[:8])
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("keyward-web did not start: %r %r" % (line, open(self.log_path).read()))
        self.port = int(m.group(1))

    def alive(self):
        return self.proc.poll() is None

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def stderr(self):
        with open(self.log_path) as f:
            return f.read()


class RealKeywardd:
    """keywardd --demo DIR; codes are read from its console output."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "demo")
        self.out_path = os.path.join(tmp, "keywardd.out")
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen([KEYWARDD, "--demo", self.dir], stdout=self.out, stderr=subprocess.STDOUT)
        self.socket_path = os.path.join(self.dir, "keywardd.sock")
        for _ in range(100):
            if os.path.exists(self.socket_path):
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        if not os.path.exists(self.socket_path):
            self.stop()
            raise RuntimeError("keywardd --demo did not start:\n" + open(self.out_path).read())

    def code_for(self, user, since):
        # The newest message to the user after `since` (an offset in the log).
        for _ in range(50):
            text = open(self.out_path).read()[since:]
            blocks = re.split(r"(?m)^keyward message to ", text)
            for block in reversed(blocks):
                if block.startswith(user) or ("<" + user) in block.split("\n", 1)[0]:
                    m = re.search(r"\b(\d{6,10})\b", block.split("\n", 1)[1] if "\n" in block else "")
                    if m:
                        return m.group(1)
            time.sleep(0.1)
        return None

    def log_size(self):
        return os.path.getsize(self.out_path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.out.close()


class FakeDaemon:
    def __init__(self, tmp, name="fake.sock"):
        self.socket_path = os.path.join(tmp, name)
        self.fake = fake_keywardd.FakeKeywardd(self.socket_path)
        self.fake.start()

    def code_for(self, user, since):
        return self.fake.code_for(user)

    def log_size(self):
        return 0

    def stop(self):
        self.fake.stop()


# ----------------------------------------------------------------------- HTTP

class Browser:
    """Just enough of a browser: a cookie jar and form posts."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None, headers=None, cookies=True):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        h = dict(headers or {})
        if cookies and self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read().decode("utf-8", "replace")
        conn.close()
        for value in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            val = rest.split(";", 1)[0]
            if "Max-Age=0" in value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = val
        return r.status, r.headers, data

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, fields, headers=None, **kw):
        from urllib.parse import urlencode
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(headers or {})
        return self.request("POST", path, body=urlencode(fields), headers=h, **kw)

    def post_multipart(self, path, fields, files):
        boundary = "kwt" + uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                          % (boundary, name, value)).encode())
        for name, (filename, content) in files.items():
            parts.append(('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
                          'Content-Type: application/octet-stream\r\n\r\n' % (boundary, name, filename)).encode()
                         + content + b"\r\n")
        body = b"".join(parts) + ("--%s--\r\n" % boundary).encode()
        return self.request("POST", path, body=body,
                            headers={"Content-Type": "multipart/form-data; boundary=" + boundary})


def token(page):
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    return m.group(1) if m else ""


def code_form(page, code):
    m = re.search(r'name="login" value="([0-9a-f]*)"', page)
    return {"code": code, "csrf": token(page), "login": m.group(1) if m else ""}


def revoke_file_for(page, device):
    for form in re.findall(r'<form method="post" action="/revoke">.*?</form>', page, re.S):
        if ("<strong>%s</strong>" % device) in form:
            m = re.search(r'name="file" value="([^"]+)"', form)
            if m:
                return m.group(1).replace("&#39;", "'").replace("&amp;", "&").replace("&quot;", '"')
    return None


def make_key(tmp, name, *args):
    path = os.path.join(tmp, name)
    subprocess.run([SSH_KEYGEN, "-q", "-N", "", "-C", name + "@web-test", "-f", path] + list(args),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(path + ".pub", "rb") as f:
        pub = f.read()
    with open(path, "rb") as f:
        priv = f.read()
    fp = subprocess.run([SSH_KEYGEN, "-l", "-f", path + ".pub"], check=True, capture_output=True,
                        text=True).stdout.split()[1]
    return pub, priv, fp


# ---------------------------------------------------------------------- tests

def test_headers(port):
    b = Browser(port)
    status, h, page = b.get("/")
    check(status == 200, "GET / status %d" % status)
    check(h.get("Content-Security-Policy") == CSP, "CSP is %r" % h.get("Content-Security-Policy"))
    check(h.get("X-Content-Type-Options") == "nosniff", "no nosniff")
    check(h.get("Referrer-Policy") == "no-referrer", "Referrer-Policy %r" % h.get("Referrer-Policy"))
    check(h.get("Cache-Control") == "no-store", "login page Cache-Control %r" % h.get("Cache-Control"))
    check(h.get("X-Frame-Options") == "DENY", "X-Frame-Options %r" % h.get("X-Frame-Options"))
    check(h.get("Content-Type", "").startswith("text/html"), "Content-Type %r" % h.get("Content-Type"))
    cookies = h.get_all("Set-Cookie") or []
    check(len(cookies) == 1 and "HttpOnly" in cookies[0] and "SameSite=Strict" in cookies[0]
          and "Path=/" in cookies[0], "login page cookie %r" % cookies)
    check(token(page) != "", "no CSRF token in the login form")
    check('<label for="user">' in page and "<h1>" in page, "login form has no label or heading")
    check("<script" not in page and "http://" not in page.replace('href="/', ""),
          "the page loads scripts or external assets")
    # Compression is off whatever the client accepts (BREACH).
    _, h2, _ = b.get("/", headers={"Accept-Encoding": "gzip, deflate, br"})
    check(h2.get("Content-Encoding") is None, "response compressed: %r" % h2.get("Content-Encoding"))

    status, h, css = b.get("/style.css")
    check(status == 200 and "max-age=31536000" in (h.get("Cache-Control") or ""),
          "style.css %d, Cache-Control %r" % (status, h.get("Cache-Control")))
    check(h.get("Content-Type", "").startswith("text/css"), "style.css type %r" % h.get("Content-Type"))
    check(":focus" in css, "style.css has no focus style")
    status, _, body = b.get("/healthz")
    check(status == 200 and body == "ok", "healthz %d %r" % (status, body))
    status, h, body = b.get("/no-such-page")
    check(status == 404 and h.get("Content-Security-Policy") == CSP, "404 page %d or no CSP" % status)


def test_csrf(port):
    b = Browser(port)
    _, _, page = b.get("/")
    good = token(page)
    for name, fields, use_cookies in (
            ("no token", {"user": "alice"}, True),
            ("empty token", {"user": "alice", "csrf": ""}, True),
            ("wrong token", {"user": "alice", "csrf": "0" * 64}, True),
            ("right token, no cookie", {"user": "alice", "csrf": good}, False)):
        status, _, body = b.post("/login", fields, cookies=use_cookies)
        check(status == 403, "POST /login with %s: status %d, want 403" % (name, status))
        check("This form has expired" in body, "403 page for %s has no explanation" % name)
    for path in ("/verify", "/add", "/revoke", "/logout", "/cert", "/cert/download"):
        status, _, _ = b.post(path, {"csrf": "f" * 64})
        check(status in (303, 403), "POST %s with a wrong token: %d" % (path, status))
    # A session with a token from elsewhere: 403, nothing changes.
    status, _, _ = b.post("/add", {"csrf": "f" * 64, "key": "x"}, cookies=False,
                          headers={"Cookie": "kw_session=" + "a" * 64})
    check(status == 403, "POST /add with a session cookie and a wrong token: %d" % status)


def sign_in(port, daemon, user):
    b = Browser(port)
    _, _, page = b.get("/")
    since = daemon.log_size()
    status, _, page = b.post("/login", {"user": user, "csrf": token(page)})
    check(status == 200 and 'action="/verify"' in page, "POST /login: %d, no code form" % status)
    check("kw_login" in b.cookies, "no login cookie after POST /login")
    code = daemon.code_for(user, since)
    if not check(code is not None, "no code for %s from keywardd" % user):
        return b, None
    status, h, page = b.post("/verify", code_form(page, code))
    check(status == 303 and h.get("Location") == "/keys", "POST /verify: %d %r" % (status, h.get("Location")))
    session_cookie = [c for c in (h.get_all("Set-Cookie") or []) if c.startswith("kw_session=")]
    check(len(session_cookie) == 1 and "HttpOnly" in session_cookie[0] and "SameSite=Strict" in session_cookie[0]
          and "Path=/" in session_cookie[0], "session cookie %r" % session_cookie)
    check(all(code not in c for c in (h.get_all("Set-Cookie") or [])), "the code is in a cookie")
    check("kw_login" not in b.cookies, "the login cookie was not cleared")
    status, h, page = b.get("/keys")
    check(status == 200, "GET /keys: %d" % status)
    check(h.get("Cache-Control") == "no-store", "keys page Cache-Control %r" % h.get("Cache-Control"))
    return b, page


def test_flow(port, daemon, tmp):
    b = Browser(port)
    _, _, page = b.get("/")
    status, _, page2 = b.post("/login", {"user": "alice", "csrf": token(page)})
    status, _, page3 = b.post("/verify", code_form(page2, "000000"))
    check(status in (422, 429) and 'action="/verify"' in page3, "a wrong code: %d, not the code form" % status)

    b, page = sign_in(port, daemon, "alice")
    if page is None:
        return
    check("SSH keys of alice" in page, "keys page does not name the account")

    pub, priv, fp = make_key(tmp, "laptop", "-t", "ed25519")
    status, h, page = b.post_multipart("/add", {"csrf": token(page), "key": "", "device": "laptop",
                                                "owner": "alice@example.org", "days": ""},
                                       {"keyfile": ("laptop.pub", pub)})
    check(status == 303 and h.get("Location") == "/keys?notice=added",
          "upload a key: %d %r %s" % (status, h.get("Location"), page[:300]))
    status, _, page = b.get("/keys?notice=added")
    check("The key was added" in page, "no notice after adding")
    check(fp in page, "fingerprint %s (ssh-keygen -l) not on the keys page" % fp)
    check(">laptop<" in page and "alice@example.org" in page and "ssh-ed25519" in page and ">256<" in page,
          "the new key's row is incomplete")

    pub2, _, fp2 = make_key(tmp, "phone", "-t", "ecdsa", "-b", "256")
    status, h, page = b.post("/add", {"csrf": token(page), "key": pub2.decode(), "device": "phone",
                                      "owner": "alice@example.org", "days": "30"})
    check(status == 303, "paste a key: %d %s" % (status, page[:300]))
    _, _, page = b.get("/keys")
    check(fp2 in page, "pasted key's fingerprint %s not listed" % fp2)

    # Errors a person can act on, on the form, with the input kept.
    status, _, page = b.post("/add", {"csrf": token(page), "key": pub.decode(), "device": "laptop2",
                                      "owner": "alice@example.org"})
    check(status == 422 and "already" in page.lower(), "the same key twice: %d" % status)
    check('value="laptop2"' in page, "device name not kept after an error")
    check(pub.decode().split()[1] in page, "pasted key not kept after an error")

    status, _, page = b.post_multipart("/add", {"csrf": token(page), "key": "", "device": "laptop3",
                                                "owner": "alice@example.org"},
                                       {"keyfile": ("id_ed25519", priv)})
    body_b64 = priv.decode().splitlines()[1]
    check(status == 422 and "private key" in page.lower(), "a private key: %d" % status)
    check(body_b64 not in page, "the private key was echoed back into the page")

    weak, _, _ = make_key(tmp, "weak", "-t", "rsa", "-b", "1024")
    status, _, page = b.post("/add", {"csrf": token(page), "key": weak.decode(), "device": "old",
                                      "owner": "alice@example.org"})
    check(status == 422 and "2048" in page, "a 1024-bit RSA key: %d" % status)

    # Revoke the laptop key.
    _, _, page = b.get("/keys")
    file = revoke_file_for(page, "laptop")
    if check(file is not None, "no revoke form for the laptop key"):
        status, h, _ = b.post("/revoke", {"csrf": "0" * 64, "file": file})
        check(status == 403, "revoke with a wrong token: %d" % status)
        status, h, _ = b.post("/revoke", {"csrf": token(page), "file": file})
        check(status == 303 and h.get("Location") == "/keys?notice=revoked", "revoke: %d" % status)
        _, _, page = b.get("/keys")
        check("Revoked" in page and revoke_file_for(page, "laptop") is None, "the laptop key is not revoked")

    # Another account's session cannot act on alice's keys.
    bob, bob_page = sign_in(port, daemon, "bob")
    if bob_page is not None:
        check(fp2 not in bob_page, "bob sees alice's keys")
        phone = revoke_file_for(page, "phone")
        status, _, _ = bob.post("/revoke", {"csrf": token(bob_page), "file": phone or "x"})
        _, _, page = b.get("/keys")
        check(revoke_file_for(page, "phone") is not None, "bob revoked alice's key (status %d)" % status)

    status, h, _ = b.post("/logout", {"csrf": token(page)})
    check(status == 303 and "kw_session" not in b.cookies, "logout: %d, cookie %r" % (status, b.cookies))
    status, h, _ = b.get("/keys", headers={"Cookie": "kw_session=" + "0" * 64}, cookies=False)
    check(status == 303, "keys page with a dead session: %d" % status)


def issued_count(daemon):
    try:
        with open(os.path.join(daemon.dir, "ca", "issued.log")) as f:
            return sum(1 for line in f if line.strip())
    except FileNotFoundError:
        return 0


def field_value(page, name):
    m = re.search(r'name="%s" value="([^"]*)"' % name, page)
    return m.group(1) if m else None


def textarea(page, ident):
    m = re.search(r'<textarea id="%s"[^>]*>([^<]*)</textarea>' % ident, page)
    return m.group(1).replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&") if m else None


def test_certificate(port, daemon, tmp):
    b, page = sign_in(port, daemon, "alice")
    if page is None:
        return
    check("Get a certificate" in page, "the keys page has no certificate section")
    check('value="login"' in page and 'value="deploy"' in page, "alice is not offered login and deploy")
    check("Runs only /usr/local/bin/deploy" in page, "the deploy role does not say what it runs")

    pub, priv, fp = make_key(tmp, "certlaptop", "-t", "ed25519")
    before = issued_count(daemon)
    # Without a token, or with a wrong one: 403, nothing signed.
    for fields in ({"role": "login", "certkey": pub.decode()},
                   {"role": "login", "certkey": pub.decode(), "csrf": "0" * 64}):
        status, _, _ = b.post_multipart("/cert", fields, {})
        check(status == 403, "POST /cert without a good CSRF token: %d" % status)
    check(issued_count(daemon) == before, "a certificate was signed without a CSRF token")

    status, h, page = b.post_multipart("/cert", {"csrf": token(page), "role": "login", "certkey": "", "validity": ""},
                                       {"certkeyfile": ("certlaptop.pub", pub)})
    if not check(status == 200 and "<h1>Your certificate</h1>" in page, "POST /cert: %d %s" % (status, page[:300])):
        return
    check(h.get("Cache-Control") == "no-store", "the certificate page may be cached: %r" % h.get("Cache-Control"))
    check(issued_count(daemon) == before + 1, "issued.log did not get one line")
    check("ssh alice@HOST" in page, "the page does not show how to log in")
    check("ssh-keygen -L -f ~/.ssh/certlaptop-cert.pub" in page, "the page does not show how to inspect it")
    check("~/.ssh/certlaptop-cert.pub" in page and "~/.ssh/certlaptop</code>" in page,
          "the page does not say where to save it")
    check(fp in page, "the page does not name the key's fingerprint")
    cert = textarea(page, "certificate")
    name = field_value(page, "name")
    check(cert is not None and cert.startswith("ssh-ed25519-cert-v01@openssh.com "), "no certificate on the page")
    check(name == "certlaptop", "the download is not named after the uploaded file: %r" % name)

    status, h, body = b.post("/cert/download", {"csrf": token(page), "name": name or "", "certificate": cert or ""})
    check(status == 200, "POST /cert/download: %d" % status)
    check(h.get("Content-Disposition") == 'attachment; filename="certlaptop-cert.pub"',
          "Content-Disposition %r" % h.get("Content-Disposition"))
    check((h.get("Content-Type") or "").startswith("text/plain"), "Content-Type %r" % h.get("Content-Type"))
    check(body == (cert or "") + "\n", "the download is not the certificate")
    path = os.path.join(tmp, "certlaptop-cert.pub")
    with open(path, "w") as f:
        f.write(body)
    p = subprocess.run([SSH_KEYGEN, "-L", "-f", path], capture_output=True, text=True)
    check(p.returncode == 0, "ssh-keygen -L cannot read the download: %s" % p.stderr)
    out = p.stdout
    check("Type: ssh-ed25519-cert-v01@openssh.com user certificate" in out, "not a user certificate:\n" + out)
    check(re.search(r"Principals: \n\s+alice\n", out) is not None, "principals are not [alice]:\n" + out)
    check(re.search(r'Key ID: "keyward:alice:login:\d+"', out) is not None, "key id:\n" + out)
    check("permit-pty" in out and "Critical Options: (none)" in out, "the login role's options:\n" + out)
    status, _, _ = b.post("/cert/download", {"name": "x", "certificate": cert or ""})
    check(status == 403, "a download without a CSRF token: %d" % status)

    # Errors a person can act on, nothing signed.
    _, _, page = b.get("/keys")
    before = issued_count(daemon)
    status, _, err = b.post_multipart("/cert", {"csrf": token(page), "role": "login", "certkey": priv.decode()}, {})
    check(status == 422 and "private key" in err.lower() and ".pub" in err, "a private key: %d" % status)
    check(priv.decode().splitlines()[1] not in err, "the private key was echoed back into the page")
    status, _, err = b.post_multipart("/cert", {"csrf": token(page), "role": "deploy", "certkey": pub.decode(),
                                                "validity": "+1d"}, {})
    check(status == 422 and "at most 1 hour" in err and 'value="+1d"' in err, "validity beyond the role's: %d" % status)
    status, _, err = b.post_multipart("/cert", {"csrf": token(page), "role": "login", "certkey": cert or ""}, {})
    check(status == 422 and "certificate, not a key" in err, "a certificate to sign: %d" % status)
    check(issued_count(daemon) == before, "something was signed for a refused request")

    bob, bob_page = sign_in(port, daemon, "bob")
    if bob_page is not None:
        check('value="login"' in bob_page and 'value="deploy"' not in bob_page, "bob is offered alice's deploy role")
        status, _, err = bob.post_multipart("/cert", {"csrf": token(bob_page), "role": "deploy",
                                                      "certkey": pub.decode()}, {})
        check(status == 422 and "may not ask for the role deploy" in err, "bob asks for deploy: %d" % status)
        check(issued_count(daemon) == before, "bob got alice's role")


def test_big_bodies(web):
    t0 = time.time()
    outcome = "?"
    try:
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=20)
        conn.request("POST", "/login", body=b"u" * (10 * 1024 * 1024),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        outcome = r.status
        r.read()
        conn.close()
    except (ConnectionError, BrokenPipeError, http.client.HTTPException, socket.timeout) as e:
        outcome = type(e).__name__
    took = time.time() - t0
    check(outcome == 413 or outcome in ("ConnectionResetError", "BrokenPipeError", "RemoteDisconnected"),
          "a 10 MiB body: %r, want 413 or a closed connection" % outcome)
    check(took < 10, "a 10 MiB body took %.1f s" % took)

    # With Expect: 100-continue the 413 comes before the body is sent.
    s = socket.create_connection(("127.0.0.1", web.port), timeout=10)
    s.sendall(b"POST /add HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n"
              b"Content-Type: multipart/form-data; boundary=x\r\nExpect: 100-continue\r\n\r\n")
    reply = s.recv(4096)
    s.close()
    check(reply.startswith(b"HTTP/1.1 413"), "Expect: 100-continue with 10 MiB: %r" % reply[:40])

    # A chunked body that never ends is cut off after the body limit.
    s = socket.create_connection(("127.0.0.1", web.port), timeout=10)
    s.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
              b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
    closed = False
    t0 = time.time()
    try:
        chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
        for _ in range(160):  # 10 MiB
            s.sendall(chunk)
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    if not closed:
        try:
            s.settimeout(5)
            closed = s.recv(4096) is not None
        except (ConnectionResetError, socket.timeout):
            closed = True
    s.close()
    check(closed and time.time() - t0 < 10, "an endless chunked body was not cut off")

    b = Browser(web.port)
    status, _, body = b.get("/healthz")
    check(web.alive() and status == 200 and body == "ok", "the server is not up after big bodies")


def test_slow_client(web):
    """One byte a second: cut off after the request deadline (5 s)."""
    for name, head, trickle in (
            ("headers", b"", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 60),
            ("body", b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n\r\n", b"u" * 60)):
        s = socket.create_connection(("127.0.0.1", web.port), timeout=30)
        if head:
            s.sendall(head)
        t0 = time.time()
        cut = None
        for i in range(len(trickle)):
            try:
                s.sendall(trickle[i:i + 1])
                s.settimeout(1.0)
                try:
                    data = s.recv(4096)
                    if data == b"" or data.startswith(b"HTTP/1.1 4"):
                        cut = time.time() - t0
                        break
                except socket.timeout:
                    pass
            except (BrokenPipeError, ConnectionResetError):
                cut = time.time() - t0
                break
            if time.time() - t0 > 30:
                break
        s.close()
        check(cut is not None and cut < 9, "a slow client (one byte a second, %s) was cut off after %r s"
              % (name, cut))
    status, _, _ = Browser(web.port).get("/healthz")
    check(status == 200, "the server is not up after slow clients")


def test_forwarded_for(tmp):
    fake = FakeDaemon(tmp, "xff.sock")
    trusting = Web(fake.socket_path, "--trusted-proxy", "127.0.0.1", log_dir=tmp)
    plain = Web(fake.socket_path, log_dir=tmp)
    try:
        for web, xff, want in ((trusting, "6.6.6.6, 198.51.100.7", "198.51.100.7"),
                               (trusting, "198.51.100.7, 127.0.0.1", "198.51.100.7"),
                               (trusting, None, "127.0.0.1"),
                               (trusting, "not-an-address", "127.0.0.1"),
                               (plain, "198.51.100.7", "127.0.0.1")):
            b = Browser(web.port)
            _, _, page = b.get("/")
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if xff:
                headers["X-Forwarded-For"] = xff
            from urllib.parse import urlencode
            before = len(fake.fake.clients("login"))
            b.request("POST", "/login", body=urlencode({"user": "alice", "csrf": token(page)}), headers=headers)
            got = fake.fake.clients("login")[before:]
            check(got == [want], "X-Forwarded-For %r via %s: keywardd got client %r, want %r"
                  % (xff, "trusted proxy" if web is trusting else "untrusted peer", got, want))
    finally:
        trusting.stop()
        plain.stop()
        fake.stop()


def main():
    if not os.path.exists(WEB):
        print("SKIP: %s is not built" % WEB)
        return 0
    tmp = tempfile.mkdtemp(prefix="kwt-web-")
    os.chmod(tmp, 0o755)
    use_real = os.path.exists(KEYWARDD) and os.environ.get("KWT_FAKE_KEYWARDD") != "1"
    daemon = None
    web = None
    try:
        daemon = RealKeywardd(tmp) if use_real else FakeDaemon(tmp)
        print("keywardd: %s" % ("real (--demo)" if use_real else "fake (tests/e2e/lib/fake_keywardd.py)"))
        web = Web(daemon.socket_path, "--max-key-days", "90", log_dir=tmp)
        test_headers(web.port)
        test_csrf(web.port)
        if SSH_KEYGEN:
            test_flow(web.port, daemon, tmp)
            if use_real:
                test_certificate(web.port, daemon, tmp)
        else:
            print("note: no ssh-keygen; the key flow is skipped")
        rss_before = web.rss_kib()
        test_big_bodies(web)
        test_slow_client(web)
        rss_after = web.rss_kib()
        check(rss_after < rss_before + 32 * 1024, "memory grew from %d to %d KiB" % (rss_before, rss_after))
        test_forwarded_for(tmp)
        check(web.alive(), "keyward-web died")
        rc = web.stop()
        check(rc == 0, "keyward-web exited with %r on SIGTERM" % rc)
        if failures:
            print("keyward-web's standard error:\n" + web.stderr(), file=sys.stderr)
    finally:
        if web:
            web.stop()
        if daemon:
            daemon.stop()
        if not os.environ.get("KWT_E2E_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d of %d checks failed" % (len(failures), checks), file=sys.stderr)
        return 1
    print("ok: %d checks" % checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
