#!/usr/bin/env python3
"""keyward's KRLs against OpenSSH's ssh-keygen, side by side.

Makes CA keys, keys and certificates with ssh-keygen (Ed25519, ECDSA, RSA;
certificates with serials, serial 0, a 64-bit serial and key IDs), then for
each of a set of KRL specifications (serials, ranges, key IDs, key:, sha1:,
sha256:, hash: lines, bare keys and certificates, the wildcard CA, the CA key
itself, a large random mix of serials):

  - builds one KRL with `ssh-keygen -k` and one with `keyward krl build
    --spec`; keyward's must never be larger;
  - runs `ssh-keygen -Q -f KRL FILE` and `keyward krl check KRL FILE` on every
    key and certificate, against both KRLs: stdout, stderr and exit status
    must be identical (so each tool reads the other's KRL as itself);
  - `keyward krl show` lists the same revocations for both KRLs.

Then odd key files (no comment, CRLF, several keys, leading garbage, a
private key beside its .pub, an empty file, a folder, a missing file in the
middle of the list) and odd KRLs (missing, a folder, not a KRL, hand-made
malformed ones, signed ones, and a few hundred seeded random mutations of
valid KRLs): both tools must again print the same and exit the same.

Finally `keyward krl build` (and `keyward ca revoke`, once the `ca` command
group registers it) with a directory-accounts configuration whose account
holds a key in revoked/: ssh-keygen -Q must find that key, and the revoked
certificates, revoked. As root, the same with system users: a real user
(useradd, removed with userdel -r in any case) whose ~/.ssh/revoked/ holds
a key, read by a child process that dropped to the user; a symlink planted
there is refused and only warned about.

Environment: KEYWARD_BIN (required). Temporary files go in one folder that
is removed at the end, also on failure. Exits non-zero on any difference.
"""

import base64
import grp
import hashlib
import json
import os
import pwd
import secrets
import random
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time

KEYWARD = os.environ.get("KEYWARD_BIN", "")
SSH_KEYGEN = shutil.which("ssh-keygen")

failures = []
counts = {"runs": 0, "krls": 0, "mutations": 0}


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def env():
    e = {k: v for k, v in os.environ.items() if not (k.startswith("LC_") or k in ("LANG", "LANGUAGE", "TZ"))}
    e["LC_ALL"] = "C"
    e["TZ"] = "UTC"
    e.setdefault("PATH", "/usr/bin:/bin")
    return e


def run(argv, cwd=None):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(),
                       cwd=cwd, timeout=120)
    return p.returncode, p.stdout, p.stderr


def keygen(*args, cwd=None):
    rc, out, err = run([SSH_KEYGEN] + list(args), cwd=cwd)
    if rc != 0:
        raise RuntimeError("ssh-keygen %s: %s" % (" ".join(args), err.decode(errors="replace")))
    return out


def same_check(krl, files, what, cwd):
    """ssh-keygen -Q and keyward krl check, on the same arguments."""
    a = run([SSH_KEYGEN, "-Q", "-f", krl] + files, cwd=cwd)
    b = run([KEYWARD, "krl", "check", krl] + files, cwd=cwd)
    counts["runs"] += 1
    if a != b:
        fail("%s: ssh-keygen -Q -f %s %s\n  ssh-keygen: rc=%d out=%r err=%r\n  keyward:    rc=%d out=%r err=%r"
             % (what, krl, " ".join(files), a[0], a[1], a[2], b[0], b[1], b[2]))
    return a


# ------------------------------------------------------------------ keys

