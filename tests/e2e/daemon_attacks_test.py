#!/usr/bin/env python3
"""Attacks on keywardd (as root, passwd accounts) and keyward-web (as an
unprivileged user): each must fail to do harm.

This test covers what tests/e2e/daemon_protocol_test.py (keywardd --demo
over its socket) and tests/e2e/web_http_test.py (keyward-web against the
demo) do not: real system users, keywardd as root with a passwd account
source, files planted in real homes, and the harm itself (what was sent,
what was written, what stayed unchanged), not only the reply.

  guessing     through keyward-web: five wrong codes, then the right one is
               refused too and no session cookie is set.
  reuse        through keyward-web: the verify form posted again with the
               same login cookie and code opens no second session.
  sessions     alice's session (socket and web) lists only alice's keys,
               adds only to alice's store, cannot revoke bob's key by its
               file name or a path to it, and a request naming an account
               is malformed; bob's files and authorized_keys are unchanged.
               A made-up session token is no_session.
  peers        with the socket opened to everyone (0666, folders 0711),
               `nobody` and an account's own uid are dropped without a
               reply and logged; the web user is served. With the real
               modes, `nobody` cannot even reach the socket.
  symlinks     ~/.ssh, ~/.ssh/users and ~/.ssh/authorized_keys as symlinks
               to root-owned targets (read-only to the user, and
               world-writable ones, which only the symlink and owner rules
               protect), and ~/.ssh a real folder of another user, writable
               by everyone: add_key is refused, nothing outside the home is
               written, the target is unchanged byte for byte.
               ~/.phonenumber as a symlink to a root-owned file and to a
               file of the user outside the home: no code is sent.
  phone rules  ~/.phonenumber owned by another user or by root, of mode
               0644, 0640 or 0666, or a hard link to a file of the user
               outside the home: no code is sent, the reason is in keywardd's
               log; with owner and mode right, the code goes out.
  names        ../root, root/.., ~root, root, /root, alice/../bob, and an
               unknown name: the same reply as an unknown user, no message
               sent, the right code can never be guessed into a session
               (verify answers bad_code), /root is not touched; the web
               page is the same for all of them.
  key input    keys with a newline smuggling a second key or an options
               line, options in front (command=, restrict), CR, NUL;
               owners and devices with '/', '..', newlines, and a device
               with '+' (the naming rule's separator); revoke
               file names with paths: all refused, through the socket and
               the web, and users/ and authorized_keys are unchanged.
  csrf         on the real stack: a login without its token sends no code;
               an add with a valid session and a wrong token adds nothing.
  slow socket  a client sending one byte a second to keywardd is cut off
               after the 30 s idle limit without a reply (run in the
               background while the rest runs).
  flooding     with logins_per_account_per_hour 3, the 4th login of an
               account is rate_limited and sends no code.
  certificates a stack with a CA (keyward ca init) and roles for passwd
               accounts: "login" for everyone, "ops" for the members of
               alice's group. bob's session cannot get ops (socket and web),
               alice's gets it; a login certificate of alice's session names
               alice only. The web user cannot read the CA key. A CA key made
               readable to others after keywardd loaded it, or replaced by a
               symlink, signs nothing (ca_unavailable, logged). With a KRL
               published, a key revoked through keywardd is in the KRL that
               keywardd rebuilt as root (ssh-keygen -Q), root's 0644 file.

Needs root (prints SKIP otherwise). Environment: KEYWARD_BUILD_DIR (keywardd,
keyward-web, keyward). Everything is removed at the end, also on failure.
"""

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import sshd_harness as h  # noqa: E402
import keyward_stack as ks  # noqa: E402

failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, file=sys.stderr)
    return cond


def section(name):
    print("-- " + name, flush=True)


# ----------------------------------------------------------------- helpers

def snapshot(path, recursive=True):
    """Everything about a tree that a write would change (lstat, content)."""
    out = {}

    def one(p, rel):
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            return
        entry = [stat.S_IFMT(st.st_mode), st.st_mode & 0o7777, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns,
                 st.st_nlink]
        if stat.S_ISLNK(st.st_mode):
            entry.append(os.readlink(p))
        elif stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                entry.append(hashlib.sha256(f.read()).hexdigest())
        out[rel] = tuple(entry)
        if stat.S_ISDIR(st.st_mode) and (recursive or rel == "."):
            for name in sorted(os.listdir(p)):
                one(os.path.join(p, name), os.path.join(rel, name))

    one(path, ".")
    return out


def diff(a, b):
    keys = sorted(set(a) | set(b))
    return [(k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)]


def no_new_message(stack, since, wait=1.0):
    """True when no message reached the notifier after index `since`."""
    time.sleep(wait)  # codes are sent in the background
    return stack.message_count() == since


def make_key(dir, name):
    priv, pub = h.make_keypair(dir, "ed25519", comment=name, name=name)
    return h.read_public_key(pub)


