#!/usr/bin/env python3
"""Self-service end to end with real parts: real users, keywardd as root,
keyward-web as an unprivileged user, a real sshd and the real ssh client.

  1. Real system users: the account (a passwd user with a real home under
     /home) and the web user (a system account without a home). The
     account's second factor is ~/.phonenumber (owned by it, 0600).
  2. keywardd runs as root on a configuration written here (passwd
     accounts, store %h/.ssh, socket in a root-owned temporary folder,
     web_user, codes and alerts through the "command" channel: a root-owned
     script that appends each message to a file this test reads, audit log
     in the temporary folder). keyward-web is started as root with --user
     and drops to the web user after binding.
  3. Over HTTP (http.client, a cookie jar, the CSRF token of each form):
     GET /, POST /login, the code read from the notifier's file (sent to the
     number in ~/.phonenumber), POST /verify, GET /keys, POST /add of a
     fresh Ed25519 key with its device and owner. The keys page shows it with
     ssh-keygen's fingerprint.
  4. The real ssh client logs in to a real sshd (AuthorizedKeysFile left at
     its default, .ssh/authorized_keys, StrictModes on) with that key and
     runs `id -un`: the account's name comes back, and sshd's log says the
     key was found in the authorized_keys keywardd rendered.
  5. The key is revoked through the web; the same login is now refused.
  6. The administrator (admin_user root) got an alert for the add and one
     for the revoke (account, device, fingerprint, client address), and
     keywardd's audit log holds both records.
  7. keyward-web really runs as the web user, keywardd as root; the socket
     is the web user's (0660); the files keywardd wrote in the home belong
     to the account, not to root.

The account's store is made first with `keyward init --account`, as an
administrator would. A second account that never had ~/.ssh then signs in
and adds its first key through the page: self-service is for users without
a working key, so keywardd must not answer store_failed there (at the time
of writing it does: reported, and this check fails until it is fixed).

KWT_KEYWARDD_WRAP and KWT_RUNTIME_DIRECTORY (tests/e2e/lib/keyward_stack.py)
run keywardd with packaging/keywardd.service's capabilities and socket
folder.

Needs root (prints SKIP otherwise). Everything is removed at the end, on
failure and on SIGTERM/SIGINT too (the sshd harness's cleanup).
Environment: KEYWARD_BUILD_DIR (keywardd, keyward-web). Exits non-zero on
failure.
"""

import os
import pwd
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import sshd_harness as h  # noqa: E402
import keyward_stack as ks  # noqa: E402

PHONE = "+15555550100"

failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, file=sys.stderr)
    return cond