def make_keys(d):
    k = {}

    def gen(name, *args):
        keygen("-q", "-N", "", "-C", name + "@example", "-f", os.path.join(d, name), *args)
        k[name] = os.path.join(d, name + ".pub")

    gen("ca_ed", "-t", "ed25519")
    gen("ca_rsa", "-t", "rsa", "-b", "2048")
    gen("ca_ec", "-t", "ecdsa", "-b", "384")
    for name in ("ed_1", "ed_2", "ed_3", "ed_4"):
        gen(name, "-t", "ed25519")
    gen("ec_1", "-t", "ecdsa", "-b", "256")
    gen("ec_2", "-t", "ecdsa", "-b", "521")
    gen("rsa_1", "-t", "rsa", "-b", "2048")

    def cert(name, subject, ca, serial, key_id):
        base = os.path.join(d, name)
        shutil.copy(k[subject], base + ".pub")
        keygen("-q", "-s", os.path.join(d, ca), "-I", key_id, "-z", str(serial), "-n", "alice", base + ".pub")
        k[name] = base + "-cert.pub"

    cert("c_ed_5", "ed_1", "ca_ed", 5, "alice-5")
    cert("c_ed_6", "ed_2", "ca_ed", 6, "bob-6")
    cert("c_ed_0", "ed_3", "ca_ed", 0, "zero")
    cert("c_ed_1000", "ec_1", "ca_ed", 1000, "carol")
    cert("c_ed_2048", "ed_4", "ca_ed", 2048, "dora")
    cert("c_ed_big", "ed_1", "ca_ed", 2**63 + 5, "big")
    cert("c_rsa_7", "rsa_1", "ca_rsa", 7, "dave")
    cert("c_ec_5", "ec_2", "ca_ec", 5, "alice-5")
    cert("c_rsa_4000", "ed_2", "ca_rsa", 4000, "carol")
    return k


