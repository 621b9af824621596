#!/usr/bin/env python3
"""keyward totp enroll, run for real with HOME in a temporary folder.

  - the otpauth URI has Google's Key URI format and the secret in
    ~/.keyward/totp (mode 0600, folder 0700) is the URI's;
  - the QR code is drawn with half blocks on a UTF-8 terminal and with "##"
    otherwise, with a quiet zone, and is a QR code: a valid size and the
    three finder patterns where they belong;
  - an existing secret is kept without --force and replaced with it; a
    symlink in its place is refused even with --force;
  - on a terminal (a pty here) a first code is asked for: the code Python
    computes from the URI (RFC 6238, written here independently) is
    accepted, wrong codes leave nothing behind;
  - as root, --account USER writes into USER's home as USER (a real system
    user, created and removed by the test).

Environment: KEYWARD_BIN (required). Exits non-zero on failure.
"""

import base64
import hashlib
import hmac
import os
import pty
import pwd
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

KEYWARD = os.environ.get("KEYWARD_BIN", "")
URI_RE = re.compile(
    r"^otpauth://totp/keyward:([A-Za-z0-9._~%-]+)\?secret=([A-Z2-7]{32})"
    r"&issuer=keyward&algorithm=SHA1&digits=6&period=30$", re.M)

failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, file=sys.stderr)
    return cond


def env_for(home, locale):
    env = dict(os.environ)
    env["HOME"] = home
    env["LC_ALL"] = locale
    return env


