"""keywardd as root and keyward-web as an unprivileged user, for e2e tests.

Python 3 standard library only; needs root. Used by
tests/e2e/selfservice_sshd_test.py, tests/e2e/daemon_attacks_test.py and
bench/socket_bench.py.

``Stack(web_user, **settings)`` (a context manager) writes, in a fresh
root-owned folder made by the sshd harness (``.dir``):

  - ``notifier.sh``, a root-owned script installed by
    ``sshd_harness.install_root_owned_script``: the "command" channel of
    codes and alerts. keywardd runs it as root with the recipient as its
    last argument and the message on standard input; it appends one block
    ``=== to: RECIPIENT`` / message / ``=== end`` to ``messages.log``.
  - ``keyward.conf`` (root, 0600): accounts from passwd, store ``%h/.ssh``,
    authorized_keys ``%h/.ssh/authorized_keys``, socket ``run/keywardd.sock``
    (keywardd creates ``run/`` for web_user, 0700), web_user, admin_user
    root, audit log ``log/audit.log``, state ``state/``, the CA folder
    ``ca/`` and KRL ``keyward.krl`` (neither made: ``keyward ca init`` and
    ``keyward krl build --config keyward.conf`` make them; nothing under
    /var/lib or /etc/ssh is ever looked at), no roles, and generous rate
    limits (tests log in often); ``settings`` override any of it.

then starts ``keywardd --config keyward.conf`` as root (standard output and
error in ``keywardd.log``) and, unless ``web=False``, ``keyward-web --config
keyward.conf --listen 127.0.0.1:0 --user WEB_USER`` started as root and
dropping to WEB_USER after binding (``web.log``). Both die with the test
process (PR_SET_PDEATHSIG) and are stopped (SIGTERM, then SIGKILL) when the
block ends. KWT_KEYWARDD_WRAP, when set, is a command line put in front of
keywardd's, e.g. to run it with packaging/keywardd.service's capabilities:
``setpriv --bounding-set -all,+setuid,+setgid,+chown,+kill --no-new-privs``;
KWT_RUNTIME_DIRECTORY=1 makes the socket's folder beforehand (root, 0755)
as that unit's RuntimeDirectory= does, instead of letting keywardd make it.

Attributes: ``dir conf_path socket_path audit_log messages_path ca_dir
krl_path web_port keywardd web``. Methods: ``messages()`` -> [(to, body)], ``message_count()``,
``code_for(account, since)`` (waits for the first code to ``account`` among
the messages after index ``since``), ``changes(since=0)``, ``alerts(since=0)``,
``certificate_alerts(since=0)`` (one entry per change, whichever message
carried it), ``keywardd_log()``,
``web_log()``, ``wait_for_log(text)``, ``rss_kib(pid)``.

``Browser(port)``: a cookie jar over http.client with ``get``, ``post``
(form-encoded), ``token(page)`` (the CSRF field), and ``revoke_file_for``.
``Conn(path)``: one newline-delimited JSON connection to keywardd.
"""

import ctypes
import http.client
import json
import os
import pwd
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlencode

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sshd_harness as h  # noqa: E402

BUILD_DIR = os.environ.get("KEYWARD_BUILD_DIR", "")
KEYWARDD = os.path.join(BUILD_DIR, "keywardd")
KEYWARD_WEB = os.path.join(BUILD_DIR, "keyward-web")
KEYWARD = os.environ.get("KEYWARD_BIN") or os.path.join(BUILD_DIR, "keyward")

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent(parent):
    def preexec():
        _libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os._exit(1)
    return preexec


def require_binaries(*names):
    """Exits with a message (status 1) when a binary is not built."""
    paths = {"keywardd": KEYWARDD, "keyward-web": KEYWARD_WEB, "keyward": KEYWARD}
    missing = [paths[n] for n in names if not os.access(paths[n], os.X_OK)]
    if missing:
        print("not built: %s (set KEYWARD_BUILD_DIR)" % ", ".join(missing), file=sys.stderr)
        sys.exit(1)


NOTIFIER = """#!/bin/sh
# keyward e2e notifier: keywardd runs it (no shell, clean environment) with
# the recipient as the last argument and the message on standard input.
msg=$(/bin/cat)
printf '=== sender uid: %%s\\n=== to: %%s\\n%%s\\n=== end\\n' "$(/usr/bin/id -u)" "$1" "$msg" >> '%s'
"""