def fingerprint(pub):
    blob = base64.b64decode(open(pub).read().split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def random_serial_spec(rng, total):
    lines, at, n = [], 1, 0
    while n < total:
        kind = rng.randrange(3)
        if kind == 0:
            length = rng.randrange(20, 400)
            at += rng.randrange(50, 500)
            lines.append("serial: %d-%d" % (at, at + length - 1))
            at += length
            n += length
        elif kind == 1:
            at += rng.randrange(50, 500)
            for s in range(at, at + 600):
                if rng.randrange(8) < 3:
                    lines.append("serial: %d" % s)
                    n += 1
            at += 600
        else:
            for _ in range(50):
                at += rng.randrange(2, 2000)
                lines.append("serial: %d" % at)
                n += 1
    return "\n".join(lines) + "\n"


def krl_specs(k):
    read = lambda name: open(k[name]).read().strip()
    rng = random.Random(5)
    return [
        ("serials", "ca_ed", "serial: 1-5\nserial: 1000\nserial: 0x7ff-0x800 # 2047-2048\nid: bob-6\n"),
        ("key-ids", "ca_ed", "id: alice-5\nid: zero\nID:   carol  \n# comment\n\n"),
        ("keys", None, "key: %s\nsha1: %s\nsha256: %s\nhash: %s\n%s\n%s\n" % (
            read("ec_1"), read("rsa_1"), read("ed_2"), fingerprint(k["ed_3"]), read("c_rsa_7"), read("ec_2"))),
        ("wildcard", "none", "id: alice-5\nserial: 7\n"),
        ("ca-key", None, read("ca_ec") + "\n"),
        ("certificates", None, "\n".join(read(c) for c in ("c_ed_5", "c_ed_0", "c_ed_big", "c_ec_5")) + "\n"),
        ("mixed", "ca_rsa", "serial: 4000\nid: dave\nkey: %s\n" % read("c_ed_6")),
        ("random", "ca_ed", random_serial_spec(rng, 6000) + "serial: 5\nserial: 2048\n"),
        ("empty", None, "# nothing\n"),
    ]


def build_both(d, k, name, ca, spec):
    spec_path = os.path.join(d, name + ".spec")
    with open(spec_path, "w") as f:
        f.write(spec)
    a = os.path.join(d, name + ".ssh-keygen.krl")
    b = os.path.join(d, name + ".keyward.krl")
    ca_arg = [] if ca is None else ["-s", "none" if ca == "none" else k[ca]]
    keygen("-q", "-k", "-f", a, "-z", "77", *ca_arg, spec_path)
    kw_ca = [] if ca is None else ["--ca", "none" if ca == "none" else k[ca]]
    rc, out, err = run([KEYWARD, "krl", "build", "--config", os.path.join(d, "empty.conf"), "--ca-dir",
                        os.path.join(d, "no-ca"), "--no-accounts", "--out", b, "--spec", spec_path] + kw_ca)
    if rc != 0:
        fail("keyward krl build %s: rc=%d %s" % (name, rc, err.decode(errors="replace")))
        return a, None
    counts["krls"] += 2
    sa, sb = os.path.getsize(a), os.path.getsize(b)
    # Only a KRL ssh-keygen can read back counts (9.2 writes oversized
    # bitmaps it then refuses: see check_oversized_bitmap).
    if sb > sa and run([SSH_KEYGEN, "-Q", "-l", "-f", a])[0] == 0:
        fail("%s: keyward's KRL is larger than ssh-keygen's (%d > %d bytes)" % (name, sb, sa))
    mode = stat.S_IMODE(os.stat(b).st_mode)
    if mode != 0o644:
        fail("%s: keyward's KRL has mode %o, not 644" % (name, mode))
    return a, b


def listing(path):
    rc, out, err = run([KEYWARD, "krl", "show", path])
    if rc != 0:
        fail("keyward krl show %s: rc=%d %r" % (path, rc, err))
    return [l for l in out.decode().splitlines() if not l.startswith(("# KRL version", "# Generated at"))]


def check_specs(d, k):
    key_files = [k[n] for n in sorted(k)]
    for name, ca, spec in krl_specs(k):
        a, b = build_both(d, k, name, ca, spec)
        if b is None:
            continue
        print("  %-13s ssh-keygen %7d bytes, keyward %7d bytes" % (name, os.path.getsize(a), os.path.getsize(b)))
        for krl in (a, b):
            for f in key_files:
                same_check(krl, [os.path.relpath(f, d)], name, d)
            same_check(krl, [os.path.relpath(f, d) for f in key_files], name + " (all at once)", d)
        if listing(a) != listing(b):
            fail("%s: keyward krl show lists different revocations for the two KRLs" % name)


def check_oversized_bitmap(d, k):
    """ssh-keygen 9.2 writes bitmaps longer than OpenSSH reads; keyward does not."""
    spec = "".join("serial: %d\n" % s for s in range(1, 80000, 2))
    a, b = build_both(d, k, "alternate", "ca_ed", spec)
    if b is None:
        return
    rc_a, _, err_a = run([SSH_KEYGEN, "-Q", "-f", a, k["c_ed_5"]])
    rc_b, out_b, _ = run([SSH_KEYGEN, "-Q", "-f", b, k["c_ed_5"]])
    print("  alternate     ssh-keygen %7d bytes (ssh-keygen -Q on it: %s), keyward %7d bytes (read: %s)" % (
        os.path.getsize(a), err_a.decode().strip() or "ok", os.path.getsize(b), out_b.decode().strip()))
    if rc_b != 1:
        fail("ssh-keygen cannot read keyward's KRL of alternate serials")
    if rc_a == 255 and os.path.getsize(b) > os.path.getsize(a) * 1.01:
        fail("keyward's readable KRL is more than 1% larger than ssh-keygen's unreadable one")
    same_check(b, [k["c_ed_5"], k["c_ed_6"]], "alternate", d)
    same_check(a, [k["c_ed_5"]], "alternate (ssh-keygen's unreadable KRL)", d)


# -------------------------------------------------------- odd key files

def check_odd_key_files(d, k):
    _, b = build_both(d, k, "odd", "ca_ed", "serial: 5\nkey: %s\n" % open(k["ed_2"]).read().strip())
    if b is None:
        return
    o = os.path.join(d, "odd")
    os.mkdir(o)
    ed2 = open(k["ed_2"]).read().split()
    c5 = open(k["c_ed_5"]).read().split()

    def w(name, text, mode="w"):
        with open(os.path.join(o, name), mode) as f:
            f.write(text)
        return "odd/" + name

    files = [
        w("nocomment.pub", "%s %s\n" % (ed2[0], ed2[1])),
        w("crlf.pub", "%s %s  spaced comment  \r\n" % (ed2[0], ed2[1])),
        w("tab.pub", "%s\t%s\ttabbed\n" % (c5[0], c5[1])),
        w("several.pub", open(k["ed_3"]).read() + open(k["c_ed_5"]).read()),
        w("garbage-first.pub", "# comment\n\n   not a key\nssh-ed25519 AAAA broken\n" + open(k["c_ed_5"]).read()),
        w("no-newline.pub", "%s %s" % (ed2[0], ed2[1])),
        w("options.pub", "restrict " + open(k["ed_2"]).read()),
        w("utf8.pub", "%s %s caf\xc3\xa9 \x01\n" % (ed2[0], ed2[1]), "w"),
        w("empty.pub", ""),
    ]
    shutil.copy(os.path.join(d, "ed_4"), os.path.join(o, "priv"))
    shutil.copy(k["ed_4"], os.path.join(o, "priv.pub"))
    files.append("odd/priv")
    os.mkdir(os.path.join(o, "folder"))
    for f in files:
        same_check(b, [f], "odd key file " + f, d)
    same_check(b, ["odd/folder"], "a folder as key file", d)
    same_check(b, ["odd/missing.pub"], "a missing key file", d)
    # ssh-keygen dies at the missing file; what its stdio had buffered is lost.
    same_check(b, ["odd/crlf.pub", "odd/missing.pub", "odd/nocomment.pub"], "a missing file in the middle", d)
    same_check(b, [], "no key files", d)
    same_check("odd/none.krl", [files[0]], "a missing KRL", d)
    same_check("odd/folder", [files[0]], "a folder as KRL", d)
    same_check(files[0], [files[0]], "a key file as KRL", d)
    same_check("odd/empty.pub", [files[0]], "an empty KRL", d)


# ---------------------------------------------------------- odd KRLs

def s(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def u64(v):
    return struct.pack(">Q", v)


def header(version=1, comment=b""):
    return b"SSHKRL\n\0" + struct.pack(">I", version) + u64(5) + u64(6) + u64(0) + s(b"") + s(comment)


def sec(t, body):
    return bytes([t]) + s(body)


def certsec(ca, subs):
    return sec(1, s(ca) + s(b"") + b"".join(bytes([t]) + s(b) for t, b in subs))


def crafted_krls(k):
    ca = base64.b64decode(open(k["ca_ed"]).read().split()[1])
    rsa_ca = base64.b64decode(open(k["ca_rsa"]).read().split()[1])
    cert_as_ca = base64.b64decode(open(k["c_ed_6"]).read().split()[1])
    cases = {
        "serial0_list": header() + certsec(ca, [(0x20, u64(0))]),
        "range_reversed": header() + certsec(ca, [(0x21, u64(9) + u64(5))]),
        "range_from_0": header() + certsec(ca, [(0x21, u64(0) + u64(5))]),
        "range_left_over": header() + certsec(ca, [(0x21, u64(1) + u64(5) + b"x")]),
        "list_short": header() + certsec(ca, [(0x20, u64(7) + b"abc")]),
        "unsorted_overlapping": header() + certsec(ca, [(0x20, u64(9) + u64(5) + u64(9)), (0x21, u64(4) + u64(6)),
                                                        (0x22, u64(3) + s(b"\x05"))]),
        "keyid_nul": header() + certsec(ca, [(0x23, s(b"a\0b"))]),
        "keyid_trailing_nul": header() + certsec(ca, [(0x23, s(b"alice-5\0"))]),
        "keyid_empty": header() + certsec(ca, [(0x23, s(b""))]),
        "unknown_subsection": header() + certsec(ca, [(0x39, b"")]),
        "section_255": header() + sec(255, b""),
        "section_66": header() + sec(66, b"x"),
        "explicit_blobs": header() + sec(2, s(b"") + s(b"garbage")),
        "sha1_bad_length": header() + sec(3, s(b"x" * 19)),
        "sha256_bad_length": header() + sec(5, s(b"x" * 31)),
        "bitmap_wraps": header() + certsec(ca, [(0x22, u64(2**64 - 2) + s(b"\x07"))]),
        "bitmap_top": header() + certsec(ca, [(0x22, u64(2**64 - 2) + s(b"\x03"))]),
        "bitmap_from_0": header() + certsec(ca, [(0x22, u64(0) + s(b"\x03"))]),
        "bitmap_from_0_unset": header() + certsec(ca, [(0x22, u64(0) + s(b"\x06"))]),
        "bitmap_negative": header() + certsec(ca, [(0x22, u64(5) + s(b"\x80"))]),
        "bitmap_empty": header() + certsec(ca, [(0x22, u64(5) + s(b""))]),
        "bitmap_too_big": header() + certsec(ca, [(0x22, u64(5) + s(b"\x01" + b"\0" * 2048))]),
        "bitmap_largest": header() + certsec(ca, [(0x22, u64(1) + s(b"\0" + b"\x80" + b"\0" * 2047))]),
        "comment_nul": header(comment=b"a\0b"),
        "comment_trailing_nul": header(comment=b"hi\0"),
        "format_2": header(version=2),
        "ca_garbage": header() + certsec(b"garbage", [(0x20, u64(5))]),
        "ca_trailing_byte": header() + certsec(ca + b"\0", [(0x20, u64(5))]),
        "ca_is_certificate": header() + certsec(cert_as_ca, [(0x20, u64(5))]),
        "wildcard_serial": header() + certsec(b"", [(0x20, u64(5))]),
        "two_sections_one_ca": header() + certsec(ca, [(0x20, u64(5))]) + certsec(ca, [(0x23, s(b"bob-6"))]),
        "rsa_ca": header() + certsec(rsa_ca, [(0x20, u64(7))]),
        "huge_length": header() + bytes([1]) + struct.pack(">I", 0x7FFFFFFF),
        "empty_cert_section": header() + sec(1, s(ca) + s(b"")),
        "no_reserved": header() + sec(1, s(ca)),
        "magic_only": b"SSHKRL\n\0",
        "trailing_byte": header() + b"\x01",
    }
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives import serialization
    except ImportError:
        print("  (python3-cryptography is missing: no signed KRLs in this run)")
        return cases
    keys = [Ed25519PrivateKey.generate() for _ in range(2)]

    def pub(key):
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return s(b"ssh-ed25519") + s(raw)

    def signed(data, key, corrupt=False):
        data = data + bytes([4]) + s(pub(key))
        sig = key.sign(data)
        if corrupt:
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        return data + s(s(b"ssh-ed25519") + s(sig))

    body = header() + certsec(ca, [(0x20, u64(5))])
    cases.update({
        "signed": signed(body, keys[0]),
        "signed_twice": signed(signed(body, keys[0]), keys[1]),
        "signed_by_one_key_twice": signed(signed(body, keys[0]), keys[0]),
        "signed_bad": signed(body, keys[0], True),
        "signed_then_more": signed(body, keys[0]) + certsec(ca, [(0x20, u64(6))]),
        "signed_by_revoked_key": signed(header() + sec(2, s(pub(keys[0]))), keys[0]),
        "signed_one_revoked": signed(signed(header() + sec(2, s(pub(keys[0]))), keys[0]), keys[1]),
        "signature_missing": body + bytes([4]) + s(pub(keys[0])),
        "signature_empty": body + bytes([4]) + s(pub(keys[0])) + s(b""),
        "signature_wrong_algorithm": body + bytes([4]) + s(pub(keys[0])) + s(s(b"ssh-rsa") + s(b"x" * 64)),
        "signing_key_garbage": body + bytes([4]) + s(b"abcd") + s(b"x"),
    })
    return cases


def mutate(rng, data):
    data = bytearray(data)
    how = rng.randrange(5)
    if how == 0 and data:
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif how == 1 and data:
        del data[rng.randrange(len(data)):]
    elif how == 2:
        at = rng.randrange(len(data) + 1)
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
    elif how == 3 and len(data) > 44:
        # a byte of a length or a serial, set to something striking
        data[rng.randrange(44, len(data))] = rng.choice([0, 1, 0x7f, 0x80, 0xff, 0x20, 0x21, 0x22, 0x23])
    else:
        data += data[44:]  # every section twice
    return bytes(data)


def check_odd_krls(d, k):
    o = os.path.join(d, "crafted")
    os.mkdir(o)
    subjects = [os.path.relpath(k[n], d) for n in ("c_ed_5", "c_ed_6", "c_ed_0", "ed_2", "ca_ed", "c_rsa_7")]
    for name, data in crafted_krls(k).items():
        path = os.path.join(o, name + ".krl")
        with open(path, "wb") as f:
            f.write(data)
        same_check(os.path.relpath(path, d), subjects, "crafted " + name, d)
    rng = random.Random(2026)
    sources = [p for p in sorted(os.listdir(d)) if p.endswith(".krl") and os.path.getsize(os.path.join(d, p)) < 20000]
    for i in range(int(os.environ.get("KRL_MUTATIONS", "300"))):
        src = rng.choice(sources)
        data = mutate(rng, open(os.path.join(d, src), "rb").read())
        path = os.path.join(o, "mutation-%03d.krl" % i)
        with open(path, "wb") as f:
            f.write(data)
        same_check(os.path.relpath(path, d), subjects, "mutation %d of %s" % (i, src), d)
        counts["mutations"] += 1
        os.unlink(path)


# -------------------------------------------- accounts and ca revoke

def check_accounts_and_revoke(d, k):
    conf = os.path.join(d, "keyward.conf")
    accounts = os.path.join(d, "accounts")
    ca_dir = os.path.join(d, "ca")
    out = os.path.join(d, "sshd.krl")
    store = os.path.join(accounts, "alice")
    for p in (accounts, store, os.path.join(store, "users"), os.path.join(store, "revoked")):
        os.mkdir(p, 0o755)
    os.mkdir(ca_dir, 0o700)
    shutil.copy(k["ca_ed"], os.path.join(ca_dir, "user_ca.pub"))
    shutil.copy(k["ca_rsa"], os.path.join(ca_dir, "host_ca.pub"))
    shutil.copy(k["ed_3"], os.path.join(store, "revoked", "alice@example.com+laptop+20260101+01.pub"))
    shutil.copy(k["ec_2"], os.path.join(store, "users", "alice@example.com+phone+20260101+01.pub"))
    with open(conf, "w") as f:
        json.dump({"accounts": {"source": "directory", "path": accounts}, "audit_log": os.path.join(d, "audit.log")}, f)
    base = ["--config", conf, "--ca-dir", ca_dir, "--out", out]

    rc, o, e = run([KEYWARD, "krl", "build"] + base)
    if rc != 0:
        fail("keyward krl build with accounts: rc=%d %r" % (rc, e))
        return
    rc, o, _ = run([SSH_KEYGEN, "-Q", "-f", out, k["ed_3"], k["c_ed_0"]])
    if rc != 1 or o.count(b"REVOKED") != 2:
        fail("ssh-keygen -Q does not find the account's revoked/ key (and its certificate) revoked: %r" % o)
    rc, o, _ = run([SSH_KEYGEN, "-Q", "-f", out, k["ec_2"]])
    if rc != 0:
        fail("ssh-keygen -Q finds the account's active key revoked: %r" % o)
    same_check(out, [k["ed_3"], k["ec_2"], k["c_ed_0"]], "krl build with accounts", d)

    rc, o, _ = run([KEYWARD, "--help"])
    if not any(line.split()[:1] == ["ca"] for line in o.decode().splitlines()):
        print("  NOTE: `keyward ca revoke` is not registered yet (the ca command group calls "
              "RegisterCaRevokeCommand); checked krl build only")
        return
    rc, o, e = run([KEYWARD, "ca", "revoke", "--serial", "5", "--serial", "2000-2100", "--key-id", "carol"] + base)
    if rc != 0:
        fail("keyward ca revoke: rc=%d %r" % (rc, e))
        return
    rc, o, _ = run([SSH_KEYGEN, "-Q", "-f", out] + [k[n] for n in ("c_ed_5", "c_ed_1000", "c_ed_2048", "ed_3")])
    if rc != 1 or o.count(b"REVOKED") != 4:
        fail("after ca revoke, ssh-keygen -Q does not find every revoked certificate and key: %r" % o)
    rc, o, _ = run([SSH_KEYGEN, "-Q", "-f", out, k["c_ed_6"], k["c_rsa_4000"]])
    if rc != 0:
        fail("after ca revoke, ssh-keygen -Q finds a certificate revoked that was not: %r" % o)
    rc, o, _ = run([SSH_KEYGEN, "-Q", "-l", "-f", out])
    if b"# KRL version 2" not in o:
        fail("the KRL version did not go up to 2 after ca revoke: %r" % o[:80])
    rc, o, e = run([KEYWARD, "ca", "revoke", "--host", "--key-id", "carol"] + base)
    rc, o, _ = run([SSH_KEYGEN, "-Q", "-f", out, k["c_rsa_4000"], k["c_ed_5"]])
    if o.count(b"REVOKED") != 2:
        fail("ca revoke --host did not revoke under the host CA, or lost the user CA's revocations: %r" % o)
    same_check(out, [k[n] for n in sorted(k)], "after ca revoke", d)


def create_user():
    for _ in range(5):
        name = "kwkrl" + secrets.token_hex(4)
        try:
            pwd.getpwnam(name)
            continue
        except KeyError:
            pass
        p = subprocess.run(["useradd", "-m", "-s", "/usr/sbin/nologin", "-c", "keyward krl test", name],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode == 0:
            return name
        if p.returncode == 10:  # the password file is locked by someone else
            time.sleep(0.5)
            continue
        raise RuntimeError("useradd failed: %s" % p.stderr.decode(errors="replace"))
    raise RuntimeError("useradd kept failing")


def remove_user(name):
    try:
        home = pwd.getpwnam(name).pw_dir
    except KeyError:
        return
    for _ in range(10):
        p = subprocess.run(["userdel", "-r", name], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode in (0, 6, 12):
            break
        time.sleep(0.5)
    if home.startswith("/home/kwkrl") and os.path.isdir(home):
        shutil.rmtree(home, ignore_errors=True)
    try:
        grp.getgrnam(name)
        subprocess.run(["groupdel", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except KeyError:
        pass


def check_passwd_accounts(d, k):
    if os.geteuid() != 0 or not shutil.which("useradd"):
        print("  NOTE: not root: the system-user part (a child dropping to the user) is not run")
        return
    name = create_user()
    try:
        u = pwd.getpwnam(name)
        store = os.path.join(u.pw_dir, ".ssh")
        for p in (store, os.path.join(store, "users"), os.path.join(store, "revoked")):
            os.makedirs(p, exist_ok=True)
            os.chmod(p, 0o755 if p != store else 0o700)
            os.chown(p, u.pw_uid, u.pw_gid)
        key = os.path.join(store, "revoked", name + "@example.com+laptop+20260101+01.pub")
        shutil.copy(k["rsa_1"], key)
        os.chown(key, u.pw_uid, u.pw_gid)
        os.symlink("/etc/shadow", os.path.join(store, "revoked", "planted.pub"))
        conf = os.path.join(d, "passwd.conf")
        with open(conf, "w") as f:
            json.dump({"store": "%h/.ssh", "audit_log": os.path.join(d, "audit.log")}, f)
        out = os.path.join(d, "passwd.krl")
        rc, o, e = run([KEYWARD, "krl", "build", "--config", conf, "--ca-dir", os.path.join(d, "no-ca"), "--out", out])
        if rc != 0:
            fail("krl build with system users: rc=%d %r" % (rc, e))
            return
        if b"planted.pub" not in e:
            fail("the symlink planted in revoked/ was not reported: %r" % e)
        rc, o, _ = run([SSH_KEYGEN, "-Q", "-f", out, k["rsa_1"], k["c_rsa_7"], k["ed_2"]])
        if o.count(b"REVOKED") != 2 or b"ed_2.pub (ed_2@example): ok" not in o:
            fail("ssh-keygen -Q does not find the system user's revoked key revoked: %r" % o)
    finally:
        remove_user(name)


def main():
    if not KEYWARD or not os.access(KEYWARD, os.X_OK):
        print("KEYWARD_BIN is not set to the keyward binary", file=sys.stderr)
        return 2
    if not SSH_KEYGEN:
        print("ssh-keygen is not installed", file=sys.stderr)
        return 2
    d = tempfile.mkdtemp(prefix="keyward-krl-e2e-")
    try:
        os.chmod(d, 0o755)
        with open(os.path.join(d, "empty.conf"), "w") as f:
            f.write("{}\n")
        k = make_keys(d)
        print("spec files, built by both tools:")
        check_specs(d, k)
        check_oversized_bitmap(d, k)
        check_odd_key_files(d, k)
        check_odd_krls(d, k)
        check_accounts_and_revoke(d, k)
        check_passwd_accounts(d, k)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("%d side-by-side runs (%d KRLs built, %d random mutations): %d differences"
          % (counts["runs"], counts["krls"], counts["mutations"], len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
