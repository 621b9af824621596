#!/usr/bin/env python3
"""keywardd over its socket, end to end, with attacks.

Starts `keywardd --demo DIR` in a temporary folder as the current user
(directory accounts alice and bob, codes on keywardd's standard output) and
drives docs/protocol.md over the Unix socket:

  - the flow: login, verify with the code read from keywardd's output,
    list_keys, add_key (a real ssh-keygen key), revoke_key, logout;
  - login replies alike for alice, an unknown user and hostile names;
  - guessing codes: the 6th try is refused even with the right code;
  - reusing a code; an expired/used login handle;
  - a TOTP account logs in with its app's code, once per step, and a
    secret file of the wrong mode is ignored;
  - a session of alice used against bob's keys (requests name no account:
    a request naming one is malformed, and bob's key files are out of
    alice's reach);
  - malformed, oversized and unknown requests close only their connection
    (another open connection keeps being served), a 10 MiB line included;
  - 64 connections are served at once, the 65th is closed;
  - a peer uid other than root and web_user (when run as root: a client
    under `setpriv --reuid 65534`) is dropped without a reply;
  - no code and no token ever reaches keywardd's log (standard error);
  - certificates: list_roles offers each account its roles; sign_cert
    returns a certificate that `ssh-keygen -L` reads with the role's
    principals, options and validity, signed by the demo's CA, with a serial
    that increases and a line in issued.log; every bad input (unknown role,
    another account's role, a private key, a certificate, options, two keys,
    a validity beyond the role's maximum or unreadable, a request naming an
    account) gets its code and leaves issued.log as it was; without a CA
    (user_ca moved away) no_ca, and the CA is used again once it is back,
    without a restart; the CA key never reaches a log;
  - a published KRL (`keyward krl build`) gets every key revoke_key revokes:
    `ssh-keygen -Q` says REVOKED once keywardd has rebuilt it, and the key
    is in the CA's revocation list; several revokes in a row end in a KRL
    that has them all;
  - keywardd refuses a bad configuration at start (exit 2, naming the
    setting, never echoing twilio_token), refuses a second instance on a
    live socket, replaces a stale one, and stops cleanly on SIGTERM.

Environment: KEYWARD_BUILD_DIR (keywardd is $KEYWARD_BUILD_DIR/keywardd).
Exits non-zero on failure.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

BUILD_DIR = os.environ.get("KEYWARD_BUILD_DIR", "")
KEYWARDD = os.path.join(BUILD_DIR, "keywardd")
KEYWARD = os.environ.get("KEYWARD_BIN") or os.path.join(BUILD_DIR, "keyward")
SSH_KEYGEN = shutil.which("ssh-keygen")

failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, file=sys.stderr)
    return cond


class Daemon:
    """keywardd --demo DIR, its standard output and error collected."""

    def __init__(self, demo_dir, args=None):
        self.dir = demo_dir
        self.sock = os.path.join(demo_dir, "keywardd.sock")
        argv = [KEYWARDD] + (args if args is not None else ["--demo", demo_dir])
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = []
        self.err = []
        self.lock = threading.Lock()
        self.readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True)]
        for r in self.readers:
            r.start()

    def _read(self, stream, into):
        for line in iter(stream.readline, b""):
            with self.lock:
                into.append(line.decode("utf-8", "replace"))

    def wait_ready(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.sock)
                s.close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def stdout(self):
        with self.lock:
            return "".join(self.out)

    def stderr(self):
        with self.lock:
            return "".join(self.err)

    def code_for(self, account, previous=None, timeout=5):
        """The newest code sent to `account` that is not `previous`."""
        deadline = time.time() + timeout
        while True:
            codes = re.findall(r"code for %s: (\d{6,})" % re.escape(account), self.stdout())
            if codes and codes[-1] != previous:
                return codes[-1]
            if time.time() >= deadline:
                return None
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        for r in self.readers:
            r.join(timeout=5)
        return rc


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(15)
        self.s.connect(path)
        self.buf = b""

    def send_raw(self, data):
        self.s.sendall(data)

    def read_line(self):
        """The next reply line, or None when keywardd closed the connection."""
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

    def closed(self):
        """True when keywardd has closed its end (after any pending reply)."""
        try:
            while True:
                data = self.s.recv(65536)
                if not data:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


def make_key(tmp, name):
    path = os.path.join(tmp, name)
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path], check=True)
    with open(path + ".pub") as f:
        return f.read()


def login(d, conn, user, client):
    previous = d.code_for(user, timeout=0)
    r = conn.ask({"op": "login", "user": user, "client": client})
    code = d.code_for(user, previous)
    return r, code


def session_for(d, conn, user, client):
    r, code = login(d, conn, user, client)
    if not check(r and r.get("ok") and code, "login of %s gave a handle and a code: %r" % (user, r)):
        return None
    v = conn.ask({"op": "verify", "login": r["login"], "code": code, "client": client})
    if not check(v and v.get("ok") and v.get("account") == user, "verify for %s: %r" % (user, v)):
        return None
    check(re.fullmatch(r"[0-9a-f]{64}", v["session"]) is not None, "a session is 64 hex digits")
    check(v.get("expires_in") == 600, "expires_in is session_idle: %r" % v)
    return v["session"]


def test_flow(d, tmp):
    c = Conn(d.sock)
    session = session_for(d, c, "alice", "198.51.100.1")
    if session is None:
        return
    r = c.ask({"op": "list_keys", "session": session})
    check(r == {"ok": True, "account": "alice", "keys": [], "max_key_days": 0}, "alice starts with no keys: %r" % r)

    key = make_key(tmp, "alice-laptop")
    r = c.ask({"op": "add_key", "session": session, "key": key, "owner": "alice@example.org",
               "device": "laptop", "days": 30, "client": "198.51.100.1"})
    if not check(r.get("ok") is True, "add_key: %r" % r):
        return
    file = r["file"]
    check(re.fullmatch(r"alice@example\.org\+laptop\+\d{8}\+01\.pub", file) is not None, "file name: " + file)
    fp = subprocess.run([SSH_KEYGEN, "-l", "-f", os.path.join(tmp, "alice-laptop.pub")], capture_output=True,
                        text=True).stdout.split()[1]
    check(r["fingerprint"] == fp, "the fingerprint is ssh-keygen's: %s vs %s" % (r["fingerprint"], fp))
    users = os.path.join(d.dir, "accounts", "alice", "users")
    check(os.listdir(users) == [file], "the key file is in alice's users/: %r" % os.listdir(users))
    with open(os.path.join(d.dir, "accounts", "alice", "authorized_keys")) as f:
        check(key.split()[1] in f.read(), "authorized_keys was rendered with the new key")

    r = c.ask({"op": "list_keys", "session": session})
    keys = r.get("keys", [])
    check(len(keys) == 1 and keys[0]["state"] == "active" and keys[0]["device"] == "laptop"
          and keys[0]["owner"] == "alice@example.org" and keys[0]["type"] == "ssh-ed25519"
          and keys[0]["bits"] == 256 and keys[0]["fingerprint"] == fp and keys[0]["serial"] == 1
          and keys[0]["comment"] == "alice-laptop" and isinstance(keys[0]["expiry"], str),
          "list_keys shows the key: %r" % r)

    r = c.ask({"op": "add_key", "session": session, "key": key, "owner": "alice@example.org", "device": "desktop"})
    check(r.get("error", {}).get("code") == "duplicate_key", "the same key twice: %r" % r)
    with open(os.path.join(tmp, "alice-laptop")) as f:
        private = f.read()
    r = c.ask({"op": "add_key", "session": session, "key": private, "owner": "alice@example.org",
               "device": "desktop"})
    check(r.get("error", {}).get("code") == "private_key", "a private key: %r" % r)
    check("PRIVATE" not in d.stderr(), "the private key is not logged")
    smuggled = key.strip() + "\n" + make_key(tmp, "alice-other")
    r = c.ask({"op": "add_key", "session": session, "key": smuggled, "owner": "alice@example.org",
               "device": "desktop"})
    check(r.get("error", {}).get("code") == "several_keys", "a newline smuggling a second key: %r" % r)
    r = c.ask({"op": "add_key", "session": session, "key": 'command="/bin/sh" ' + key,
               "owner": "alice@example.org", "device": "desktop"})
    check(r.get("error", {}).get("code") == "options_in_key", "options smuggled in front: %r" % r)

    r = c.ask({"op": "revoke_key", "session": session, "file": file, "client": "198.51.100.1"})
    check(r == {"ok": True, "file": file, "fingerprint": fp}, "revoke_key: %r" % r)
    check(os.listdir(users) == [], "users/ is empty after the revoke")
    check(os.listdir(os.path.join(d.dir, "accounts", "alice", "revoked")) == [file], "the key is in revoked/")
    r = c.ask({"op": "list_keys", "session": session})
    check([k["state"] for k in r.get("keys", [])] == ["revoked"], "list_keys shows it revoked: %r" % r)

    # The administrator is told of both changes, and the audit log has them.
    time.sleep(0.3)
    out = d.stdout()
    check("key added to the account alice" in out and "key revoked from the account alice" in out,
          "alerts for the add and the revoke on the console")
    check("fingerprint: " + fp in out and "client: 198.51.100.1" in out, "alerts name the fingerprint and client")
    with open(os.path.join(d.dir, "audit.log")) as f:
        records = [json.loads(line) for line in f]
    check([(r["action"], r["account"], r["file"]) for r in records] == [("add", "alice", file),
                                                                        ("revoke", "alice", file)],
          "keywardd's audit log: %r" % records)

    r = c.ask({"op": "logout", "session": session})
    check(r == {"ok": True}, "logout: %r" % r)
    r = c.ask({"op": "list_keys", "session": session})
    check(r.get("error", {}).get("code") == "no_session", "the session is gone after logout: %r" % r)
    c.close()


def test_login_tells_nothing(d):
    c = Conn(d.sock)
    replies = []
    for user in ["alice", "nosuchuser", "../root", "root/..", "~root", "root", "bob\u00e9"]:
        r = c.ask({"op": "login", "user": user, "client": "198.51.100.2"})
        if not check(r is not None and r.get("ok") is True and re.fullmatch(r"[0-9a-f]{64}", r.get("login", "")),
                     "login %r answered with a handle: %r" % (user, r)):
            continue
        del r["login"]
        replies.append(r)
    check(all(r == replies[0] for r in replies), "every login reply is the same: %r" % replies)
    c.close()


def test_guessing(d):
    c = Conn(d.sock)
    r, code = login(d, c, "alice", "198.51.100.3")
    wrong = "000000" if code != "000000" else "111111"
    for i in range(5):
        v = c.ask({"op": "verify", "login": r["login"], "code": wrong})
        check(v.get("error", {}).get("code") == "bad_code", "wrong code %d: %r" % (i + 1, v))
    v = c.ask({"op": "verify", "login": r["login"], "code": code})
    check(v.get("error", {}).get("code") == "too_many_tries", "the 6th try fails even with the right code: %r" % v)
    check("session" not in v, "no session after 5 wrong tries")

    # Reusing a code.
    r, code = login(d, c, "alice", "198.51.100.3")
    v = c.ask({"op": "verify", "login": r["login"], "code": code})
    check(v.get("ok") is True, "the right code opens a session: %r" % v)
    again = c.ask({"op": "verify", "login": r["login"], "code": code})
    check(again.get("error", {}).get("code") == "expired", "a code works once: %r" % again)
    # A made-up handle.
    v = c.ask({"op": "verify", "login": "0" * 64, "code": code})
    check(v.get("error", {}).get("code") == "expired", "an unknown handle: %r" % v)
    c.close()


def test_session_bound_to_account(d, tmp):
    c = Conn(d.sock)
    bob = session_for(d, c, "bob", "198.51.100.4")
    alice = session_for(d, c, "alice", "198.51.100.4")
    if bob is None or alice is None:
        return
    r = c.ask({"op": "add_key", "session": bob, "key": make_key(tmp, "bob-phone"), "owner": "bob@example.org",
               "device": "phone"})
    if not check(r.get("ok") is True, "bob adds a key: %r" % r):
        return
    bob_file = r["file"]
    # alice's session lists alice's keys, whatever else is said.
    r = c.ask({"op": "list_keys", "session": alice})
    check(r.get("account") == "alice" and all(k["owner"] != "bob@example.org" for k in r["keys"]),
          "alice's session sees alice's account: %r" % r)
    # alice's session cannot revoke bob's key by naming its file.
    r = c.ask({"op": "revoke_key", "session": alice, "file": bob_file})
    check(r.get("error", {}).get("code") == "no_match", "alice cannot revoke bob's key: %r" % r)
    check(os.listdir(os.path.join(d.dir, "accounts", "bob", "users")) == [bob_file], "bob's key is untouched")
    # Naming an account in a request is malformed: the connection is closed.
    r = c.ask({"op": "list_keys", "session": alice, "user": "bob"})
    check(r is not None and r.get("error", {}).get("code") == "bad_request", "a request naming an account: %r" % r)
    check(c.closed(), "and its connection is closed")
    c.close()
    c = Conn(d.sock)
    r = c.ask({"op": "list_keys", "session": bob})
    check(r.get("account") == "bob" and [k["file"] for k in r["keys"]] == [bob_file], "bob's session: %r" % r)
    c.close()


def totp(secret, t):
    """RFC 6238: HMAC-SHA1, 30-second steps, 6 digits."""
    mac = hmac.new(secret, struct.pack(">Q", int(t) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


def test_totp(d):
    secret = bytes(range(1, 21))
    folder = os.path.join(d.dir, "accounts", "bob", ".keyward")
    os.mkdir(folder, 0o700)
    path = os.path.join(folder, "totp")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, base64.b32encode(secret).rstrip(b"=") + b"\n")
    os.close(fd)
    c = Conn(d.sock)
    sent_before = d.stdout().count("code for bob:")
    r = c.ask({"op": "login", "user": "bob", "client": "198.51.100.6"})
    code = totp(secret, time.time())
    v = c.ask({"op": "verify", "login": r["login"], "code": code})
    check(v.get("ok") is True and v.get("account") == "bob", "bob logs in with his app's code: %r" % v)
    time.sleep(0.3)
    check(d.stdout().count("code for bob:") == sent_before, "nothing is sent to a TOTP account")
    r = c.ask({"op": "login", "user": "bob", "client": "198.51.100.6"})
    v = c.ask({"op": "verify", "login": r["login"], "code": code})
    check(v.get("error", {}).get("code") == "bad_code", "an app's code is accepted once: %r" % v)
    # A secret others can read does not count: bob is back to e-mail codes.
    os.chmod(path, 0o644)
    r, emailed = login(d, c, "bob", "198.51.100.6")
    check(emailed is not None, "with a 0644 secret the code goes by e-mail again")
    check(re.search(r"account bob: ignored .keyward/totp: .*open to others", d.stderr()) is not None,
          "the ignored secret is logged: %s" % d.stderr()[-300:])
    os.remove(path)
    os.rmdir(folder)
    c.close()


def test_malformed_requests(d):
    witness = Conn(d.sock)  # stays open through all of it
    bad = [
        b"not json\n",
        b"[]\n",
        b"{}\n",
        b'{"op":"format_disk"}\n',
        b'{"op":"login","user":7}\n',
        b'{"op":"login","user":"alice","user":"bob"}\n',
        b'{"op":"login","user":"alice","admin":true}\n',
        b'{"op":"login","user":"' + b"a" * 65 + b'"}\n',
        b'{"op":"verify","login":"x","code":"' + b"1" * 40 + b'"}\n',
        b'{"op":"login","user":"al\xffice"}\n',
        b'{"op":"login","user":"alice"}\x00\n',
        b"x" * (64 * 1024 + 1),  # no newline at all
    ]
    for data in bad:
        c = Conn(d.sock)
        c.send_raw(data)
        r = c.read_line()
        check(r is None or r.get("ok") is False, "malformed %r answered with an error: %r" % (data[:40], r))
        check(c.closed(), "malformed %r closes the connection" % data[:40])
        c.close()
        r = witness.ask({"op": "logout", "session": "0" * 64})
        check(r == {"ok": True}, "the other connection is still served after %r" % data[:40])

    # A 10 MiB line: refused after 64 KiB, the daemon unharmed.
    c = Conn(d.sock)
    sent = [0]

    def blast():
        chunk = b"{" + b"a" * (1 << 20)
        try:
            for _ in range(10):
                c.s.sendall(chunk)
                sent[0] += len(chunk)
            c.s.sendall(b"\n")
        except OSError:
            pass

    t = threading.Thread(target=blast)
    t.start()
    t.join(timeout=20)
    check(not t.is_alive(), "keywardd does not sit on a 10 MiB line")
    check(sent[0] < 10 << 20, "keywardd stopped reading long before 10 MiB (took %d bytes)" % sent[0])
    check(c.closed(), "the 10 MiB connection is closed")
    c.close()
    check("longer than 64 KiB" in d.stderr(), "the oversized line is logged")
    r = witness.ask({"op": "login", "user": "nosuchuser", "client": "198.51.100.5"})
    check(r is not None and r.get("ok") is True, "keywardd still serves after the 10 MiB line: %r" % r)

    # Pipelined requests are answered in order.
    witness.send_raw(b'{"op":"logout","session":"x"}\n{"op":"login","user":"bob","client":"198.51.100.5"}\n')
    first, second = witness.read_line(), witness.read_line()
    check(first == {"ok": True} and second.get("ok") is True and "login" in second, "two requests in one write")
    witness.close()


def test_connection_limit(d):
    ping = {"op": "logout", "session": "0" * 64}
    time.sleep(0.2)  # keywardd notices the connections the tests before closed
    conns = [Conn(d.sock) for _ in range(64)]
    served = sum(1 for c in conns if c.ask(ping) == {"ok": True})
    check(served == 64, "64 connections are served at once (%d were)" % served)
    extra = Conn(d.sock)
    check(extra.closed(), "the 65th connection is closed at once")
    extra.close()
    conns.pop().close()
    time.sleep(0.2)
    again = Conn(d.sock)
    check(again.ask(ping) == {"ok": True}, "a connection is served again once one has closed")
    again.close()
    for c in conns:
        c.close()
    check("connections are open already" in d.stderr(), "the refused connection is logged")


def test_foreign_uid(d):
    if os.geteuid() != 0:
        print("skip: not root, cannot run a client under another uid")
        return
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        print("skip: no setpriv")
        return
    # Let everyone reach the socket, as a careless administrator might:
    # SO_PEERCRED still keeps uid 65534 out.
    parent = os.path.dirname(d.dir)
    os.chmod(parent, 0o711)
    os.chmod(d.dir, 0o711)
    os.chmod(d.sock, 0o666)
    client = (
        "import socket,sys\n"
        "s=socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])\n"
        "try:\n"
        "    s.sendall(b'{\"op\":\"login\",\"user\":\"alice\"}\\n'); data=s.recv(4096)\n"
        "except (ConnectionResetError, BrokenPipeError):\n"
        "    data=b''\n"
        "sys.stdout.write(repr(data))\n")
    p = subprocess.run([setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", sys.executable, "-c",
                        client, d.sock], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and p.stdout == "b''", "uid 65534 gets no answer: rc %d %r %r" % (p.returncode,
                                                                                            p.stdout, p.stderr))
    time.sleep(0.2)
    check("refused peer uid 65534" in d.stderr(), "the refused peer is logged")
    os.chmod(d.sock, 0o660)
    os.chmod(d.dir, 0o700)
    os.chmod(parent, 0o700)


def issued_serials(d):
    try:
        with open(os.path.join(d.dir, "ca", "issued.log")) as f:
            return [json.loads(line)["serial"] for line in f if line.strip()]
    except FileNotFoundError:
        return []


def keygen_L(tmp, line, name):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(line + "\n")
    p = subprocess.run([SSH_KEYGEN, "-L", "-f", path], capture_output=True, text=True)
    check(p.returncode == 0, "ssh-keygen -L reads %s: %s" % (name, p.stderr))
    return p.stdout


def test_certificates(d, tmp):
    c = Conn(d.sock)
    alice = session_for(d, c, "alice", "198.51.100.20")
    bob = session_for(d, c, "bob", "198.51.100.21")
    if alice is None or bob is None:
        return
    r = c.ask({"op": "list_roles", "session": alice})
    check(r.get("ok") is True and r.get("ca") == "ready" and [x["name"] for x in r.get("roles", [])] == ["login", "deploy"],
          "alice's roles: %r" % r)
    if r.get("ok"):
        check(r["roles"][0]["principals"] == ["alice"] and r["roles"][1]["principals"] == ["deploy"]
              and r["roles"][1]["force_command"] == "/usr/local/bin/deploy", "the roles' details: %r" % r)
    r = c.ask({"op": "list_roles", "session": bob})
    check([x["name"] for x in r.get("roles", [])] == ["login"] and r["roles"][0]["principals"] == ["bob"],
          "bob's roles: %r" % r)

    key = make_key(tmp, "alice-cert")
    ca_fp = subprocess.run([SSH_KEYGEN, "-l", "-f", os.path.join(d.dir, "ca", "user_ca.pub")], capture_output=True,
                           text=True).stdout.split()[1]
    key_fp = subprocess.run([SSH_KEYGEN, "-l", "-f", os.path.join(tmp, "alice-cert.pub")], capture_output=True,
                            text=True).stdout.split()[1]
    before = issued_serials(d)
    t0 = int(time.time())
    r = c.ask({"op": "sign_cert", "session": alice, "role": "login", "key": key, "client": "198.51.100.20"})
    if not check(r.get("ok") is True, "sign_cert login: %r" % r):
        return
    check(r["account"] == "alice" and r["role"] == "login" and r["principals"] == ["alice"]
          and r["key_id"] == "keyward:alice:login:%d" % r["serial"] and r["fingerprint"] == key_fp,
          "the reply: %r" % r)
    check(t0 - 400 <= r["valid_after"] <= t0 and r["valid_before"] - r["valid_after"] == 7 * 86400 + 300,
          "a week, backdated 300 s: %r" % r)
    check(r["certificate"].endswith(" alice-cert") and "\n" not in r["certificate"], "one line, the key's comment")
    out = keygen_L(tmp, r["certificate"], "alice-cert-cert.pub")
    check("Type: ssh-ed25519-cert-v01@openssh.com user certificate" in out, "a user certificate:\n" + out)
    check("Signing CA: ED25519 %s" % ca_fp in out, "signed by the demo's CA %s:\n%s" % (ca_fp, out))
    check("Public key: ED25519-CERT %s" % key_fp in out, "for alice's key:\n" + out)
    check('Key ID: "keyward:alice:login:%d"' % r["serial"] in out and "Serial: %d" % r["serial"] in out,
          "key id and serial:\n" + out)
    check(re.search(r"Principals: \n\s+alice\n\s+Critical Options: \(none\)", out) is not None,
          "principals [alice], no critical option:\n" + out)
    check(re.search(r"Extensions: \n\s+permit-agent-forwarding\n\s+permit-port-forwarding\n\s+permit-pty\n?$", out)
          is not None, "the login role's extensions:\n" + out)
    check(issued_serials(d) == before + [r["serial"]], "issued.log has the certificate: %r" % issued_serials(d))
    first = r["serial"]

    r = c.ask({"op": "sign_cert", "session": alice, "role": "deploy", "key": key, "validity": "+30m"})
    if check(r.get("ok") is True, "sign_cert deploy: %r" % r):
        check(r["serial"] == first + 1, "the serial increases: %d after %d" % (r["serial"], first))
        check(r["valid_before"] - r["valid_after"] == 1800 + 300, "+30m, backdated: %r" % r)
        out = keygen_L(tmp, r["certificate"], "alice-deploy-cert.pub")
        check(re.search(r"Principals: \n\s+deploy\n", out) is not None, "principal deploy:\n" + out)
        check("force-command /usr/local/bin/deploy" in out and "source-address 127.0.0.0/8,::1/128" in out,
              "force-command and source-address:\n" + out)
        check(re.search(r"Extensions: \(none\)", out) is not None, "no extension:\n" + out)
    signed = issued_serials(d)

    # Bad input: its code, a message, nothing signed.
    with open(os.path.join(tmp, "alice-cert")) as f:
        private = f.read()
    cert_line = r.get("certificate", "")
    other = make_key(tmp, "alice-other-cert")
    cases = [
        ("unknown role", alice, {"role": "root", "key": key}, "unknown_role"),
        ("another account's role", bob, {"role": "deploy", "key": key}, "role_not_allowed"),
        ("a private key", alice, {"role": "login", "key": private}, "private_key"),
        ("a certificate", alice, {"role": "login", "key": cert_line}, "certificate"),
        ("options in front", alice, {"role": "login", "key": 'command="/bin/sh" ' + key}, "options_in_key"),
        ("two keys", alice, {"role": "login", "key": key.strip() + "\n" + other}, "several_keys"),
        ("beyond the maximum", alice, {"role": "login", "key": key, "validity": "+8d"}, "bad_validity"),
        ("beyond deploy's hour", alice, {"role": "deploy", "key": key, "validity": "+2h"}, "bad_validity"),
        ("forever", alice, {"role": "login", "key": key, "validity": "forever"}, "bad_validity"),
        ("unreadable validity", alice, {"role": "login", "key": key, "validity": "soon"}, "bad_validity"),
        ("a dead session", "0" * 64, {"role": "login", "key": key}, "no_session"),
    ]
    for what, session, fields, code in cases:
        req = {"op": "sign_cert", "session": session}
        req.update(fields)
        r = c.ask(req)
        check(r is not None and r.get("error", {}).get("code") == code and r["error"].get("message"),
              "sign_cert with %s: %r, want %s" % (what, r, code))
    check("PRIVATE" not in d.stderr(), "the private key is not logged")
    r = c.ask({"op": "sign_cert", "session": alice, "role": "login", "key": key, "user": "bob"})
    check(r is not None and r.get("error", {}).get("code") == "bad_request", "a request naming an account: %r" % r)
    check(c.closed(), "and its connection is closed")
    c.close()
    check(issued_serials(d) == signed, "nothing was signed for a refused request: %r" % issued_serials(d))

    # No CA: no_ca; back: signed again, without a restart.
    c = Conn(d.sock)
    kept = os.path.join(d.dir, "user_ca.kept")
    os.rename(os.path.join(d.dir, "ca", "user_ca"), kept)
    try:
        r = c.ask({"op": "sign_cert", "session": alice, "role": "login", "key": key})
        check(r.get("error", {}).get("code") == "no_ca" and "keyward ca init" in r["error"]["message"],
              "without a CA: %r" % r)
        r = c.ask({"op": "list_roles", "session": alice})
        check(r.get("ca") == "missing", "list_roles without a CA: %r" % r)
    finally:
        os.rename(kept, os.path.join(d.dir, "ca", "user_ca"))
    r = c.ask({"op": "sign_cert", "session": alice, "role": "login", "key": key})
    check(r.get("ok") is True and r["serial"] > signed[-1], "the CA is used again once it is back: %r" % r)
    c.close()

    # The CA's private key never reaches keywardd's output.
    with open(os.path.join(d.dir, "ca", "user_ca")) as f:
        body = [line for line in f.read().splitlines() if line and not line.startswith("-----")]
    logged = d.stderr() + d.stdout()
    check(body and not any(line in logged for line in body), "the CA key is not in keywardd's output")
    time.sleep(0.3)
    check("certificate signed for the account alice" in d.stdout(), "the administrator is told of certificates")


def test_krl(d, tmp):
    """revoke_key rebuilds a published KRL; ssh-keygen -Q agrees."""
    conf = os.path.join(d.dir, "keyward.conf")
    krl = os.path.join(d.dir, "keyward.krl")
    p = subprocess.run([KEYWARD, "krl", "build", "--config", conf], capture_output=True, text=True, timeout=60)
    if not check(p.returncode == 0 and os.path.exists(krl), "keyward krl build: %s %s" % (p.stdout, p.stderr)):
        return
    try:
        c = Conn(d.sock)
        session = session_for(d, c, "alice", "198.51.100.30")
        if session is None:
            return
        pubs, files = [], []
        for i in range(3):
            name = "alice-krl-%d" % i
            r = c.ask({"op": "add_key", "session": session, "key": make_key(tmp, name), "owner": "alice@example.org",
                       "device": "krl%d" % i})
            if not check(r.get("ok") is True, "add_key for the KRL: %r" % r):
                return
            pubs.append(os.path.join(tmp, name + ".pub"))
            files.append(r["file"])
        log_before = len(d.stderr())
        for f in files:
            t0 = time.time()
            r = c.ask({"op": "revoke_key", "session": session, "file": f})
            check(r.get("ok") is True, "revoke_key: %r" % r)
            check(time.time() - t0 < 2, "revoke_key waited %.2f s for the KRL" % (time.time() - t0))
        deadline = time.time() + 20
        while time.time() < deadline:
            q = subprocess.run([SSH_KEYGEN, "-Q", "-f", krl] + pubs, capture_output=True, text=True)
            if q.stdout.count(": REVOKED") == 3:
                break
            time.sleep(0.1)
        check(q.returncode == 1 and q.stdout.count(": REVOKED") == 3,
              "ssh-keygen -Q finds the 3 revoked keys in keywardd's KRL: %r %r" % (q.stdout, q.stderr))
        rebuilt = d.stderr()[log_before:].count("rebuilt: version")
        check(1 <= rebuilt <= 3, "one to three rebuilds for three revokes in a row (%d)" % rebuilt)
        with open(os.path.join(d.dir, "ca", "revocations")) as f:
            records = [json.loads(line) for line in f if line.strip()]
        keys = set()
        for path in pubs:
            with open(path) as f:
                keys.add(" ".join(f.read().split()[:2]))
        check(keys <= {r.get("key") for r in records} and all(r.get("who") == "keywardd:alice" for r in records),
              "the CA's revocation list has the keys: %r" % records)
        c.close()
    finally:
        # The tests after this one revoke without a KRL.
        os.remove(krl)


def test_no_secrets_logged(d):
    log = d.stderr()
    codes = set(re.findall(r"code for \w+: (\d{6,})", d.stdout()))
    check(codes, "codes were sent during the test")
    for code in codes:
        check(code not in log, "a code is not in keywardd's log")
    check(not re.search(r"[0-9a-f]{64}", log), "no token (64 hex digits) in keywardd's log")
    check(re.search(r"op=add_key account=alice .* ok", log) is not None, "one log line per request: %s" % log[-500:])


def test_start_and_stop(tmp):
    # Bad configurations stop keywardd at start, naming the setting.
    conf = os.path.join(tmp, "bad.conf")
    base = {"admin_user": "root", "web_user": "root", "codes": {"channel": "console"},
            "alerts": {"channel": "console"}, "socket": os.path.join(tmp, "x.sock"),
            "audit_log": os.path.join(tmp, "audit.log"), "state_dir": os.path.join(tmp, "state")}
    cases = [
        (dict(base, colour="blue"), '"colour"'),
        (dict(base, token_ttl="300"), '"token_ttl"'),
        ({k: v for k, v in base.items() if k != "web_user"}, '"web_user"'),
        (dict(base, codes={"channel": "twilio"}, twilio_token="s3cr3t-t0ken"), '"twilio_sid"'),
        (dict(base, twilio_token=["s3cr3t-t0ken"]), '"twilio_token"'),
        (dict(base, accounts={"source": "directory"}), '"accounts.path"'),
    ]
    for settings, name in cases:
        with open(conf, "w") as f:
            json.dump(settings, f)
        p = subprocess.run([KEYWARDD, "--config", conf], capture_output=True, text=True, timeout=30)
        check(p.returncode == 2, "bad config %s: exit %d" % (name, p.returncode))
        check(name in p.stderr, "the message names %s: %r" % (name, p.stderr))
        check("s3cr3t" not in p.stderr + p.stdout, "twilio_token is never echoed")
    p = subprocess.run([KEYWARDD, "--config", os.path.join(tmp, "missing.conf")], capture_output=True, timeout=30)
    check(p.returncode == 2, "a missing configuration file: exit %d" % p.returncode)
    p = subprocess.run([KEYWARDD, "--bogus"], capture_output=True, timeout=30)
    check(p.returncode == 2, "an unknown argument: exit %d" % p.returncode)

    # --write-config: complete, parses, and refuses to overwrite.
    sample = os.path.join(tmp, "sample.conf")
    p = subprocess.run([KEYWARDD, "--write-config", sample], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and os.path.exists(sample), "--write-config writes a sample: %r" % p.stderr)
    check(stat.S_IMODE(os.stat(sample).st_mode) == 0o600, "the sample is mode 0600")
    with open(sample) as f:
        text = f.read()
    for name in ["admin_user", "web_user", "group", "socket", "sms_number", "token_ttl", "twilio_sid",
                 "twilio_token", "twilio_base_url", "store", "authorized_keys", "accounts", "codes", "alerts",
                 "rate_limits", "session_idle", "session_max", "max_key_days", "key_policy", "audit_log",
                 "state_dir"]:
        check('"%s"' % name in text, "the sample holds %s" % name)
    p = subprocess.run([KEYWARDD, "--config", sample], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2 and '"twilio_sid"' in p.stderr,
          "the sample parses and asks for Twilio's settings: %d %r" % (p.returncode, p.stderr))
    p = subprocess.run([KEYWARDD, "--write-config", sample], capture_output=True, timeout=30)
    check(p.returncode != 0, "--write-config does not overwrite")

    # A second keywardd on a live socket is refused; a stale one is replaced.
    demo = os.path.join(tmp, "demo2")
    d = Daemon(demo)
    if not check(d.wait_ready(), "the second demo starts: " + d.stderr()):
        d.stop()
        return
    st = os.stat(d.sock)
    check(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660, "the socket is mode 0660")
    check(stat.S_IMODE(os.stat(demo).st_mode) == 0o700, "the socket's folder is mode 0700")
    p = subprocess.run([KEYWARDD, "--demo", demo], capture_output=True, text=True, timeout=30)
    check(p.returncode == 1 and "another keywardd" in p.stderr, "a second instance is refused: %r" % p.stderr)
    d.proc.kill()
    d.proc.wait()
    check(os.path.exists(d.sock), "a killed keywardd leaves its socket")
    d = Daemon(demo)
    check(d.wait_ready(), "keywardd replaces a stale socket: " + d.stderr())
    check("removed a stale socket" in d.stderr(), "and says so")
    rc = d.stop()
    check(rc == 0, "SIGTERM stops keywardd with status 0 (got %r)" % rc)
    check(not os.path.exists(d.sock), "the socket is removed at stop")

    # Something that is not a socket in its place is never removed.
    with open(os.path.join(demo, "keywardd.sock"), "w") as f:
        f.write("precious")
    p = subprocess.run([KEYWARDD, "--demo", demo], capture_output=True, text=True, timeout=30)
    check(p.returncode == 1 and "not a socket" in p.stderr, "a file in the socket's place: %r" % p.stderr)
    with open(os.path.join(demo, "keywardd.sock")) as f:
        check(f.read() == "precious", "and it is left alone")


def main():
    if not os.path.exists(KEYWARDD):
        print("keywardd not found at %s (set KEYWARD_BUILD_DIR)" % KEYWARDD, file=sys.stderr)
        return 1
    if SSH_KEYGEN is None:
        print("ssh-keygen not found", file=sys.stderr)
        return 1
    started = time.time()
    tmp = tempfile.mkdtemp(prefix="keywardd-e2e-")
    try:
        d = Daemon(os.path.join(tmp, "demo"))
        try:
            if not check(d.wait_ready(), "keywardd --demo starts: " + d.stderr()):
                return 1
            check("account alice" in d.stdout(), "the demo says what it did: %r" % d.stdout())
            test_flow(d, tmp)
            test_login_tells_nothing(d)
            test_guessing(d)
            test_session_bound_to_account(d, tmp)
            test_totp(d)
            test_malformed_requests(d)
            test_connection_limit(d)
            test_certificates(d, tmp)
            test_krl(d, tmp)
            test_foreign_uid(d)
            test_no_secrets_logged(d)
            check(d.proc.poll() is None, "keywardd is still running after every attack")
        finally:
            rc = d.stop()
            check(rc == 0, "keywardd stops cleanly (status %r)" % rc)
        test_start_and_stop(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failures, %.1f s" % (checks, len(failures), time.time() - started))
    if failures:
        print("keywardd log:\n" + d.stderr()[-4000:], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