def enroll(home, *args, locale="C.UTF-8"):
    p = subprocess.run([KEYWARD, "totp", "enroll"] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for(home, locale), timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def totp(secret_b32, t, digits=6):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(t) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def modules_from_half_blocks(lines):
    """Rows of booleans, True where the drawing is lit (a light module)."""
    top = {" ": False, "\u2580": True, "\u2584": False, "\u2588": True}
    bottom = {" ": False, "\u2580": False, "\u2584": True, "\u2588": True}
    rows = []
    for line in lines:
        rows.append([top[c] for c in line])
        rows.append([bottom[c] for c in line])
    return rows


def modules_from_ascii(lines):
    return [[line[i:i + 2] == "##" for i in range(0, len(line), 2)] for line in lines]


def check_qr(rows, what):
    """rows: lit (light) modules, quiet zone included. Checks the shape."""
    n = len(rows[0])
    check(all(len(r) == n for r in rows), what + ": rows of equal length")
    if len(rows) == n + 1:  # half blocks: an odd size leaves an unlit half row
        check(not any(rows[-1]), what + ": the last half row is background")
        rows = rows[:n]
    check(len(rows) == n, what + ": square (%d rows, %d columns)" % (len(rows), n))
    quiet = 2
    width = n - 2 * quiet
    check(width >= 21 and (width - 17) % 4 == 0, what + ": %d modules is a QR size" % width)
    for i in range(n):
        for j in list(range(quiet)) + list(range(n - quiet, n)):
            if not (rows[i][j] and rows[j][i]):
                check(False, what + ": quiet zone lit at %d,%d" % (i, j))
                return
    dark = [[not rows[y + quiet][x + quiet] for x in range(width)] for y in range(width)]

    def finder_at(x0, y0):
        for y in range(7):
            for x in range(7):
                ring = max(abs(x - 3), abs(y - 3))
                if dark[y0 + y][x0 + x] != (ring != 2):
                    return False
        return True

    check(finder_at(0, 0), what + ": finder pattern top left")
    check(finder_at(width - 7, 0), what + ": finder pattern top right")
    check(finder_at(0, width - 7), what + ": finder pattern bottom left")
    # Timing patterns: row 6 and column 6 alternate between the finders.
    check(all(dark[6][x] == (x % 2 == 0) for x in range(8, width - 8)), what + ": timing pattern")
    check(all(dark[y][6] == (y % 2 == 0) for y in range(8, width - 8)), what + ": timing pattern")


def test_utf8(tmp):
    home = os.path.join(tmp, "utf8")
    os.mkdir(home, 0o700)
    rc, out, err = enroll(home, "--no-confirm")
    check(rc == 0, "enroll exits 0: " + err)
    m = URI_RE.search(out)
    if not check(m is not None, "otpauth URI in the output:\n" + out):
        return
    label = pwd.getpwuid(os.geteuid()).pw_name + "%40" + socket.gethostname()
    check(m.group(1) == label, "the label is user@host: %s" % m.group(1))
    secret = m.group(2)
    path = os.path.join(home, ".keyward", "totp")
    check(read(path) == (secret + "\n").encode(), "the file holds the URI's secret")
    check(os.stat(path).st_mode & 0o7777 == 0o600, "the file is 0600")
    check(os.stat(os.path.dirname(path)).st_mode & 0o7777 == 0o700, "the folder is 0700")
    check(os.stat(path).st_uid == os.geteuid(), "the file is the user's")
    grouped = " ".join(secret[i:i + 4] for i in range(0, 32, 4))
    check(grouped in out, "the secret is shown in groups for typing")
    lines = [l for l in out.split("\n") if l and set(l) <= set(" \u2580\u2584\u2588")]
    check(len(lines) > 10, "half-block QR lines in the output")
    check("\u2588" in out and "\u2580" in out and "\u2584" in out, "all three block characters appear")
    if lines:
        check(set(lines[0]) == {"\u2588"}, "the first line is quiet zone")
        check_qr(modules_from_half_blocks(lines), "UTF-8 QR")
    return home, secret


def test_ascii_and_force(tmp, home, first_secret):
    path = os.path.join(home, ".keyward", "totp")
    before = read(path)
    rc, out, err = enroll(home, "--no-confirm")
    check(rc != 0, "an existing secret is refused without --force")
    check("--force" in err, "the refusal names --force: " + err)
    check("otpauth://" not in out, "no new secret shown when it cannot be saved")
    check(read(path) == before, "the enrolled secret is untouched")

    rc, out, err = enroll(home, "--no-confirm", "--force", locale="C")
    check(rc == 0, "--force replaces: " + err)
    m = URI_RE.search(out)
    if check(m is not None, "URI with --force"):
        check(m.group(2) != first_secret, "a new secret")
        check(read(path) == (m.group(2) + "\n").encode(), "the file holds the new secret")
    check(os.stat(path).st_mode & 0o7777 == 0o600, "still 0600 after --force")
    check(all(ord(c) < 128 for c in out), "no UTF-8 in the C locale")
    lines = [l for l in out.split("\n") if l and set(l) <= set(" #") and "#" in l]
    check(len(lines) > 20 and all(len(l) % 2 == 0 for l in lines), "ASCII QR with two characters per module")
    if lines:
        check_qr(modules_from_ascii(lines), "ASCII QR")
    leftovers = sorted(os.listdir(os.path.dirname(path)))
    check(leftovers == ["totp"], "no temporary files left: %r" % leftovers)


def test_symlink(tmp):
    home = os.path.join(tmp, "link")
    os.makedirs(os.path.join(home, ".keyward"), 0o700)
    victim = os.path.join(tmp, "victim")
    with open(victim, "w") as f:
        f.write("untouched\n")
    os.symlink(victim, os.path.join(home, ".keyward", "totp"))
    for args in (["--no-confirm"], ["--no-confirm", "--force"]):
        rc, out, err = enroll(home, *args)
        check(rc != 0, "a symlinked secret file is refused with %r" % args)
        check("symbolic link" in err, "the refusal says why: " + err)
    check(read(victim) == b"untouched\n", "the link's target is untouched")

    home2 = os.path.join(tmp, "linkdir")
    os.mkdir(home2, 0o700)
    os.mkdir(os.path.join(tmp, "elsewhere"), 0o700)
    os.symlink(os.path.join(tmp, "elsewhere"), os.path.join(home2, ".keyward"))
    rc, out, err = enroll(home2, "--no-confirm")
    check(rc != 0 and "symbolic link" in err, "a symlinked ~/.keyward is refused: " + err)
    check(os.listdir(os.path.join(tmp, "elsewhere")) == [], "nothing written through the link")


def run_on_pty(home, answers):
    """Runs enroll on a pty, answering each prompt with the function's code."""
    master, slave = pty.openpty()
    p = subprocess.Popen([KEYWARD, "totp", "enroll"], stdin=slave, stdout=slave, stderr=slave,
                         env=env_for(home, "C.UTF-8"), close_fds=True)
    os.close(slave)
    output = b""
    prompts = 0
    deadline = time.time() + 30
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the pty
                break
            if not chunk:
                break
            output += chunk
            text = output.decode("utf-8", "replace")
            if text.count("Code shown by the app: ") > prompts:
                prompts += 1
                m = URI_RE.search(text.replace("\r\n", "\n"))
                secret = m.group(2) if m else ""
                os.write(master, (answers(secret, prompts) + "\n").encode())
        elif p.poll() is not None:
            break
    rc = p.wait(timeout=30)
    os.close(master)
    return rc, output.decode("utf-8", "replace").replace("\r\n", "\n"), prompts


def test_confirm(tmp):
    home = os.path.join(tmp, "pty-good")
    os.mkdir(home, 0o700)
    rc, out, prompts = run_on_pty(home, lambda secret, n: totp(secret, time.time()))
    check(rc == 0, "the right first code confirms:\n" + out)
    check(prompts == 1, "asked once")
    m = URI_RE.search(out)
    path = os.path.join(home, ".keyward", "totp")
    check(m is not None and os.path.exists(path) and read(path) == (m.group(2) + "\n").encode(),
          "the confirmed secret is written")

    home = os.path.join(tmp, "pty-bad")
    os.mkdir(home, 0o700)

    def wrong(secret, n):
        now = time.time()
        right = {totp(secret, now + d) for d in (-30, 0, 30)}
        return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)

    rc, out, prompts = run_on_pty(home, wrong)
    check(rc != 0, "wrong codes fail")
    check(prompts == 3, "three tries (%d)" % prompts)
    check("nothing was written" in out, "says nothing was written")
    check(not os.path.exists(os.path.join(home, ".keyward", "totp")), "no secret after wrong codes")


