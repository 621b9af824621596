#!/usr/bin/env python3
"""keyward fingerprint must print exactly what ssh-keygen -l prints.

Generates every key type this ssh-keygen can make, certificates of each
(user and host, signed by Ed25519, RSA and ECDSA CAs, with principals,
options, validity, serial and key id), then builds files: each key and
certificate alone, an authorized_keys file with options, known_hosts lines,
awkward comments, blank and '#' lines, CRLF endings and broken lines. Adds
the public files of the conformance data when KEYWARD_CONFORMANCE_DIR is set.

For every file, under LC_ALL=C and under LANG=C.UTF-8, for SHA256 and MD5,
reading the file and reading standard input ("-"):
  - stdout must be byte for byte ssh-keygen's, and the exit status the same;
  - keyward's stderr must name (FILE:LINE:) exactly the lines ssh-keygen
    skipped;
  - --json must parse and list the same fingerprints, bits and types.

Environment: KEYWARD_BIN (the keyward binary, required),
KEYWARD_CONFORMANCE_DIR (optional). Exits non-zero on any difference and
prints a diff of each.
"""

import base64
import difflib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

KEYWARD = os.environ.get("KEYWARD_BIN", "")
CONFORMANCE = os.environ.get("KEYWARD_CONFORMANCE_DIR", "")
SSH_KEYGEN = shutil.which("ssh-keygen")

# Key types the local ssh-keygen (OpenSSH 9.2p1) does not know but keyward
# reads (OpenSSH 10's post-quantum hybrid): their files are left out of the
# comparison, since ssh-keygen 9.2 cannot be the reference for them.
NOT_IN_THIS_OPENSSH = ("ssh-mldsa44-ed25519",)

failures = []
notes = []
compared_files = 0
compared_runs = 0


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def base_env():
    env = {k: v for k, v in os.environ.items() if not (k.startswith("LC_") or k == "LANG" or k == "LANGUAGE")}
    env.setdefault("PATH", "/usr/bin:/bin")
    return env


def locale_envs():
    c = base_env()
    c["LC_ALL"] = "C"
    utf8 = base_env()
    utf8["LANG"] = "C.UTF-8"
    return [("LC_ALL=C", c), ("LANG=C.UTF-8", utf8)]