def proc_uids(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", f.read(), re.M)
    return tuple(int(x) for x in m.groups())


def fingerprint(pub_path):
    return subprocess.run(["ssh-keygen", "-l", "-f", pub_path], check=True, capture_output=True,
                          text=True).stdout.split()[1]


def run(alice, web_user, stack, sshd, keys_dir):
    # --- who runs as whom
    check(proc_uids(stack.keywardd.pid)[0] == 0, "keywardd runs as root")
    check(set(proc_uids(stack.web.pid)) == {web_user.uid},
          "keyward-web runs as the web user: uids %r" % (proc_uids(stack.web.pid),))
    run_dir = os.path.dirname(stack.socket_path)
    st = os.stat(run_dir)
    if stack.runtime_directory:  # made beforehand, as systemd's RuntimeDirectory= does
        check(st.st_uid == 0 and st.st_mode & 0o777 == 0o755, "the socket's folder is still root's, 0755")
    else:
        check(st.st_uid == web_user.uid and st.st_mode & 0o777 == 0o700,
              "the socket's folder is the web user's, 0700: uid %d mode %o" % (st.st_uid, st.st_mode & 0o777))
    st = os.stat(stack.socket_path)
    check(st.st_uid == web_user.uid and st.st_mode & 0o777 == 0o660,
          "the socket is the web user's, 0660: uid %d mode %o" % (st.st_uid, st.st_mode & 0o777))

    # --- the account's key store, as an administrator sets it up
    r = subprocess.run([ks.KEYWARD, "init", "--config", stack.conf_path, "--account", alice.name],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "keyward init --account: %r" % (r,))

    # --- the flow over HTTP
    b = ks.Browser(stack.web_port)
    status, hd, page = b.get("/")
    check(status == 200 and ks.token(page), "GET / shows the form with a CSRF token: %d" % status)
    since = stack.message_count()
    status, _, page = b.post("/login", {"user": alice.name, "csrf": ks.token(page)})
    if not check(status == 200 and 'action="/verify"' in page, "POST /login shows the code form: %d" % status):
        return
    code, to = stack.code_for(alice.name, since)
    if not check(code is not None, "a code reached the notifier: %r\n%s" % (stack.messages(), stack.keywardd_log())):
        return
    check(to == PHONE, "the code went to the number in ~/.phonenumber: %r" % to)
    check(code not in stack.keywardd_log(), "the code is not in keywardd's log")
    status, hd, page = b.post("/verify", ks.code_form(page, code))
    if not check(status == 303 and hd.get("Location") == "/keys", "POST /verify: %d %r" % (status, hd.get("Location"))):
        return
    status, _, page = b.get("/keys")
    check(status == 200 and alice.name in page, "GET /keys: %d" % status)

    priv, pub = h.make_keypair(keys_dir, "ed25519", comment="alice@new-laptop", name="id_new_laptop")
    fp = fingerprint(pub)
    owner = "alice@example.org"
    status, hd, page = b.post("/add", {"csrf": ks.token(page), "key": h.read_public_key(pub),
                                       "device": "new-laptop", "owner": owner, "days": ""})
    if not check(status == 303 and hd.get("Location", "").startswith("/keys"),
                 "POST /add: %d %r %s\n%s" % (status, hd.get("Location"), page[:500], stack.keywardd_log()[-2000:])):
        return
    status, _, page = b.get("/keys")
    check(fp in page and "new-laptop" in page and owner in page and "ssh-ed25519" in page,
          "the keys page lists the new key with ssh-keygen's fingerprint %s" % fp)
    file = ks.revoke_file_for(page, "new-laptop")
    check(file is not None and re.fullmatch(r"alice@example\.org\+new-laptop\+\d{8}\+01\.pub", file or ""),
          "the key's file follows the naming rule: %r" % file)

    # --- what keywardd wrote, and who owns it
    ssh_dir = os.path.join(alice.home, ".ssh")
    ak = os.path.join(ssh_dir, "authorized_keys")
    with open(ak) as f:
        text = f.read()
    check(h.read_public_key(pub).split()[1] in text, "authorized_keys holds the key")
    for path in (ssh_dir, ak, os.path.join(ssh_dir, "users"), os.path.join(ssh_dir, "users", file or "x")):
        try:
            st = os.lstat(path)
            check(st.st_uid == alice.uid and st.st_gid == alice.gid, "%s belongs to the account: %d:%d"
                  % (path, st.st_uid, st.st_gid))
        except FileNotFoundError:
            check(False, "%s exists" % path)
    for dirpath, dirnames, filenames in os.walk(ssh_dir):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            check(st.st_uid == alice.uid, "nothing root-owned in ~/.ssh: %s" % os.path.join(dirpath, name))

    # --- the real ssh client, the real sshd
    mark = sshd.log_mark()
    r = h.ssh_login(alice, priv, sshd, command="id -un")
    check(r.ok and r.stdout.strip() == alice.name, "ssh with the added key runs `id -un`: %r" % (r,))
    if r.ok:
        line = sshd.wait_for_log("Accepted publickey for %s " % alice.name, since=mark)
        check(fp in line, "sshd accepted that very key: %r" % line)
        check(sshd.log_contains("found at %s:" % ak, since=mark), "sshd found it in the rendered authorized_keys")

    # --- revoke through the web
    _, _, page = b.get("/keys")
    status, hd, _ = b.post("/revoke", {"csrf": ks.token(page), "file": file or ""})
    check(status == 303 and hd.get("Location", "").startswith("/keys"), "POST /revoke: %d %r" % (status, hd.get("Location")))
    _, _, page = b.get("/keys")
    check(ks.revoke_file_for(page, "new-laptop") is None and "Revoked" in page, "the keys page shows it revoked")
    check(os.path.exists(os.path.join(ssh_dir, "revoked", file or "x")), "the key file moved into revoked/")
    with open(ak) as f:
        check(h.read_public_key(pub).split()[1] not in f.read(), "authorized_keys no longer holds the key")
    mark = sshd.log_mark()
    r = h.ssh_login(alice, priv, sshd, command="id -un")
    check(r.returncode == 255 and "Permission denied" in r.stderr and r.stdout == "",
          "after the revoke the login is refused: %r" % (r,))
    line = sshd.wait_for_log("Failed publickey for %s " % alice.name, since=mark)
    check(fp in line, "sshd refused that key: %r" % line)

    # --- the administrator was told, and the audit log has both records
    deadline = time.time() + 5
    while len(stack.alerts()) < 2 and time.time() < deadline:
        time.sleep(0.1)
    alerts = stack.alerts()
    check(len(alerts) == 2, "two alerts (add, revoke): %r" % alerts)
    if len(alerts) == 2:
        (to1, add), (to2, rev) = alerts
        check(to1 == "root" and to2 == "root", "alerts go to admin_user: %r %r" % (to1, to2))
        for body, what in ((add, "key added to the account " + alice.name),
                           (rev, "key revoked from the account " + alice.name)):
            check(what in body and "device: new-laptop" in body and "fingerprint: " + fp in body
                  and "file: " + (file or "") in body and "client: 127.0.0.1" in body,
                  "alert %r names account, device, file, fingerprint and client: %r" % (what, body))
            check(code not in body, "no code in an alert")
    nobody = pwd.getpwnam("nobody").pw_uid
    senders = stack.sender_uids()
    check(senders and all(u == nobody for u in senders),
          "codes and alerts are sent as notify_user (nobody), never as root: %r" % senders)
    records = stack.audit_records()
    check([(r.get("action"), r.get("account"), r.get("file"), r.get("fingerprint"), r.get("who"))
           for r in records] == [("add", alice.name, file, fp, "keywardd"), ("revoke", alice.name, file, fp, "keywardd")],
          "keywardd's audit log has the add and the revoke: %r" % records)

    # --- sign out; the session is gone
    status, _, _ = b.post("/logout", {"csrf": ks.token(page)})
    check(status == 303, "POST /logout: %d" % status)
    status, hd, _ = b.get("/keys")
    check(status == 303, "GET /keys after logout sends back to the form: %d" % status)


def test_fresh_account(fresh, stack, sshd, keys_dir):
    """An account that has never had ~/.ssh: its first key comes through the web.

    Nobody ran `keyward init` for it: a user without any working key is the
    case self-service exists for, so keywardd must set the store up (with the
    user's rights) rather than answer store_failed."""
    b, page, why = ks.web_sign_in(stack, fresh.name)
    if not check(page is not None, "an account without ~/.ssh can open its keys page (%s)\n%s"
                 % (why, stack.keywardd_log()[-600:])):
        return
    priv, pub = h.make_keypair(keys_dir, "ed25519", comment="first", name="id_first")
    status, hd, page = b.post("/add", {"csrf": ks.token(page), "key": h.read_public_key(pub),
                                       "device": "first", "owner": "fresh@example.org"})
    if not check(status == 303, "an account without ~/.ssh can add its first key: %d" % status):
        return
    st = os.lstat(os.path.join(fresh.home, ".ssh"))
    check(st.st_uid == fresh.uid and st.st_mode & 0o022 == 0, "the new ~/.ssh is the user's, not writable by others")
    r = h.ssh_login(fresh, priv, sshd, command="id -un")
    check(r.ok and r.stdout.strip() == fresh.name, "and logs in with it: %r" % (r,))


def main():
    h.skip_unless_root("the self-service end-to-end test")
    h.require_tools()
    ks.require_binaries("keywardd", "keyward-web")
    started = time.time()
    home_base = "/home" if os.path.isdir("/home") else None
    try:
        with h.SystemUser("alice", home_base=home_base) as alice, \
                h.SystemUser("fresh", home_base=home_base) as fresh, \
                h.SystemUser("web", system=True) as web_user:
            check(pwd.getpwnam(alice.name).pw_dir == alice.home and os.path.isdir(alice.home),
                  "the account has a real home")
            h.write_as(alice, os.path.join(alice.home, ".phonenumber"), PHONE + "\n", 0o600)
            h.write_as(fresh, os.path.join(fresh.home, ".phonenumber"), "+15555550101\n", 0o600)
            keys_dir = h.tempdir("keys", 0o700)
            with ks.Stack(web_user) as stack, h.Sshd() as sshd:
                run(alice, web_user, stack, sshd, keys_dir)
                test_fresh_account(fresh, stack, sshd, keys_dir)
                check(stack.keywardd.poll() is None and stack.web.poll() is None, "both processes still run")
                rw, rk = stack.stop()
                check(rw == 0 and rk == 0, "both stop cleanly on SIGTERM: web %r keywardd %r" % (rw, rk))
                if failures:
                    print("--- keywardd log\n" + stack.keywardd_log()[-4000:], file=sys.stderr)
                    print("--- keyward-web log\n" + stack.web_log()[-2000:], file=sys.stderr)
                    sshd.dump_log(40)
    finally:
        h.cleanup_all()
    print("%d checks, %d failures, %.1f s" % (checks, len(failures), time.time() - started))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