def test_account_as_root(tmp):
    if os.geteuid() != 0 or not shutil.which("useradd"):
        print("skip: --account needs root and useradd")
        return
    user = "kwtotp%d" % (os.getpid() % 100000)
    home = os.path.join(tmp, "home-" + user)
    subprocess.run(["useradd", "-M", "-d", home, "-s", "/usr/sbin/nologin", user], check=True)
    try:
        os.mkdir(home, 0o755)
        pw = pwd.getpwnam(user)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        rc, out, err = enroll("/nonexistent", "--no-confirm", "--account", user)
        check(rc == 0, "root enrolls another account: " + err)
        path = os.path.join(home, ".keyward", "totp")
        st = os.stat(path)
        check(st.st_uid == pw.pw_uid and st.st_gid == pw.pw_gid, "the file belongs to the user")
        check(os.stat(os.path.dirname(path)).st_uid == pw.pw_uid, "the folder belongs to the user")
        check(("keyward:%s%%40" % user) in out, "the label names the account")
        # A link planted by the user cannot make root write elsewhere.
        os.unlink(path)
        os.symlink("/etc/keyward-totp-test-target", path)
        rc, out, err = enroll("/nonexistent", "--no-confirm", "--force", "--account", user)
        check(rc != 0 and not os.path.exists("/etc/keyward-totp-test-target"), "a planted link is refused")
    finally:
        subprocess.run(["userdel", user], check=False)


def main():
    if not KEYWARD:
        print("KEYWARD_BIN is not set", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="keyward-totp-e2e-")
    os.chmod(tmp, 0o755)
    try:
        result = test_utf8(tmp)
        if result:
            test_ascii_and_force(tmp, *result)
        test_symlink(tmp)
        test_confirm(tmp)
        test_account_as_root(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failures" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