def run(argv, env=None, stdin_bytes=None, timeout=60):
    p = subprocess.run(argv, input=stdin_bytes if stdin_bytes is not None else b"",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or base_env(), timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def keygen(*args):
    rc, out, err = run([SSH_KEYGEN] + list(args))
    if rc != 0:
        raise RuntimeError("ssh-keygen %s failed (%d): %s" % (" ".join(args), rc, err.decode(errors="replace")))
    return out


def show(b):
    return [repr(line) for line in b.split(b"\n")]


def diff(a, b, name_a, name_b):
    return "\n".join(difflib.unified_diff(show(a), show(b), name_a, name_b, lineterm="", n=2))


# ------------------------------------------------------------------ keys


def generate(tmp):
    """Returns {name: public key line (bytes, no newline)} and a list of
    (name, path) of generated single-key files."""
    keys = {}
    specs = [
        ("ed25519", ["-t", "ed25519"]),
        ("ecdsa256", ["-t", "ecdsa", "-b", "256"]),
        ("ecdsa384", ["-t", "ecdsa", "-b", "384"]),
        ("ecdsa521", ["-t", "ecdsa", "-b", "521"]),
        ("rsa1024", ["-t", "rsa", "-b", "1024"]),
        ("rsa2048", ["-t", "rsa", "-b", "2048"]),
        ("rsa3072", ["-t", "rsa", "-b", "3072"]),
        ("rsa4096", ["-t", "rsa", "-b", "4096"]),
        ("dsa", ["-t", "dsa"]),
    ]
    for name, args in specs:
        path = os.path.join(tmp, name)
        rc, _, err = run([SSH_KEYGEN, "-q", "-N", "", "-C", name + "@keyward-test", "-f", path] + args)
        if rc != 0:
            notes.append("ssh-keygen cannot make %s here (%s); left out" % (name, err.decode(errors="replace").strip()))
            continue
        keys[name] = path

    cas = {}
    for name, args in [("ca_ed25519", ["-t", "ed25519"]), ("ca_rsa", ["-t", "rsa", "-b", "3072"]),
                       ("ca_ecdsa", ["-t", "ecdsa", "-b", "384"])]:
        path = os.path.join(tmp, name)
        keygen("-q", "-N", "", "-C", name, "-f", path, *args)
        cas[name] = path

    certs = []
    serial = 1
    options = [
        ["-O", "force-command=/usr/bin/printf 'a b'", "-O", "source-address=10.0.0.0/8,192.168.1.1"],
        ["-O", "no-pty", "-O", "no-port-forwarding"],
        ["-O", "clear", "-O", "permit-pty"],
        [],
    ]
    for key_name, key_path in keys.items():
        for ca_index, (ca_name, ca_path) in enumerate(cas.items()):
            for kind in ("user", "host"):
                out_base = "%s_%s_%s" % (key_name, ca_name, kind)
                pub = os.path.join(tmp, out_base + ".pub")
                shutil.copy(key_path + ".pub", pub)
                args = ["-q", "-s", ca_path, "-I", "id %s/%s \"q\"" % (key_name, kind), "-z", str(serial)]
                serial += 1
                if kind == "host":
                    args += ["-h", "-n", "host.example.com,10.0.0.1"]
                    args += ["-V", "20200101:20991231"]
                else:
                    args += ["-n", "alice,bob,root"]
                    args += options[(serial + ca_index) % len(options)]
                    args += ["-V", ["-1d:+52w", "always:forever", "20000101000000:20010101000000"][serial % 3]]
                if ca_name == "ca_rsa":
                    # 9.2 signs with rsa-sha2-512 by default; cover the others too.
                    args += ["-t", ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"][serial % 3]]
                keygen(*args, pub)
                certs.append(os.path.join(tmp, out_base + "-cert.pub"))
    return keys, cas, certs


def read_line(path):
    with open(path, "rb") as f:
        return f.read().rstrip(b"\n")


def fields(line):
    parts = line.split(b" ", 2)
    return parts[0], parts[1], (parts[2] if len(parts) > 2 else b"")


def ssh_string(b):
    return struct.pack(">I", len(b)) + b


def non_canonical_rsa(line):
    """The same RSA key with its exponent written with a redundant leading
    zero byte: OpenSSH reads it, and fingerprints the canonical form."""
    t, b64, c = fields(line)
    blob = base64.b64decode(b64)
    off = 0
    out = b""
    for _ in range(3):
        n = struct.unpack(">I", blob[off:off + 4])[0]
        field = blob[off + 4:off + 4 + n]
        out += ssh_string(b"\x00" + field if _ == 1 else field)
        off += 4 + n
    return t + b" " + base64.b64encode(out) + b" non-canonical exponent"


def broken_signature(cert_line):
    """Changes one base64 character inside the certificate's signature."""
    t, b64, c = fields(cert_line)
    i = len(b64) - 30
    ch = b"A" if b64[i:i + 1] != b"A" else b"B"
    return t + b" " + b64[:i] + ch + b64[i + 1:] + b" broken signature"


COMMENTS = [
    b"plain@host",
    b"two  spaces and\ttab",
    b"trailing blanks  \t",
    "J\u00fcrgen M\u00fcller \U0001F511 \u9375".encode(),
    "combining e\u0301 zero\u200bwidth rtl\u202eoverride".encode(),
    "c1 control \u009b csi and nbsp\u00a0".encode(),
    b"latin1 caf\xe9",
    b"invalid utf8 \xff\xfe and lone \x80 and cut \xe2\x82",
    b"control \x01\x02 esc \x1b[31mred\x1b[0m del \x7f bell \x07",
    b"vt \x0b ff \x0c cr \r inside",
    b"back\\slash C:\\Users\\x \\\"quoted\\\"",
    b"\"quoted comment\"",
    b"ssh-ed25519 looks like a key",
    b"x" * 3000,
    b"comment with nul\x00 hidden part",
    b"#not-a-comment-start-is-ok here",
]

OPTIONS = [
    b"restrict",
    b'command="a \\"b\\" c"',
    b'from="10.0.0.0/8,!10.1.0.0/16"',
    b'environment="A=b c"',
    b"no-pty",
    b'permitopen="host:22"',
    b'expiry-time="20990101"',
    b'restrict,pty,command="/bin/echo hi",no-touch-required',
    b'no-agent-forwarding,no-X11-forwarding,no-port-forwarding,no-user-rc',
    b'tunnel="0",permitlisten="localhost:8080"',
    b'"quoted opening",x',
]


def long_first_line(lines):
    """ssh-keygen keeps a comment pointer into its getline() buffer from one
    line to the next (see src/cli/fingerprint.cc); when a longer line makes
    getline() move the buffer, that pointer dangles and ssh-keygen prints
    freed memory. A first '#' line longer than any other keeps the buffer
    where it is, so that the output is defined."""
    width = max([len(x) for x in lines] + [10]) + 16
    return b"# " + b"=" * width


def build_files(tmp, keys, cas, certs):
    files = []

    def add(name, lines, ending=b"\n", final_newline=True, guard=True):
        body = list(lines)
        if guard:
            body = [long_first_line(body)] + body
        data = ending.join(body) + (ending if final_newline else b"")
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        files.append(path)

    pubs = {name: read_line(path + ".pub") for name, path in keys.items()}
    ca_pubs = {name: read_line(path + ".pub") for name, path in cas.items()}
    cert_lines = [read_line(c) for c in certs]

    # Each key and certificate alone, as ssh-keygen wrote it.
    for path in list(p + ".pub" for p in keys.values()) + list(p + ".pub" for p in cas.values()) + certs:
        files.append(path)

    # authorized_keys: every key, options in turn, with and without comments.
    ak = [b"# authorized_keys made by the keyward cross-check", b""]
    names = sorted(pubs)
    for i, name in enumerate(names):
        t, b64, c = fields(pubs[name])
        opt = OPTIONS[i % len(OPTIONS)]
        ak.append(opt + b" " + t + b" " + b64 + b" " + c)
        ak.append(t + b" " + b64)  # no comment: ssh-keygen's stale comment shows here
        ak.append(OPTIONS[(i + 3) % len(OPTIONS)] + b" " + t + b" " + b64)
        ak.append(b"   " + t + b"\t" + b64 + b"   " + COMMENTS[i % len(COMMENTS)])
    for name, line in sorted(ca_pubs.items()):
        t, b64, c = fields(line)
        ak.append(b'cert-authority,principals="alice,bob" ' + t + b" " + b64 + b" " + c)
    for line in cert_lines[::5]:
        t, b64, c = fields(line)
        ak.append(b"restrict " + t + b" " + b64 + b" " + c)
    ak.append(b"")
    ak.append(b"\t# indented comment")
    ak.append(b"   \t ")
    add("authorized_keys", ak)
    add("authorized_keys_crlf", ak, ending=b"\r\n")
    add("authorized_keys_no_final_newline", ak, final_newline=False)

    # known_hosts lines.
    ed = fields(pubs.get("ed25519", ca_pubs["ca_ed25519"]))
    rsa = fields(pubs.get("rsa2048", ca_pubs["ca_rsa"]))
    ec = fields(pubs.get("ecdsa256", ca_pubs["ca_ecdsa"]))
    kh = [
        b"host.example.com,1.2.3.4 " + ed[0] + b" " + ed[1],
        b"[host.example.com]:2222,[1.2.3.4]:2222 " + rsa[0] + b" " + rsa[1] + b" with comment",
        b"|1|JfKTdBh7rNbXkVAQCRp4OQoPfmI=|USECr3SWf1JUPsms5AqfD5QfxkM= " + ec[0] + b" " + ec[1],
        b"@cert-authority *.example.com " + ed[0] + b" " + ed[1],
        b"@revoked host.example.com " + rsa[0] + b" " + rsa[1],
        b"*.example.com,!bad.example.com " + ed[0] + b" " + ed[1] + b" wildcard",
        b"10.0.0.1 " + ed[0] + b" " + ed[1],
        b"10 " + ed[0] + b" " + ed[1] + b" number then blank is an SSH-1 bit count",
        b"0 " + ed[0] + b" " + ed[1],
        b"-5 " + ed[0] + b" " + ed[1],
        b"4294967296 " + ed[0] + b" " + ed[1],
        b"99999999999 " + ed[0] + b" " + ed[1],
        b"+0x10 " + ed[0] + b" " + ed[1],
        ed[0] + b" " + ed[1],
    ]
    add("known_hosts", kh)

    # Comments of every kind, each after a key, some after a host name.
    cm = []
    for i, comment in enumerate(COMMENTS):
        t, b64, _ = fields(pubs[names[i % len(names)]])
        cm.append(t + b" " + b64 + b" " + comment)
        cm.append(b"host" + str(i).encode() + b" " + t + b" " + b64)
        cm.append(t + b" " + b64)
    add("comments", cm)
    add("comments_crlf", cm, ending=b"\r\n")

    # Broken lines between good ones.
    t, b64, c = fields(pubs.get("ed25519", ca_pubs["ca_ed25519"]))
    rt, rb64, rc_ = fields(pubs.get("rsa2048", ca_pubs["ca_rsa"]))
    bad = [
        t + b" " + b64 + b" good first",
        t + b" " + b64[:-10] + b" truncated base64",
        t + b" " + b64.rstrip(b"=") + b" padding removed",
        t + b" " + b64 + b"== extra padding",
        t + b" " + b64[:20] + b"!" + b64[21:] + b" bad character",
        t + b" " + rb64 + b" wrong type name on the line",
        b"ssh-foo " + b64 + b" unknown type",
        b"SSH-ED25519 " + b64 + b" type in capitals",
        b"2048 35 25357846874257684387681654984561 ssh1@host",
        b"1024 65537 1234567890123 old",
        b'command="abc ' + t + b" " + b64 + b" unbalanced quote",
        b'from="a b" ' + t + b" " + b64 + b" quoted blank in options",
        b"no-pty  " + t + b" " + b64 + b" two blanks after options",
        b"no-pty\t" + t + b" " + b64 + b" tab after options",
        t + b" \t  " + b64 + b" blanks between type and base64",
        t,
        t + b" ",
        b"no-pty",
        t + b" AAAA short blob",
        b"\x0b" + t + b" " + b64 + b" vertical tab first",
        b"rsa-sha2-256 " + rb64 + b" signature name as type",
        b"rsa-sha2-512 " + rb64,
        non_canonical_rsa(pubs.get("rsa2048", ca_pubs["ca_rsa"])),
        broken_signature(cert_lines[0]),
        t + b" " + fields(cert_lines[0])[1] + b" certificate under a plain type",
        fields(cert_lines[0])[0] + b" " + b64 + b" plain key under a certificate type",
        t + b" " + b64 + b" good last",
    ]
    add("broken", bad)
    add("broken_crlf", bad, ending=b"\r\n")
    add("nothing_valid", [b"no keys here", b"2048 35 1234 x", b"# comment", b""])
    add("empty", [], final_newline=False, guard=False)

    # One line that ends with a NUL byte and more text after it.
    add("nul_bytes", [t + b" " + b64 + b" before\x00after", t + b" " + b64, b"\x00" + t + b" " + b64])
    return files


def conformance_files():
    out = []
    if not CONFORMANCE or not os.path.isdir(CONFORMANCE):
        notes.append("KEYWARD_CONFORMANCE_DIR not set: conformance files not compared")
        return out
    for root, dirs, names in os.walk(CONFORMANCE):
        dirs[:] = [d for d in dirs if d != "private"]
        for n in sorted(names):
            if not (n.endswith(".pub") or n.endswith(".cert") or n == "known_hosts"):
                continue
            path = os.path.join(root, n)
            with open(path, "rb") as f:
                head = f.read(200)
            if any(head.startswith(t.encode()) for t in NOT_IN_THIS_OPENSSH):
                continue
            out.append(path)
    return out


# ------------------------------------------------------------- comparison

_accept_cache = {}


def keygen_accepts(line, tmp):
    """Whether ssh-keygen -l reads a key from this line on its own."""
    if line in _accept_cache:
        return _accept_cache[line]
    path = os.path.join(tmp, "one-line")
    with open(path, "wb") as f:
        f.write(line + b"\n")
    rc, _, _ = run([SSH_KEYGEN, "-l", "-f", path])
    _accept_cache[line] = rc == 0
    return rc == 0


def lines_keygen_skips(data, tmp):
    skipped = set()
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if number == len(data.split(b"\n")) and raw == b"":
            break
        line = raw.split(b"\x00", 1)[0]
        cp = line.lstrip(b" \t")
        if cp == b"" or cp.startswith(b"#"):
            continue
        if not keygen_accepts(line, tmp):
            skipped.add(number)
    return skipped


LINE_REF = re.compile(rb"^(.*?):(\d+): ")


def check_file(path, tmp):
    global compared_files, compared_runs
    compared_files += 1
    with open(path, "rb") as f:
        data = f.read()
    short = os.path.relpath(path, tmp) if path.startswith(tmp) else path

    for env_name, env in locale_envs():
        for hash_args, hash_name in (([], "sha256"), (["-E", "md5"], "md5")):
            for via_stdin in (False, True):
                target = "-" if via_stdin else path
                stdin = data if via_stdin else None
                k_rc, k_out, k_err = run([SSH_KEYGEN, "-l"] + hash_args + ["-f", target], env, stdin)
                w_rc, w_out, w_err = run([KEYWARD, "fingerprint"] + hash_args + [target], env, stdin)
                compared_runs += 1
                what = "%s [%s, %s%s]" % (short, env_name, hash_name, ", stdin" if via_stdin else "")
                if w_rc < 0:
                    fail("%s: keyward died with signal %d" % (what, -w_rc))
                    continue
                if k_out != w_out:
                    fail("%s: stdout differs\n%s" % (what, diff(k_out, w_out, "ssh-keygen -l", "keyward fingerprint")))
                if k_rc != w_rc:
                    fail("%s: exit status %d, ssh-keygen's is %d" % (what, w_rc, k_rc))

    # Which lines keyward says it skipped, against what ssh-keygen skipped.
    want = lines_keygen_skips(data, tmp)
    for target, name, stdin in ((path, path, None), ("-", "(stdin)", data)):
        _, _, w_err = run([KEYWARD, "fingerprint", target], None, stdin)
        named = set()
        for line in w_err.split(b"\n"):
            m = LINE_REF.match(line)
            if m and m.group(1) == name.encode():
                named.add(int(m.group(2)))
        if named != want:
            fail("%s: keyward's stderr names lines %s, ssh-keygen skipped lines %s\n%s"
                 % (short, sorted(named), sorted(want), w_err.decode(errors="replace")[:2000]))

    # --json lists the same keys as ssh-keygen prints.
    for hash_args in ([], ["-E", "md5"]):
        k_rc, k_out, _ = run([SSH_KEYGEN, "-l"] + hash_args + ["-f", path])
        w_rc, w_out, _ = run([KEYWARD, "fingerprint", "--json"] + hash_args + [path])
        try:
            doc = json.loads(w_out)
        except ValueError as e:
            fail("%s: --json output does not parse: %s\n%r" % (short, e, w_out[:500]))
            continue
        want_keys = []
        for line in k_out.split(b"\n"):
            if not line:
                continue
            parts = line.split(b" ")
            want_keys.append((int(parts[0]), parts[1].decode(), parts[-1].decode().strip("()")))
        got_keys = [(k["bits"], k["fingerprint"], k["type"]) for k in doc.get("keys", [])]
        if got_keys != want_keys:
            fail("%s: --json keys %s, ssh-keygen %s" % (short, got_keys, want_keys))
        got_skipped = sorted(s["line"] for s in doc.get("skipped", []))
        if got_skipped != sorted(want):
            fail("%s: --json skipped %s, ssh-keygen skipped %s" % (short, got_skipped, sorted(want)))
        if w_rc != k_rc:
            fail("%s: --json exit status %d, ssh-keygen's %d" % (short, w_rc, k_rc))


def main():
    if not KEYWARD or not os.access(KEYWARD, os.X_OK):
        print("KEYWARD_BIN must name the keyward binary", file=sys.stderr)
        return 2
    if not SSH_KEYGEN:
        print("ssh-keygen is not installed", file=sys.stderr)
        return 2
    version = subprocess.run(["ssh", "-V"], stderr=subprocess.PIPE, stdout=subprocess.PIPE).stderr.decode().strip()
    with tempfile.TemporaryDirectory(prefix="keyward-fpcheck-") as tmp:
        keys, cas, certs = generate(tmp)
        files = build_files(tmp, keys, cas, certs) + conformance_files()
        for path in files:
            check_file(path, tmp)
        # A file that does not exist: same exit status, nothing on stdout.
        missing = os.path.join(tmp, "does-not-exist")
        k_rc, k_out, _ = run([SSH_KEYGEN, "-l", "-f", missing])
        w_rc, w_out, _ = run([KEYWARD, "fingerprint", missing])
        if (k_rc, k_out) != (w_rc, w_out):
            fail("missing file: keyward (%d, %r), ssh-keygen (%d, %r)" % (w_rc, w_out, k_rc, k_out))

    for n in notes:
        print("note: " + n)
    print("compared %d files, %d runs against %s" % (compared_files, compared_runs, version))
    if failures:
        print("%d differences" % len(failures), file=sys.stderr)
        return 1
    if compared_files < 50:
        print("too few files compared (%d): the test set was not built" % compared_files, file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