def init_store(stack, user):
    r = subprocess.run([ks.KEYWARD, "init", "--config", stack.conf_path, "--account", user.name],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise h.HarnessError("keyward init --account %s: %s" % (user.name, r.stderr))


def reset_home(stack, user, phone):
    """The user's home as a careful user keeps it: a store, a phone number."""
    for name in (".ssh", ".phonenumber"):
        p = os.path.join(user.home, name)
        if os.path.islink(p) or os.path.isfile(p):
            os.unlink(p)
        elif os.path.isdir(p):
            shutil.rmtree(p)
    init_store(stack, user)
    h.write_as(user, os.path.join(user.home, ".phonenumber"), phone + "\n", 0o600)


def error_code(reply):
    return (reply or {}).get("error", {}).get("code")


# ----------------------------------------------------------------- attacks

def test_guessing_and_reuse_web(stack, alice):
    section("guessing and reusing codes through keyward-web")
    b = ks.Browser(stack.web_port)
    _, _, page = b.get("/")
    since = stack.message_count()
    status, _, page = b.post("/login", {"user": alice.name, "csrf": ks.token(page)})
    code, _ = stack.code_for(alice.name, since)
    if not check(code is not None, "a code was sent for the guessing test"):
        return
    wrong = "000000" if code != "000000" else "111111"
    for i in range(5):
        status, hd, page = b.post("/verify", ks.code_form(page, wrong))
        check(status != 303 and "kw_session" not in b.cookies, "wrong code %d opens nothing: %d" % (i + 1, status))
    form = ks.code_form(page, code)
    form["csrf"] = form["csrf"] or "x"
    status, hd, page = b.post("/verify", form)
    check(status != 303 and "kw_session" not in b.cookies,
          "the 6th try, with the right code, is refused: %d %r" % (status, hd.get("Location")))
    status, _, _ = b.get("/keys")
    check(status == 303, "and /keys is not reachable: %d" % status)

    # Reuse: post the same verify form (same login cookie, same code) twice.
    b = ks.Browser(stack.web_port)
    _, _, page = b.get("/")
    since = stack.message_count()
    _, _, page = b.post("/login", {"user": alice.name, "csrf": ks.token(page)})
    code, _ = stack.code_for(alice.name, since)
    login_cookies = dict(b.cookies)
    form = ks.code_form(page, code)
    status, _, _ = b.post("/verify", form)
    check(status == 303 and "kw_session" in b.cookies, "the right code opens a session: %d" % status)
    replay = ks.Browser(stack.web_port)
    replay.cookies = login_cookies
    status, hd, _ = replay.post("/verify", form)
    check(status != 303 and "kw_session" not in replay.cookies,
          "the same code posted again opens no second session: %d %r" % (status, hd.get("Location")))


def test_sessions(stack, alice, bob, keys_dir):
    section("a session of one account used on another")
    c = ks.Conn(stack.socket_path)
    sa = ks.socket_session(stack, c, alice.name)
    sb = ks.socket_session(stack, c, bob.name)
    if not check(sa and sb, "sessions for alice and bob"):
        return
    r = c.ask({"op": "add_key", "session": sb, "key": make_key(keys_dir, "bob_phone"), "owner": "bob@example.org",
               "device": "phone"})
    if not check(r.get("ok"), "bob adds a key: %r" % r):
        return
    bob_file = r["file"]
    bob_before = snapshot(os.path.join(bob.home, ".ssh"))

    r = c.ask({"op": "list_keys", "session": sa})
    check(r.get("account") == alice.name and all(k["file"] != bob_file for k in r.get("keys", [])),
          "alice's session lists alice's keys only: %r" % r)
    for file in (bob_file, "../../%s/.ssh/users/%s" % (bob.name, bob_file),
                 os.path.join(bob.home, ".ssh", "users", bob_file), "users/" + bob_file):
        r = c.ask({"op": "revoke_key", "session": sa, "file": file})
        check(error_code(r) in ("no_match", "bad_file"), "alice revokes %r: %r" % (file, r))
    # The owner field is only a label: an add with alice's session lands in
    # alice's store, whatever it says.
    r = c.ask({"op": "add_key", "session": sa, "key": make_key(keys_dir, "alice_x"), "owner": "bob@example.org",
               "device": "tablet"})
    check(r.get("ok") and os.path.exists(os.path.join(alice.home, ".ssh", "users", r.get("file", "-"))),
          "an add with alice's session lands in alice's store whatever the owner says: %r" % r)
    for field in ("user", "account", "uid", "home"):
        c2 = ks.Conn(stack.socket_path)
        r = c2.ask({"op": "list_keys", "session": sa, field: bob.name})
        check(error_code(r) == "bad_request" and c2.closed(), "a request naming %s=bob is malformed and closed: %r"
              % (field, r))
        c2.close()
    r = c.ask({"op": "list_keys", "session": "0123456789abcdef" * 4})
    check(error_code(r) == "no_session", "a made-up session: %r" % r)
    r = c.ask({"op": "list_keys", "session": sa.upper()})
    check(error_code(r) == "no_session", "the session in upper case is another token: %r" % r)

    # The same through keyward-web: alice's cookie, bob's file.
    b, page, why = ks.web_sign_in(stack, alice.name)
    if check(page is not None, "alice signs in on the web: " + why):
        check(bob_file not in page, "alice's keys page does not show bob's key")
        b.post("/revoke", {"csrf": ks.token(page), "file": bob_file})
    check(diff(bob_before, snapshot(os.path.join(bob.home, ".ssh"))) == [],
          "bob's store and authorized_keys are unchanged: %r" % diff(bob_before, snapshot(os.path.join(bob.home, ".ssh"))))
    c.close()


def _client_as(uid, gid, path, request=b'{"op":"login","user":"nosuchuser"}\n'):
    code = ("import socket,sys\n"
            "s=socket.socket(socket.AF_UNIX); s.settimeout(10)\n"
            "try:\n"
            "    s.connect(sys.argv[1])\n"
            "except OSError as e:\n"
            "    print('connect:'+type(e).__name__); sys.exit(0)\n"
            "try:\n"
            "    s.sendall(%r); data=s.recv(4096)\n"
            "except (ConnectionResetError, BrokenPipeError):\n"
            "    data=b''\n"
            "print(repr(data))\n" % request)
    return subprocess.run(["setpriv", "--reuid", str(uid), "--regid", str(gid), "--clear-groups", sys.executable,
                           "-c", code, path], capture_output=True, text=True, timeout=30)


def test_peers(stack, alice, web_user):
    section("peer uids other than root and web_user")
    if shutil.which("setpriv") is None:
        print("skip: no setpriv")
        return
    run_dir = os.path.dirname(stack.socket_path)
    r = _client_as(65534, 65534, stack.socket_path)
    check(r.stdout.strip() == "connect:PermissionError", "with the real modes nobody cannot reach the socket: %r"
          % (r.stdout + r.stderr))
    # A careless administrator opens everything: SO_PEERCRED still decides.
    dir_mode = os.stat(run_dir).st_mode & 0o7777
    os.chmod(run_dir, 0o711)
    os.chmod(stack.socket_path, 0o666)
    try:
        mark = len(stack.keywardd_log())
        for who, uid, gid in (("nobody", 65534, 65534), ("the account alice", alice.uid, alice.gid)):
            r = _client_as(uid, gid, stack.socket_path)
            check(r.returncode == 0 and r.stdout.strip() == "b''", "%s (uid %d) gets no reply: %r"
                  % (who, uid, r.stdout + r.stderr))
            check(stack.wait_for_log("refused peer uid %d" % uid, since=mark), "the refused uid %d is logged" % uid)
        r = _client_as(web_user.uid, web_user.gid, stack.socket_path)
        check('"ok":true' in r.stdout.replace(" ", ""), "the web user is served: %r" % r.stdout)
    finally:
        os.chmod(stack.socket_path, 0o660)
        os.chmod(run_dir, dir_mode)


def _root_owned_store_copy(src, dst, writable):
    shutil.copytree(src, dst, symlinks=True)
    for dirpath, dirnames, filenames in os.walk(dst):
        os.chown(dirpath, 0, 0)
        os.chmod(dirpath, 0o777 if writable else 0o755)
        for n in filenames:
            os.chown(os.path.join(dirpath, n), 0, 0)
            os.chmod(os.path.join(dirpath, n), 0o666 if writable else 0o644)


def test_symlinks(stack, alice, bob, keys_dir):
    bob_uid_gid = (bob.uid, bob.gid)
    section("symlinks planted in the home")
    phone = "+15555550110"
    outside = h.tempdir("outside", 0o755)  # root-owned, outside every home
    c = ks.Conn(stack.socket_path)
    sa = ks.socket_session(stack, c, alice.name)
    if not check(sa, "a session for alice"):
        return
    ssh = os.path.join(alice.home, ".ssh")

    def attempt(what, target):
        before_target = snapshot(target)
        before_users = snapshot(os.path.join(ssh, "users")) if os.path.isdir(os.path.join(ssh, "users")) else None
        key = make_key(keys_dir, "k_" + re.sub(r"\W", "_", what) + str(time.time_ns()))
        r = c.ask({"op": "add_key", "session": sa, "key": key, "owner": "alice@example.org", "device": "planted"})
        check(r is not None and r.get("ok") is False, "%s: add_key is refused: %r" % (what, r))
        check(error_code(r) == "store_failed", "%s: the web user is told store_failed, no path: %r" % (what, r))
        check(diff(before_target, snapshot(target)) == [], "%s: the root-owned target is unchanged: %r"
              % (what, diff(before_target, snapshot(target))))
        if before_users is not None and not os.path.islink(os.path.join(ssh, "users")):
            check(diff(before_users, snapshot(os.path.join(ssh, "users"))) == [],
                  "%s: no key file was added to users/" % what)
        r = c.ask({"op": "list_keys", "session": sa})
        check(error_code(r) in ("store_failed", None) and not any(
            k.get("device") == "planted" for k in (r or {}).get("keys", [])), "%s: list_keys: %r" % (what, r))

    for writable in (False, True):
        kind = "world-writable" if writable else "read-only"
        # ~/.ssh -> a root-owned copy of a store
        reset_home(stack, alice, phone)
        target = os.path.join(outside, "store-%s" % kind)
        _root_owned_store_copy(ssh, target, writable)
        shutil.rmtree(ssh)
        os.symlink(target, ssh)
        os.lchown(ssh, alice.uid, alice.gid)
        attempt("~/.ssh -> root-owned %s store" % kind, target)

        # ~/.ssh/users -> a root-owned folder
        reset_home(stack, alice, phone)
        target = os.path.join(outside, "users-%s" % kind)
        os.mkdir(target)
        os.chmod(target, 0o777 if writable else 0o755)
        shutil.rmtree(os.path.join(ssh, "users"))
        os.symlink(target, os.path.join(ssh, "users"))
        os.lchown(os.path.join(ssh, "users"), alice.uid, alice.gid)
        attempt("~/.ssh/users -> root-owned %s folder" % kind, target)

        # ~/.ssh/authorized_keys -> a root-owned file
        reset_home(stack, alice, phone)
        target = os.path.join(outside, "authorized_keys-%s" % kind)
        h.write_file(target, "precious root-owned content\n", 0o666 if writable else 0o644)
        ak = os.path.join(ssh, "authorized_keys")
        if os.path.lexists(ak):
            os.unlink(ak)
        os.symlink(target, ak)
        os.lchown(ak, alice.uid, alice.gid)
        attempt("~/.ssh/authorized_keys -> root-owned %s file" % kind, target)
        check(os.path.islink(ak) or not os.path.exists(ak) or os.lstat(ak).st_uid == alice.uid,
              "authorized_keys is still the user's own")

    # ~/.ssh a real folder in the home, but another user's (and writable by
    # everyone, so that only the owner rule stands in the way).
    reset_home(stack, alice, phone)
    for dirpath, dirnames, filenames in os.walk(ssh):
        for n in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
            os.lchown(n, bob_uid_gid[0], bob_uid_gid[1])
            os.chmod(n, 0o777 if os.path.isdir(n) else 0o666)
    attempt("~/.ssh owned by bob, world-writable", ssh)

    # ~/.phonenumber -> a root-owned file with a number; -> the user's own file outside the home
    reset_home(stack, alice, phone)
    for what, target, owner, mode in (("a root-owned file (0644)", os.path.join(outside, "phone-root"), 0, 0o644),
                                      ("a root-owned file (0600)", os.path.join(outside, "phone-root600"), 0, 0o600),
                                      ("the user's own file outside the home", os.path.join(outside, "phone-alice"),
                                       alice.uid, 0o600)):
        h.write_file(target, "+15555550199\n", mode, owner, owner and alice.gid)
        pn = os.path.join(alice.home, ".phonenumber")
        if os.path.lexists(pn):
            os.unlink(pn)
        os.symlink(target, pn)
        os.lchown(pn, alice.uid, alice.gid)
        before = snapshot(target)
        since = stack.message_count()
        mark = len(stack.keywardd_log())
        r = c.ask({"op": "login", "user": alice.name, "client": "198.51.100.20"})
        check(r.get("ok") is True, "~/.phonenumber -> %s: the login reply is the usual one: %r" % (what, r))
        check(no_new_message(stack, since), "~/.phonenumber -> %s: no code is sent: %r"
              % (what, stack.messages()[since:]))
        check(stack.wait_for_log(".phonenumber", since=mark), "~/.phonenumber -> %s: the reason is logged" % what)
        check(diff(before, snapshot(target)) == [], "~/.phonenumber -> %s: the target is unchanged" % what)
    c.close()
    reset_home(stack, alice, phone)


def test_phone_rules(stack, alice, bob):
    section(".phonenumber owned by someone else or with a loose mode")
    c = ks.Conn(stack.socket_path)
    pn = os.path.join(alice.home, ".phonenumber")
    for what, uid, gid, mode in (("owned by bob", bob.uid, bob.gid, 0o600),
                                 ("owned by root", 0, 0, 0o600),
                                 ("owned by root, 0644", 0, 0, 0o644),
                                 ("mode 0644", alice.uid, alice.gid, 0o644),
                                 ("mode 0640", alice.uid, alice.gid, 0o640),
                                 ("mode 0666", alice.uid, alice.gid, 0o666)):
        if os.path.lexists(pn):
            os.unlink(pn)
        h.write_file(pn, "+15555550120\n", mode, uid, gid)
        since = stack.message_count()
        mark = len(stack.keywardd_log())
        r = c.ask({"op": "login", "user": alice.name, "client": "198.51.100.21"})
        check(r.get("ok") is True, ".phonenumber %s: the usual reply: %r" % (what, r))
        check(no_new_message(stack, since), ".phonenumber %s: no code is sent: %r" % (what, stack.messages()[since:]))
        check(stack.wait_for_log("ignored .phonenumber", since=mark), ".phonenumber %s: the reason is logged" % what)
    # A hard link to a file of the account outside the home (two links).
    os.unlink(pn)
    outside = h.tempdir("hardlink", 0o755)
    h.write_as(alice, os.path.join(outside, "phone"), "+15555550120\n", 0o600)
    os.link(os.path.join(outside, "phone"), pn)
    since = stack.message_count()
    mark = len(stack.keywardd_log())
    c.ask({"op": "login", "user": alice.name, "client": "198.51.100.21"})
    check(no_new_message(stack, since), ".phonenumber as a hard link: no code is sent")
    check(stack.wait_for_log("ignored .phonenumber", since=mark), ".phonenumber as a hard link: the reason is logged")
    # The control: the right owner and mode, and a code goes out.
    os.unlink(pn)
    h.write_as(alice, pn, "+15555550120\n", 0o600)
    since = stack.message_count()
    c.ask({"op": "login", "user": alice.name, "client": "198.51.100.21"})
    code, to = stack.code_for(alice.name, since)
    check(code is not None and to == "+15555550120", "with owner alice and mode 0600 the code is sent: %r" % to)
    c.close()


def test_names(stack, alice, nofactor):
    section("hostile user names")
    root_before = snapshot("/root", recursive=False)
    root_ssh_before = snapshot("/root/.ssh")
    c = ks.Conn(stack.socket_path)
    names = ["nosuchuser", "../root", "root/..", "~root", "root", "/root", "./root", "root/", "%s/../root" % alice.name,
             "%s/..%s" % (alice.name, ""), "..", ".", "-root", "root\t", "r00t;id", nofactor.name]
    replies = {}
    since = stack.message_count()
    for name in names:
        r = c.ask({"op": "login", "user": name, "client": "198.51.100.22"})
        if r is None or error_code(r) == "bad_request":
            c = ks.Conn(stack.socket_path)
            replies[name] = ("malformed", r)
            continue
        handle = r.pop("login", None)
        replies[name] = r
        check(handle and re.fullmatch(r"[0-9a-f]{64}", handle), "login %r gave a handle" % name)
        v = c.ask({"op": "verify", "login": handle, "code": "123456"})
        check(error_code(v) == "bad_code", "verify for %r is only ever bad_code: %r" % (name, v))
    check(no_new_message(stack, since), "no message is sent for any of them: %r" % stack.messages()[since:])
    want = replies["nosuchuser"]
    for name, r in replies.items():
        # A control character is refused by the protocol itself (closed):
        # the web form never sends one (it trims), so only that one differs.
        if name == "root\t":
            check(r == want or r[0] == "malformed", "login %r: %r" % (name, r))
            continue
        check(r == want, "login %r gets the unknown user's reply: %r vs %r" % (name, r, want))
    # The reply for a real account with a factor, too.
    since = stack.message_count()
    r = c.ask({"op": "login", "user": alice.name, "client": "198.51.100.22"})
    r.pop("login", None)
    check(r == want, "a real account's reply is the same: %r" % r)
    stack.code_for(alice.name, since)
    check(diff(root_before, snapshot("/root", recursive=False)) == [], "/root is not touched: %r"
          % diff(root_before, snapshot("/root", recursive=False)))
    check(diff(root_ssh_before, snapshot("/root/.ssh")) == [], "/root/.ssh is not touched")
    c.close()

    # The web page says the same for all of them.
    pages = {}
    since = stack.message_count()
    for name in ("nosuchuser", "../root", "root/..", "~root", "root", alice.name):
        b = ks.Browser(stack.web_port)
        _, _, page = b.get("/")
        status, _, page = b.post("/login", {"user": name, "csrf": ks.token(page)})
        # The per-request random parts: the CSRF token and the pending login's name.
        body = re.sub(r'name="(csrf|login)" value="[^"]*"', "", page)
        pages[name] = (status, body)
    stack.code_for(alice.name, since)  # alice's code, so that later tests do not take it for theirs
    check(all(v == pages["nosuchuser"] for v in pages.values()),
          "the web's answer is the same for every name: %r" % {k: v[0] for k, v in pages.items()})


def test_key_input(stack, alice, keys_dir):
    section("keys, owners, devices and file names smuggling things in")
    ssh = os.path.join(alice.home, ".ssh")
    c = ks.Conn(stack.socket_path)
    sa = ks.socket_session(stack, c, alice.name)
    if not check(sa, "a session for alice"):
        return
    good = make_key(keys_dir, "smuggle_base")
    other = make_key(keys_dir, "smuggle_other")
    before = snapshot(ssh)
    keys = {
        "newline + second key": good + "\n" + other,
        "newline + options line": good + "\n" + 'command="/bin/sh -c id" ' + other,
        "CR + options line": good + "\r" + 'command="/bin/sh" ' + other,
        "CRLF + second key": good + "\r\n" + other,
        "comment holding a newline and a key": good.split()[0] + " " + good.split()[1] + " x\n" + other,
        "command= in front": 'command="/bin/sh" ' + good,
        "restrict in front": "restrict " + good,
        "from= in front": 'from="*" ' + good,
        "environment= in front": 'environment="LD_PRELOAD=/tmp/x.so" ' + good,
        "cert-authority": "cert-authority " + good,
    }
    for what, key in keys.items():
        r = c.ask({"op": "add_key", "session": sa, "key": key, "owner": "alice@example.org", "device": "smuggle"})
        check(r.get("ok") is False, "key with %s is refused: %r" % (what, r))
    # A NUL: the protocol refuses a control character in a value (closed).
    c2 = ks.Conn(stack.socket_path)
    r = c2.ask({"op": "add_key", "session": sa, "key": good + "\u0000" + other, "owner": "alice@example.org",
                "device": "smuggle"})
    check(error_code(r) == "bad_request", "a key with a NUL is malformed: %r" % r)
    c2.close()
    for what, owner, device in (("owner with ..", "../../etc@example.org", "d1"),
                                ("owner with /", "a/b@example.org", "d2"),
                                ("device ../../x", "alice@example.org", "../../../../tmp/x"),
                                ("device with /", "alice@example.org", "a/b"),
                                ("device with +", "alice@example.org", "a+20990101+01"),
                                ("device ..", "alice@example.org", ".."),
                                ("empty device", "alice@example.org", ""),
                                ("device with a space", "alice@example.org", "my laptop\u00a0"),
                                ("owner with newline", "alice@example.org\nx", "d4")):
        cc = ks.Conn(stack.socket_path)
        r = cc.ask({"op": "add_key", "session": sa, "key": good, "owner": owner, "device": device})
        check(r is not None and r.get("ok") is False, "%s is refused: %r" % (what, r))
        cc.close()
    for file in ("../authorized_keys", "/etc/passwd", "users/../../.phonenumber", "..", "!!README!!", ".lock",
                 "authorized_keys", "x+y+20260101+01.pub/../../../.phonenumber"):
        r = c.ask({"op": "revoke_key", "session": sa, "file": file})
        check(error_code(r) in ("bad_file", "no_match"), "revoke of %r is refused: %r" % (file, r))
    check(diff(before, snapshot(ssh)) == [], "~/.ssh is unchanged after every refused input: %r"
          % diff(before, snapshot(ssh)))
    check(not os.path.exists("/tmp/x") or os.stat("/tmp/x").st_uid != alice.uid, "nothing was written to /tmp/x")

    # The same through the web form.
    b, page, why = ks.web_sign_in(stack, alice.name)
    if check(page is not None, "alice signs in on the web: " + why):
        for what in ("newline + options line", "command= in front", "CR + options line"):
            status, _, page = b.post("/add", {"csrf": ks.token(page), "key": keys[what], "device": "webmuggle",
                                              "owner": "alice@example.org"})
            check(status == 422, "the web refuses a key with %s: %d" % (what, status))
            if status != 422:
                _, _, page = b.get("/keys")
        check(diff(before, snapshot(ssh)) == [], "~/.ssh is unchanged after the web attempts")
        with open(os.path.join(ssh, "authorized_keys")) as f:
            text = f.read()
        check("command=" not in text and "/bin/sh" not in text, "no option reached authorized_keys")
    c.close()


def test_csrf_real(stack, alice, keys_dir):
    section("CSRF on the real stack: nothing sent, nothing changed")
    b = ks.Browser(stack.web_port)
    b.get("/")
    since = stack.message_count()
    for fields in ({"user": alice.name}, {"user": alice.name, "csrf": "0" * 64}):
        status, _, _ = b.post("/login", fields)
        check(status == 403, "POST /login %r: %d" % (sorted(fields), status))
    check(no_new_message(stack, since), "a login without a good CSRF token sends no code")
    b, page, why = ks.web_sign_in(stack, alice.name)
    if not check(page is not None, "alice signs in: " + why):
        return
    ssh = os.path.join(alice.home, ".ssh")
    before = snapshot(ssh)
    key = make_key(keys_dir, "csrf_key")
    for csrf in (None, "", "f" * 64, ks.token(page)[:-1] + ("0" if ks.token(page)[-1:] != "0" else "1")):
        fields = {"key": key, "device": "csrf", "owner": "alice@example.org"}
        if csrf is not None:
            fields["csrf"] = csrf
        status, _, _ = b.post("/add", fields)
        check(status == 403, "POST /add with CSRF %r: %d" % (csrf if csrf is None else csrf[:8], status))
    check(diff(before, snapshot(ssh)) == [], "no key was added without the right token")


def slow_socket_client(path, result):
    """One byte a second; records when keywardd closed the connection."""
    c = ks.Conn(path, timeout=2)
    line = b'{"op":"logout","session":"' + b"0" * 64 + b'"}\n'  # 90 bytes: 90 s at one a second
    t0 = time.time()
    got = b""
    for i in range(len(line)):
        try:
            c.s.sendall(line[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            result["closed_after"] = time.time() - t0
            break
        try:
            data = c.s.recv(4096)
            if data == b"":
                result["closed_after"] = time.time() - t0
                break
            got += data
        except (TimeoutError, OSError) as e:
            if not isinstance(e, TimeoutError) and "timed out" not in str(e):
                result["closed_after"] = time.time() - t0
                break
        time.sleep(max(0.0, t0 + i + 1 - time.time()))
        if time.time() - t0 > 60:
            break
    result["reply"] = got
    c.close()


def test_flooding(web_user, alice):
    section("code flooding: per-account rate limit")
    with ks.Stack(web_user, web=False, settings={"rate_limits": {"logins_per_account_per_hour": 3,
                                                                 "logins_per_client_per_hour": 100,
                                                                 "verify_tries": 5}}) as s:
        c = ks.Conn(s.socket_path)
        for i in range(3):
            since = s.message_count()
            r = c.ask({"op": "login", "user": alice.name, "client": "198.51.100.%d" % (30 + i)})
            check(r.get("ok") is True, "login %d is served: %r" % (i + 1, r))
            s.code_for(alice.name, since)
        since = s.message_count()
        r = c.ask({"op": "login", "user": alice.name, "client": "198.51.100.40"})
        check(error_code(r) == "rate_limited", "the 4th login of the hour, from another address: %r" % r)
        check(no_new_message(s, since), "and it sends no code")
        c.close()


def issued_count(stack):
    try:
        with open(os.path.join(stack.ca_dir, "issued.log")) as f:
            return sum(1 for line in f if line.strip())
    except FileNotFoundError:
        return 0


def test_certificates(web_user, alice, bob, keys_dir):
    section("certificates: roles of passwd accounts, the CA key, the KRL as root")
    s = ks.Stack(web_user, start=False)
    try:
        s.config["ca"]["roles"] = [
            {"name": "login", "principals": ["%u"], "max_validity": "1d", "extensions": ["permit-pty"],
             "accounts": ["*"]},
            {"name": "ops", "principals": ["ops"], "max_validity": "1h", "force_command": "/usr/bin/id",
             "groups": [alice.name]},  # alice's own group: bob is not in it
        ]
        h.write_file(s.conf_path, json.dumps(s.config, indent=2) + "\n", 0o600)  # s.start() writes it again
        r = subprocess.run([ks.KEYWARD, "ca", "init", "--config", s.conf_path],
                           capture_output=True, text=True, timeout=60)
        if not check(r.returncode == 0, "keyward ca init: %s" % r.stderr):
            return
        s.start()
        check("user CA SHA256:" in s.keywardd_log() and "sign_cert is on" in s.keywardd_log(),
              "keywardd says it loaded the CA: %s" % s.keywardd_log()[-300:])
        key_file = os.path.join(s.ca_dir, "user_ca")
        r = h.run_as(web_user, ["/bin/cat", key_file])
        check(r.returncode != 0 and "PRIVATE" not in r.stdout, "the web user cannot read the CA key")
        reset_home(s, alice, "+15555550120")
        reset_home(s, bob, "+15555550121")

        c = ks.Conn(s.socket_path)
        sa = ks.socket_session(s, c, alice.name)
        sb = ks.socket_session(s, c, bob.name)
        if not check(sa and sb, "sessions for alice and bob"):
            return
        r = c.ask({"op": "list_roles", "session": sa})
        check([x["name"] for x in r.get("roles", [])] == ["login", "ops"], "alice (in her group) may have ops: %r" % r)
        r = c.ask({"op": "list_roles", "session": sb})
        check([x["name"] for x in r.get("roles", [])] == ["login"], "bob is offered login only: %r" % r)

        key = make_key(keys_dir, "cert_key")
        before = issued_count(s)
        r = c.ask({"op": "sign_cert", "session": sb, "role": "ops", "key": key})
        check(error_code(r) == "role_not_allowed", "bob asks for ops: %r" % r)
        r = c.ask({"op": "sign_cert", "session": sb, "role": "login", "key": key})
        check(r.get("ok") and r["principals"] == [bob.name], "bob's login certificate names bob only: %r" % r)
        r = c.ask({"op": "sign_cert", "session": sa, "role": "ops", "key": key})
        check(r.get("ok") and r["principals"] == ["ops"], "alice gets ops: %r" % r)
        check(issued_count(s) == before + 2, "two certificates in issued.log")
        time.sleep(0.5)
        check(len(s.certificate_alerts()) == 2, "the administrator is told of both: %r" % s.certificate_alerts())

        # Through the web: bob's cookie cannot get ops either.
        b, page, why = ks.web_sign_in(s, bob.name)
        if check(page is not None, "bob signs in on the web: " + why):
            check('value="ops"' not in page, "bob's page does not offer ops")
            status, _, err = b.post("/cert", {"csrf": ks.token(page), "role": "ops", "certkey": key})
            check(status == 422 and "may not ask for the role ops" in err, "bob posts ops: %d" % status)
            check(issued_count(s) == before + 2, "nothing signed for bob's ops")

        # The CA key's rules hold after it was loaded.
        before = issued_count(s)
        os.chmod(key_file, 0o644)
        r = c.ask({"op": "sign_cert", "session": sa, "role": "login", "key": key})
        check(error_code(r) == "ca_unavailable", "a CA key others may read: %r" % r)
        check(s.wait_for_log("readable by group or others"), "and why is logged")
        os.chmod(key_file, 0o600)
        os.rename(key_file, key_file + ".real")
        os.symlink(key_file + ".real", key_file)
        r = c.ask({"op": "sign_cert", "session": sa, "role": "login", "key": key})
        check(error_code(r) == "ca_unavailable", "a CA key that is a symlink: %r" % r)
        os.unlink(key_file)
        os.rename(key_file + ".real", key_file)
        check(issued_count(s) == before, "nothing signed with a CA key that breaks the rules")
        r = c.ask({"op": "sign_cert", "session": sa, "role": "login", "key": key})
        check(r.get("ok"), "put right, the CA signs again: %r" % r)

        # A published KRL gets what keywardd revokes, rebuilt as root.
        r = subprocess.run([ks.KEYWARD, "krl", "build", "--config", s.conf_path], capture_output=True, text=True,
                           timeout=60)
        if check(r.returncode == 0, "keyward krl build: %s" % r.stderr):
            pub = os.path.join(keys_dir, "krl_key.pub")
            k = make_key(keys_dir, "krl_key")
            r = c.ask({"op": "add_key", "session": sa, "key": k, "owner": "alice@example.org", "device": "krl"})
            if check(r.get("ok"), "alice adds a key: %r" % r):
                r = c.ask({"op": "revoke_key", "session": sa, "file": r["file"]})
                check(r.get("ok"), "and revokes it: %r" % r)
                deadline = time.time() + 20
                out = ""
                while time.time() < deadline:
                    q = subprocess.run(["ssh-keygen", "-Q", "-f", s.krl_path, pub], capture_output=True, text=True)
                    out = q.stdout
                    if "REVOKED" in out:
                        break
                    time.sleep(0.1)
                check("REVOKED" in out, "ssh-keygen -Q: the revoked key is in keywardd's KRL: %r" % out)
                st = os.stat(s.krl_path)
                check(st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o644, "the KRL is root's, 0644")
        c.close()
        check(s.keywardd.poll() is None, "keywardd survived")
        if failures:
            print("--- keywardd log (tail)\n" + s.keywardd_log()[-3000:], file=sys.stderr)
    finally:
        s.stop()
        h.remove_root_owned(s.notifier)


def main():
    h.skip_unless_root("the keywardd attack test")
    h.require_tools()
    ks.require_binaries("keywardd", "keyward-web", "keyward")
    started = time.time()
    home_base = "/home" if os.path.isdir("/home") else None
    try:
        with h.SystemUser("alice", home_base=home_base) as alice, \
                h.SystemUser("bob", home_base=home_base) as bob, \
                h.SystemUser("nofac", home_base=home_base) as nofactor, \
                h.SystemUser("web", system=True) as web_user:
            keys_dir = h.tempdir("keys", 0o700)
            with ks.Stack(web_user) as stack:
                reset_home(stack, alice, "+15555550110")
                reset_home(stack, bob, "+15555550111")
                slow = {}
                slow_thread = threading.Thread(target=slow_socket_client, args=(stack.socket_path, slow), daemon=True)
                slow_thread.start()
                for test in (lambda: test_guessing_and_reuse_web(stack, alice),
                             lambda: test_sessions(stack, alice, bob, keys_dir),
                             lambda: test_peers(stack, alice, web_user),
                             lambda: test_names(stack, alice, nofactor),
                             lambda: test_key_input(stack, alice, keys_dir),
                             lambda: test_csrf_real(stack, alice, keys_dir),
                             lambda: test_phone_rules(stack, alice, bob),
                             lambda: test_symlinks(stack, alice, bob, keys_dir)):
                    try:
                        test()
                    except Exception as e:  # one broken attack must not hide the others
                        import traceback
                        traceback.print_exc()
                        check(False, "exception: %r" % e)
                section("slow socket client (waits for the 30 s idle limit)")
                slow_thread.join(timeout=90)
                after = slow.get("closed_after")
                check(after is not None and 25 <= after <= 40,
                      "a client sending one byte a second is cut off at the idle limit: after %r s" % after)
                check(slow.get("reply") == b"", "and never gets a reply: %r" % slow.get("reply"))
                check("idle for 30 s; closed" in stack.keywardd_log(), "the cut is logged")
                check(stack.keywardd.poll() is None and stack.web.poll() is None, "both processes survived")
                rw, rk = stack.stop()
                check(rw == 0 and rk == 0, "both stop cleanly: web %r keywardd %r" % (rw, rk))
                if failures:
                    print("--- keywardd log (tail)\n" + stack.keywardd_log()[-5000:], file=sys.stderr)
                    print("--- keyward-web log (tail)\n" + stack.web_log()[-1500:], file=sys.stderr)
            try:
                test_flooding(web_user, alice)
            except Exception as e:
                check(False, "flooding: exception %r" % e)
            try:
                test_certificates(web_user, alice, bob, keys_dir)
            except Exception as e:
                import traceback
                traceback.print_exc()
                check(False, "certificates: exception %r" % e)
    finally:
        h.cleanup_all()
    print("%d checks, %d failures, %.1f s" % (checks, len(failures), time.time() - started))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
