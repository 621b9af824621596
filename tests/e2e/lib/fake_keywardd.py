"""A stand-in for keywardd that speaks docs/protocol.md on a Unix socket.

For keyward-web's tests when the real keywardd is not built: Python 3
standard library only. It keeps its accounts in memory, knows every user
name (as keywardd's login reply must not tell), and gives the accounts in
``accounts`` a code. It checks what the web process sends as keywardd would
(sessions, single-use codes, 5 tries) and answers with keywardd's error
codes and messages, so the pages can be tested end to end.

Every request is appended to ``requests`` as (op, client) for the tests to
check which client address the web process reported. As a library it never
prints a code; as a program it prints them, as ``keywardd --demo`` does.

Use::

    with FakeKeywardd(socket_path, accounts=("alice", "bob")) as d:
        ...; d.code_for("alice"); d.requests; d.keys_of("alice")

or as a program: ``fake_keywardd.py SOCKET`` (codes on standard output).
"""

import base64
import hashlib
import json
import os
import secrets
import socket
import struct
import sys
import threading
import time

MAX_REQUEST_BYTES = 64 * 1024
MAX_TRIES = 5
CODE_TTL = 300
SESSION_TTL = 900

LOGIN_MESSAGE = ("If {user} exists and has a second factor, a code is on its way, "
                 "or use your authenticator app.")


def _error(code, message):
    return {"ok": False, "error": {"code": code, "message": message}}


def _fingerprint(blob):
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return "SHA256:" + digest


def _bits(key_type, blob):
    """Bits as ssh-keygen -l shows them, for the types the tests use."""
    if key_type == "ssh-ed25519":
        return 256
    if key_type.startswith("ecdsa-sha2-nistp"):
        return int(key_type[len("ecdsa-sha2-nistp"):])
    if key_type == "ssh-rsa":
        fields, off = [], 0
        while off < len(blob) and len(fields) < 3:
            (n,) = struct.unpack(">I", blob[off:off + 4])
            fields.append(blob[off + 4:off + 4 + n])
            off += 4 + n
        modulus = fields[2].lstrip(b"\0") if len(fields) == 3 else b""
        return max(0, len(modulus) * 8 - (8 - modulus[0].bit_length() if modulus else 0))
    return 0