class Stack:
    def __init__(self, web_user, *, web=True, web_args=(), settings=None, start=True):
        self.web_user = web_user if isinstance(web_user, str) else web_user.name
        self.dir = h.tempdir("kwstack", 0o755)  # root-owned, world-traversable
        self.messages_path = os.path.join(self.dir, "messages.log")
        h.write_file(self.messages_path, "", 0o600)
        # keywardd runs its senders as notify_user (nobody by default): the
        # notifier appends as that user.
        os.chown(self.messages_path, pwd.getpwnam("nobody").pw_uid, -1)
        self.notifier = h.install_root_owned_script(NOTIFIER % self.messages_path, name="notifier.sh")
        self.socket_path = os.path.join(self.dir, "run", "keywardd.sock")
        self.audit_log = os.path.join(self.dir, "log", "audit.log")
        self.conf_path = os.path.join(self.dir, "keyward.conf")
        self.ca_dir = os.path.join(self.dir, "ca")
        self.krl_path = os.path.join(self.dir, "keyward.krl")
        self.config = {
            "admin_user": "root",
            "web_user": self.web_user,
            "socket": self.socket_path,
            "store": "%h/.ssh",
            "authorized_keys": "%h/.ssh/authorized_keys",
            "accounts": {"source": "passwd"},
            "token_ttl": 300,
            "rate_limits": {"logins_per_account_per_hour": 1000, "logins_per_client_per_hour": 10000,
                            "verify_tries": 5, "certificates_per_account_per_hour": 100000},
            "codes": {"channel": "command", "command": [self.notifier]},
            "alerts": {"channel": "command", "command": [self.notifier]},
            "audit_log": self.audit_log,
            "state_dir": os.path.join(self.dir, "state"),
            "ca": {"dir": self.ca_dir, "krl": self.krl_path, "roles": []},
        }
        self.config.update(settings or {})
        self.with_web = web
        self.runtime_directory = os.environ.get("KWT_RUNTIME_DIRECTORY", "") not in ("", "0")
        self.web_args = list(web_args)
        self.keywardd = None
        self.web = None
        self.web_port = None
        if start:
            self.start()

    # ------------------------------------------------------------ processes

    def start(self):
        h.write_file(self.conf_path, json.dumps(self.config, indent=2) + "\n", 0o600)
        if self.runtime_directory:
            # As keywardd.service's RuntimeDirectory= makes it: root's, 0755.
            os.makedirs(os.path.dirname(self.socket_path), 0o755, exist_ok=True)
            os.chmod(os.path.dirname(self.socket_path), 0o755)
        self._kd_log = open(os.path.join(self.dir, "keywardd.log"), "ab")
        wrap = shlex.split(os.environ.get("KWT_KEYWARDD_WRAP", ""))
        self.keywardd = subprocess.Popen(wrap + [KEYWARDD, "--config", self.conf_path], stdin=subprocess.DEVNULL,
                                         stdout=self._kd_log, stderr=subprocess.STDOUT,
                                         preexec_fn=_die_with_parent(os.getpid()))
        deadline = time.time() + 15
        while not self._socket_answers():
            if self.keywardd.poll() is not None or time.time() > deadline:
                raise h.HarnessError("keywardd did not start (status %r):\n%s"
                                     % (self.keywardd.poll(), self.keywardd_log()))
            time.sleep(0.05)
        if self.with_web:
            self.start_web()
        return self

    def _socket_answers(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.socket_path)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def start_web(self):
        self._web_log = open(os.path.join(self.dir, "web.log"), "ab")
        argv = [KEYWARD_WEB, "--config", self.conf_path, "--listen", "127.0.0.1:0",
                "--user", self.web_user] + self.web_args
        self.web = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=self._web_log, preexec_fn=_die_with_parent(os.getpid()))
        line = self.web.stdout.readline().decode(errors="replace")
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.web.kill()
            raise h.HarnessError("keyward-web did not start: %r\n%s" % (line, self.web_log()))
        self.web_port = int(m.group(1))

    def _stop(self, proc, timeout=10):
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def stop(self):
        """Stops keyward-web then keywardd; returns their exit statuses."""
        rw = self._stop(self.web)
        rk = self._stop(self.keywardd)
        for f in ("_kd_log", "_web_log"):
            if getattr(self, f, None):
                getattr(self, f).close()
        if self.web is not None and self.web.stdout:
            self.web.stdout.close()
        return rw, rk

    def restart_keywardd(self):
        self._stop(self.keywardd)
        self._kd_log.close()
        with_web, self.with_web = self.with_web, False
        self.start()
        self.with_web = with_web

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        h.remove_root_owned(self.notifier)

    # ----------------------------------------------------------- reading

    def keywardd_log(self):
        with open(os.path.join(self.dir, "keywardd.log"), errors="replace") as f:
            return f.read()

    def web_log(self):
        try:
            with open(os.path.join(self.dir, "web.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_for_log(self, text, since=0, timeout=5):
        deadline = time.time() + timeout
        while True:
            if text in self.keywardd_log()[since:]:
                return True
            if time.time() > deadline:
                return False
            time.sleep(0.05)

    def messages(self):
        with open(self.messages_path, errors="replace") as f:
            text = f.read()
        return [(m.group(1), m.group(2)) for m in
                re.finditer(r"(?ms)^=== to: (.*?)\n(.*?)\n=== end$", text)]

    def sender_uids(self):
        """The uid each message was sent with (keywardd's notify_user)."""
        with open(self.messages_path, errors="replace") as f:
            return [int(u) for u in re.findall(r"(?m)^=== sender uid: (\d+)$", f.read())]

    def message_count(self):
        return len(self.messages())

    def code_for(self, account, since=0, timeout=5):
        """The code in the first message for `account` after message index `since`."""
        deadline = time.time() + timeout
        while True:
            for to, body in self.messages()[since:]:
                m = re.search(r"keyward code for %s: (\d{6,})" % re.escape(account), body)
                if m:
                    return m.group(1), to
            if time.time() > deadline:
                return None, None
            time.sleep(0.05)

    def changes(self, since=0):
        """(to, block) for every change the administrator was told of, in
        order: keywardd sends changes that come while a message is on its way
        together, one block each, in the next message."""
        out = []
        for to, body in self.messages()[since:]:
            for block in re.split(r"\n(?=keyward: (?:key|certificate) )", body):
                if block.startswith(("keyward: key ", "keyward: certificate ")):
                    out.append((to, block.rstrip("\n") + "\n"))
        return out

    def alerts(self, since=0):
        return [(to, b) for to, b in self.changes(since) if b.startswith("keyward: key ")]

    def certificate_alerts(self, since=0):
        return [(to, b) for to, b in self.changes(since) if b.startswith("keyward: certificate ")]

    def audit_records(self):
        try:
            with open(self.audit_log) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ------------------------------------------------------------------ HTTP

class Browser:
    """Just enough of a browser: a cookie jar, GET and form POSTs."""

    def __init__(self, port, client_headers=None):
        self.port = port
        self.cookies = {}
        self.extra = dict(client_headers or {})

    def request(self, method, path, body=None, headers=None, cookies=True):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        hd = dict(self.extra)
        hd.update(headers or {})
        if cookies and self.cookies:
            hd["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        conn.request(method, path, body=body, headers=hd)
        r = conn.getresponse()
        data = r.read().decode("utf-8", "replace")
        conn.close()
        for value in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            val = rest.split(";", 1)[0]
            if "Max-Age=0" in value or val == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = val
        return r.status, r.headers, data

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, fields, headers=None, **kw):
        hd = {"Content-Type": "application/x-www-form-urlencoded"}
        hd.update(headers or {})
        return self.request("POST", path, body=urlencode(fields), headers=hd, **kw)


def token(page):
    m = re.search(r'name="csrf" value="([0-9a-zA-Z_-]+)"', page)
    return m.group(1) if m else ""


def code_form(page, code):
    """The fields of the code form in `page` (its CSRF token and the name
    of its pending login) with `code` typed in."""
    m = re.search(r'name="login" value="([0-9a-f]*)"', page)
    return {"code": code, "csrf": token(page), "login": m.group(1) if m else ""}


def unescape(text):
    return (text.replace("&#39;", "'").replace("&quot;", '"').replace("&lt;", "<")
            .replace("&gt;", ">").replace("&amp;", "&"))


def revoke_file_for(page, device):
    """The file name in the revoke form of the key named `device`, or None."""
    for form in re.findall(r'<form method="post" action="/revoke">.*?</form>', page, re.S):
        if ("<strong>%s</strong>" % device) in form:
            m = re.search(r'name="file" value="([^"]+)"', form)
            if m:
                return unescape(m.group(1))
    return None


def web_sign_in(stack, user, client_headers=None):
    """Signs `user` in through keyward-web: (browser, keys page or None, why)."""
    b = Browser(stack.web_port, client_headers)
    status, _, page = b.get("/")
    if status != 200:
        return b, None, "GET / gave %d" % status
    since = stack.message_count()
    status, _, page = b.post("/login", {"user": user, "csrf": token(page)})
    if status != 200 or 'action="/verify"' not in page:
        return b, None, "POST /login gave %d without the code form" % status
    code, _ = stack.code_for(user, since)
    if code is None:
        return b, None, "no code reached the notifier for %s" % user
    status, hd, page = b.post("/verify", code_form(page, code))
    if status != 303 or hd.get("Location") != "/keys":
        return b, None, "POST /verify gave %d %r" % (status, hd.get("Location"))
    status, _, page = b.get("/keys")
    if status != 200:
        return b, None, "GET /keys gave %d" % status
    return b, page, ""


# ---------------------------------------------------------------- socket

class Conn:
    """One connection to keywardd: newline-delimited JSON."""

    def __init__(self, path, timeout=30):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send_raw(self, data):
        self.s.sendall(data)

    def read_line(self):
        while b"\n" not in self.buf:
            try:
                data = self.s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return None
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def ask(self, request):
        self.send_raw((json.dumps(request) + "\n").encode())
        return self.read_line()

    def closed(self, timeout=5):
        self.s.settimeout(timeout)
        try:
            while True:
                if not self.s.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


def socket_session(stack, conn, user, client="198.51.100.10"):
    """login + verify as root over the socket: the session token, or None."""
    since = stack.message_count()
    r = conn.ask({"op": "login", "user": user, "client": client})
    if not r or not r.get("ok"):
        return None
    code, _ = stack.code_for(user, since)
    if code is None:
        return None
    v = conn.ask({"op": "verify", "login": r["login"], "code": code, "client": client})
    return v.get("session") if v and v.get("ok") else None