class FakeKeywardd:
    def __init__(self, socket_path, accounts=("alice", "bob"), code=None):
        self.socket_path = socket_path
        self.accounts = {a: [] for a in accounts}
        self.fixed_code = code
        self.logins = {}    # handle -> dict(user, code, tries, expires)
        self.sessions = {}  # token -> (account, expires)
        self.requests = []  # (op, client)
        self.last_codes = {}
        self.lock = threading.Lock()
        self.stopping = False
        self.server = None
        self.thread = None

    # ------------------------------------------------------------ lifecycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.socket_path)
        os.chmod(self.socket_path, 0o666)
        self.server.listen(64)
        self.server.settimeout(0.2)
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping = True
        if self.thread:
            self.thread.join(5)
        if self.server:
            self.server.close()
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)

    # --------------------------------------------------------------- access

    def code_for(self, user):
        with self.lock:
            return self.last_codes.get(user)

    def keys_of(self, user):
        with self.lock:
            return [dict(k) for k in self.accounts.get(user, [])]

    def clients(self, op=None):
        with self.lock:
            return [c for (o, c) in self.requests if op is None or o == op]

    # --------------------------------------------------------------- serving

    def _accept_loop(self):
        while not self.stopping:
            try:
                conn, _ = self.server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buf = b""
        conn.settimeout(30)
        try:
            while True:
                while b"\n" not in buf:
                    if len(buf) > MAX_REQUEST_BYTES:
                        return
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                line, buf = buf.split(b"\n", 1)
                if len(line) > MAX_REQUEST_BYTES:
                    return
                try:
                    request = json.loads(line)
                except ValueError:
                    return
                if not isinstance(request, dict) or not isinstance(request.get("op"), str):
                    return
                reply = self._handle(request)
                if reply is None:
                    return
                conn.sendall(json.dumps(reply).encode() + b"\n")
        except OSError:
            pass
        finally:
            conn.close()

    def _handle(self, r):
        op = r["op"]
        with self.lock:
            self.requests.append((op, r.get("client")))
            handler = getattr(self, "_op_" + op, None)
            if handler is None:
                return None
            return handler(r)

    def _session(self, r):
        s = self.sessions.get(r.get("session"))
        if s is None or s[1] < time.time():
            return None
        return s[0]

    # ------------------------------------------------------------------ ops

    def _op_login(self, r):
        user = r.get("user", "")
        handle = secrets.token_hex(32)
        code = self.fixed_code or "%06d" % secrets.randbelow(10 ** 6)
        self.logins[handle] = {"user": user, "code": code, "tries": 0, "expires": time.time() + CODE_TTL}
        if user in self.accounts:
            self.last_codes[user] = code
        return {"ok": True, "login": handle, "message": LOGIN_MESSAGE.format(user=user)}

    def _op_verify(self, r):
        login = self.logins.get(r.get("login"))
        if login is None or login["expires"] < time.time():
            return _error("expired", "That code has expired. Ask for a new one.")
        login["tries"] += 1
        if login["tries"] > MAX_TRIES:
            return _error("too_many_tries", "Too many wrong codes. Ask for a new one.")
        if login["user"] not in self.accounts or not secrets.compare_digest(r.get("code", ""), login["code"]):
            return _error("bad_code", "That code is wrong or has expired. Ask for a new one.")
        del self.logins[r["login"]]
        token = secrets.token_hex(32)
        self.sessions[token] = (login["user"], time.time() + SESSION_TTL)
        return {"ok": True, "session": token, "account": login["user"], "expires_in": SESSION_TTL}

    def _op_list_keys(self, r):
        account = self._session(r)
        if account is None:
            return _error("no_session", "Your session has ended. Sign in again.")
        return {"ok": True, "account": account, "keys": self.accounts[account]}

    def _op_add_key(self, r):
        account = self._session(r)
        if account is None:
            return _error("no_session", "Your session has ended. Sign in again.")
        text = r.get("key", "").strip()
        if "PRIVATE KEY" in text:
            return _error("private_key", "That is a private key: paste the .pub file instead, and keep this one secret.")
        lines = [l for l in text.splitlines() if l.strip()]
        if len(lines) != 1:
            return _error("several_keys", "Paste one key, on one line.")
        parts = lines[0].split()
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except (IndexError, ValueError):
            return _error("bad_key", "That is not a public key: paste the content of the .pub file.")
        bits = _bits(parts[0], blob)
        if parts[0] == "ssh-rsa" and bits < 2048:
            return _error("weak_key", "RSA keys must be at least 2048 bits; this one has %d. "
                                      "Make a new key with ssh-keygen -t ed25519." % bits)
        fp = _fingerprint(blob)
        if any(k["fingerprint"] == fp and k["state"] != "revoked" for k in self.accounts[account]):
            return _error("duplicate_key", "This key is already on the account.")
        device = r.get("device", "")
        if not device or not device.replace("-", "").replace("_", "").isalnum():
            return _error("bad_device", "Name the device with letters, digits, - and _.")
        owner = r.get("owner", "")
        if "@" not in owner:
            return _error("bad_owner", "Give the owner's e-mail address.")
        date = time.strftime("%Y%m%d")
        serial = 1 + sum(1 for k in self.accounts[account] if k["device"] == device)
        name = "%s+%s+%s+%02d.pub" % (owner, device, date, serial)
        days = r.get("days") or 0
        expiry = None
        if days:
            expiry = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() + 86400 * days))
        self.accounts[account].append({
            "file": name, "owner": owner, "device": device, "date": date, "serial": serial,
            "type": parts[0], "bits": bits, "fingerprint": fp, "expiry": expiry, "state": "active",
            "comment": " ".join(parts[2:])})
        return {"ok": True, "file": name, "fingerprint": fp}

    def _op_revoke_key(self, r):
        account = self._session(r)
        if account is None:
            return _error("no_session", "Your session has ended. Sign in again.")
        for k in self.accounts[account]:
            if k["file"] == r.get("file") and k["state"] != "revoked":
                k["state"] = "revoked"
                return {"ok": True, "file": k["file"], "fingerprint": k["fingerprint"]}
        return _error("no_such_key", "There is no such key on the account.")

    def _op_logout(self, r):
        self.sessions.pop(r.get("session"), None)
        return {"ok": True}


def main():
    if len(sys.argv) != 2:
        print("usage: fake_keywardd.py SOCKET", file=sys.stderr)
        return 2
    d = FakeKeywardd(sys.argv[1])
    d.start()
    print("fake keywardd on %s (accounts: %s)" % (d.socket_path, ", ".join(d.accounts)), flush=True)
    seen = {}
    try:
        while True:
            time.sleep(0.5)
            for user in d.accounts:
                code = d.code_for(user)
                if code and seen.get(user) != code:
                    seen[user] = code
                    print("code for %s: %s" % (user, code), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        d.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
