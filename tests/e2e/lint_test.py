#!/usr/bin/env python3
"""keyward lint: exit status, "FILE:LINE: reason" lines, warnings, --json.

  - a clean authorized_keys file (every option sshd knows, CRLF lines,
    comments, blank lines) exits 0 and prints nothing on stdout;
  - a file with broken lines exits 1 and prints one "FILE:LINE: reason" line
    for each broken line, and nothing for the good ones;
  - a 1024-bit RSA key, a DSA key, the same key twice, an expired key and a
    certificate without cert-authority are warnings ("FILE:LINE: warning:"),
    which leave the exit status at 0;
  - --json has the documented structure and agrees with the text output;
  - for lines without options, lint refuses exactly the lines ssh-keygen -l
    cannot read (the key parser is the one sshd uses for authorized_keys).

Environment: KEYWARD_BIN (required). Exits non-zero on failure.
"""

import base64
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

KEYWARD = os.environ.get("KEYWARD_BIN", "")
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


def run(argv, stdin_bytes=b""):
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    p = subprocess.run(argv, input=stdin_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
    return p.returncode, p.stdout, p.stderr


def lint(path, *extra, stdin_bytes=b""):
    return run([KEYWARD, "lint"] + list(extra) + [path], stdin_bytes)


def make_key(tmp, name, *args):
    path = os.path.join(tmp, name)
    rc, _, err = run([SSH_KEYGEN, "-q", "-N", "", "-C", name + "@lint-test", "-f", path] + list(args))
    if rc != 0:
        return None
    with open(path + ".pub", "rb") as f:
        return f.read().rstrip(b"\n")


class Fresh:
    """Makes a new key for every call, so that no two lines of a file hold
    the same key by accident (lint warns about duplicates)."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.n = 0

    def __call__(self, *args):
        self.n += 1
        line = make_key(self.tmp, "fresh%d" % self.n, *args)
        if line is None:
            raise RuntimeError("ssh-keygen %s failed" % " ".join(args))
        return fields(line)


def fields(line):
    parts = line.split(b" ", 2)
    return parts[0], parts[1], (parts[2] if len(parts) > 2 else b"")


def write(tmp, name, lines, ending=b"\n"):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(ending.join(lines) + ending)
    return path


PROBLEM = re.compile(rb"^(.*?):(\d+): (warning: )?(.+)$")


def parse_problems(out, name):
    """{line: [(is_warning, reason)]} from lint's stdout; anything else on
    stdout is a failure."""
    problems = {}
    for raw in out.split(b"\n"):
        if not raw:
            continue
        m = PROBLEM.match(raw)
        if not check(m is not None and m.group(1) == name.encode(), "unexpected stdout line %r" % raw):
            continue
        problems.setdefault(int(m.group(2)), []).append((m.group(3) is not None, m.group(4).decode(errors="replace")))
    return problems


def test_clean_file(tmp, fresh):
    ed = lambda: fresh("-t", "ed25519")
    ec = lambda: fresh("-t", "ecdsa", "-b", "384")
    rsa = lambda: fresh("-t", "rsa", "-b", "2048")
    lines = [b"# a clean authorized_keys file", b""]

    def add(prefix, k, suffix=b"", sep=b" "):
        lines.append(prefix + k[0] + sep + k[1] + suffix)

    add(b"", ed(), b" plain")
    add(b"restrict ", rsa())
    add(b'command="a \\"b\\" c",no-pty ', ec(), b" with options")
    add(b'from="10.0.0.0/8,!10.1.0.0/16",environment="A=b c" ', ed(), sep=b"   ")
    add(b'permitopen="host:22",permitopen="[::1]:8080",expiry-time="20990101" ', rsa(), sep=b"\t")
    add(b'cert-authority,principals="alice,bob" ', ec(), b" a CA")
    add(b"NO-PTY,No-Agent-Forwarding,no-X11-forwarding,no-port-forwarding,no-user-rc ", ed())
    add(b"restrict,pty,port-forwarding,agent-forwarding,x11-forwarding,user-rc,no-touch-required,"
        b"verify-required ", ec())
    add(b'tunnel="0",permitlisten="8080",permitlisten="localhost:9090" ', rsa())
    add(b"   ", ed(), b" leading blanks")
    lines.append(b"\t# indented comment")
    r = rsa()
    lines.append(b"rsa-sha2-512 " + r[1] + b" a signature name as type, as OpenSSH 9.2 accepts")
    for ending, name in ((b"\n", "clean"), (b"\r\n", "clean_crlf")):
        path = write(tmp, name, lines, ending)
        rc, out, err = lint(path)
        check(rc == 0, "%s: exit status %d, want 0; stdout:\n%s" % (name, rc, out.decode(errors="replace")))
        check(out == b"", "%s: stdout not empty:\n%s" % (name, out.decode(errors="replace")))
        check(b"0 errors, 0 warnings" in err, "%s: summary %r" % (name, err))
        check(re.search(rb": 11 keys,", err) is not None, "%s: summary does not count 11 keys: %r" % (name, err))


def blob_with(parts):
    return base64.b64encode(b"".join(struct.pack(">I", len(p)) + p for p in parts))


def test_broken_file(tmp, keys, fresh):
    ed = fields(keys["ed25519"])
    rsa = fields(keys["rsa3072"])
    ec = fields(keys["ecdsa"])
    assert ec[1].endswith(b"=")
    broken = [
        (ed[0] + b" " + ed[1][:-7] + b" truncated base64", "bad_base64"),
        (ed[0] + b" " + ed[1][:-8] + b" truncated blob, valid base64", "truncated"),
        (ec[0] + b" " + ec[1].rstrip(b"=") + b" padding removed", "bad_base64"),
        (ed[0] + b" " + rsa[1] + b" type on the line is not the key's", "type_mismatch"),
        (b"ssh-ed448 " + ed[1] + b" no such key type", "unknown_key_type"),
        (b'command="never closed ' + ed[0] + b" " + ed[1], "unbalanced_quotes"),
        (b'env="HOME=/x" ' + ed[0] + b" " + ed[1] + b" Go's env= is not an OpenSSH option", "unknown_option"),
        (b"no-pty, " + ed[0] + b" " + ed[1] + b" trailing comma", "unexpected_end"),
        (b'permitopen="host" ' + ed[0] + b" " + ed[1] + b" no port", "bad_option_value"),
        (b'expiry-time="2099" ' + ed[0] + b" " + ed[1], "bad_option_value"),
        (b"from=10.0.0.0/8 " + ed[0] + b" " + ed[1] + b" unquoted value", "bad_quoting"),
        (b'command="a",command="b" ' + ed[0] + b" " + ed[1], "duplicate_option"),
        (b"2048 35 1234567890 ssh1@host", None),
        (b"no-pty " + ed[1] + b" option then base64 without type", None),
        (ed[0] + b" " + blob_with([b"ssh-ed25519", b"\x01" * 31]) + b" 31-byte Ed25519 key", "invalid_key"),
        (ed[0], None),
        (b"restrict", None),
    ]
    def good():
        k = fresh("-t", "ed25519")
        return k[0] + b" " + k[1] + b" good"

    lines = [b"# broken lines between good ones", good()]
    want = {}
    for text, code in broken:
        lines.append(text)
        want[len(lines)] = code
        lines.append(good())
    path = write(tmp, "broken", lines)
    rc, out, err = lint(path)
    check(rc == 1, "broken: exit status %d, want 1" % rc)
    problems = parse_problems(out, path)
    check(set(problems) == set(want), "broken: lint named lines %s, broken lines are %s\n%s"
          % (sorted(problems), sorted(want), out.decode(errors="replace")))
    for number in want:
        for is_warning, reason in problems.get(number, []):
            check(not is_warning, "broken: line %d reported as a warning: %s" % (number, reason))
            check(len(reason) > 15, "broken: line %d reason too short: %r" % (number, reason))
    check(b"%d errors" % len(want) in err, "broken: summary %r" % err)

    rc, out, _ = lint(path, "--json")
    doc = json.loads(out)
    codes = {p["line"]: p["code"] for p in doc["problems"]}
    for number, code in want.items():
        if code is not None:
            check(codes.get(number) == code, "broken --json: line %d code %r, want %r" % (number, codes.get(number), code))
    check(rc == 1 and doc["ok"] is False, "broken --json: exit %d ok %r" % (rc, doc["ok"]))

    # Through standard input the file is called (stdin).
    with open(path, "rb") as f:
        data = f.read()
    rc, out, _ = lint("-", stdin_bytes=data)
    check(rc == 1, "broken via stdin: exit status %d" % rc)
    check(set(parse_problems(out, "(stdin)")) == set(want), "broken via stdin: wrong lines:\n%s" % out.decode())


def test_warnings(tmp, keys):
    ed, ed2 = fields(keys["ed25519"]), fields(keys["ed25519_b"])
    lines = [
        ed[0] + b" " + ed[1] + b" first",                                     # 1
        keys["rsa1024"],                                                      # 2 weak RSA
        ed2[0] + b" " + ed2[1] + b" fine",                                    # 3
        b"no-pty " + ed[0] + b" " + ed[1] + b" same key again",               # 4 duplicate of 1
        b'expiry-time="20000101" ' + ed2[0] + b" " + ed2[1] + b" expired",    # 5 expired (and duplicate of 3)
        b'expiry-time="20990101" ' + keys["ecdsa"],                           # 6 fine
        keys["cert"],                                                         # 7 certificate line
    ]
    want = {2: {"weak_key"}, 4: {"duplicate_key"}, 5: {"expired", "duplicate_key"}, 7: {"certificate_line"}}
    if "dsa" in keys:
        lines.append(keys["dsa"])                                             # 8 DSA
        want[8] = {"weak_key"}
    else:
        print("note: this ssh-keygen cannot make DSA keys; the DSA warning is not tested")
    path = write(tmp, "warnings", lines)
    rc, out, err = lint(path)
    check(rc == 0, "warnings: exit status %d, want 0 (warnings only)\n%s" % (rc, out.decode(errors="replace")))
    problems = parse_problems(out, path)
    check(set(problems) == set(want), "warnings: lint named lines %s, want %s\n%s"
          % (sorted(problems), sorted(want), out.decode(errors="replace")))
    for number, reasons in problems.items():
        for is_warning, reason in reasons:
            check(is_warning, "warnings: line %d is an error, want a warning: %s" % (number, reason))
    dup = " ".join(r for _, r in problems.get(4, []))
    check("line 1" in dup, "warnings: the duplicate on line 4 does not name line 1: %r" % dup)
    check("1024" in " ".join(r for _, r in problems.get(2, [])), "warnings: the weak RSA warning does not say 1024")

    rc, out, _ = lint(path, "--json")
    doc = json.loads(out)
    got = {}
    for p in doc["problems"]:
        got.setdefault(p["line"], set()).add(p["code"])
        check(p["severity"] == "warning", "warnings --json: %r is not a warning" % p)
    check(got == want, "warnings --json: codes %s, want %s" % (got, want))
    check(doc["ok"] is True and doc["errors"] == 0 and doc["warnings"] == sum(len(v) for v in want.values()),
          "warnings --json: counts %r" % {k: doc[k] for k in ("ok", "errors", "warnings")})


def test_json_structure(tmp, keys):
    ed = fields(keys["ed25519"])
    lines = [b"# x", ed[0] + b" " + ed[1] + b" a", b"garbage line", b"", keys["rsa1024"]]
    path = write(tmp, "mixed", lines)
    rc, out, err = lint(path, "--json")
    try:
        doc = json.loads(out)
    except ValueError as e:
        check(False, "--json does not parse: %s: %r" % (e, out[:300]))
        return
    expected_types = {"file": str, "lines": int, "keys": int, "errors": int, "warnings": int, "ok": bool,
                      "problems": list}
    for k, t in expected_types.items():
        check(isinstance(doc.get(k), t), "--json: %r is %r, want %s" % (k, doc.get(k), t.__name__))
    check(set(doc) == set(expected_types), "--json: keys %s" % sorted(doc))
    check(doc["file"] == path and doc["lines"] == 5 and doc["keys"] == 2, "--json: header %r" % doc)
    check(doc["errors"] == 1 and doc["warnings"] == 1 and doc["ok"] is False, "--json: counts %r" % doc)
    for p in doc["problems"]:
        check(set(p) == {"line", "severity", "code", "message"}, "--json problem keys %s" % sorted(p))
        check(p["severity"] in ("error", "warning") and isinstance(p["line"], int) and p["code"] and p["message"],
              "--json problem %r" % p)
    check([(p["line"], p["severity"]) for p in doc["problems"]] == [(3, "error"), (5, "warning")],
          "--json problems %r" % doc["problems"])
    check(rc == 1, "--json: exit status %d, want 1" % rc)
    # The text output says the same.
    rc2, out2, _ = lint(path)
    problems = parse_problems(out2, path)
    check(sorted(problems) == [3, 5] and rc2 == rc, "text output disagrees with --json: %r" % out2)


def test_agrees_with_ssh_keygen_on_bare_keys(tmp, keys):
    """For lines without options, sshd and ssh-keygen use the same reader
    (sshkey_read), so lint must refuse exactly what ssh-keygen -l refuses."""
    ed, rsa, ec = fields(keys["ed25519"]), fields(keys["rsa3072"]), fields(keys["ecdsa"])
    cert = fields(keys["cert"])
    candidates = [
        ed[0] + b" " + ed[1],
        ed[0] + b" " + ed[1][:-4],
        ed[0] + b" " + ed[1] + b"=",
        ed[0] + b" " + ed[1][:10] + b" " + ed[1][10:],
        ed[0] + b" " + ed[1][:10] + b"\r" + ed[1][10:],
        ed[0] + b" " + ed[1] + b"\r",
        rsa[0] + b" " + ed[1],
        b"rsa-sha2-256 " + rsa[1],
        b"rsa-sha2-512 " + rsa[1] + b" c",
        b"ssh-rsa-cert-v01@openssh.com " + rsa[1],
        b"ecdsa-sha2-nistp384 " + ec[1],
        b"ecdsa-sha2-nistp256 " + ec[1],
        b"ssh-ed25519-cert-v01@openssh.com " + ed[1],
        b"ssh-ed25519 " + cert[1],
        cert[0] + b" " + cert[1],
        cert[0] + b" " + cert[1][:-40] + b"A" * 40,
        b"ssh-ed25519 " + blob_with([b"ssh-ed25519", b"\x07" * 33]),
        b"ssh-ed25519 " + blob_with([b"ssh-ed25519", b"\x07" * 32]) + b" ok",
        b"ssh-ed25519 " + base64.b64encode(base64.b64decode(ed[1]) + b"\x00"),
        b"ssh-rsa " + blob_with([b"ssh-rsa", b"\x01\x00\x01", b"\x00" + b"\xc3" * 96]),
        b"ssh-rsa " + blob_with([b"ssh-rsa", b"\x01\x00\x01", b"\x00" + b"\xc3" * 128]),
        b"sk-ssh-ed25519@openssh.com " + blob_with([b"sk-ssh-ed25519@openssh.com", b"\x07" * 32, b"ssh:"]),
        b"sk-ssh-ed25519@openssh.com " + blob_with([b"sk-ssh-ed25519@openssh.com", b"\x07" * 32]),
    ]
    path = write(tmp, "bare", candidates)
    rc, out, _ = lint(path)
    problems = parse_problems(out, path)
    for number, line in enumerate(candidates, start=1):
        one = write(tmp, "one", [line])
        k_rc, _, _ = run([SSH_KEYGEN, "-l", "-f", one])
        errors = [r for w, r in problems.get(number, []) if not w]
        check((k_rc == 0) == (not errors),
              "bare line %d: ssh-keygen %s it, lint %s it (%s): %r"
              % (number, "reads" if k_rc == 0 else "refuses", "refuses" if errors else "accepts",
                 "; ".join(errors), line[:100]))


def test_missing_file(tmp):
    rc, out, err = lint(os.path.join(tmp, "no-such-file"))
    check(rc == 2, "missing file: exit status %d, want 2" % rc)
    check(b"no-such-file" in err and out == b"", "missing file: stderr %r stdout %r" % (err, out))


def main():
    if not KEYWARD or not os.access(KEYWARD, os.X_OK):
        print("KEYWARD_BIN must name the keyward binary", file=sys.stderr)
        return 2
    if not SSH_KEYGEN:
        print("ssh-keygen is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="keyward-lint-") as tmp:
        keys = {
            "ed25519": make_key(tmp, "ed25519", "-t", "ed25519"),
            "ed25519_b": make_key(tmp, "ed25519_b", "-t", "ed25519"),
            "rsa1024": make_key(tmp, "rsa1024", "-t", "rsa", "-b", "1024"),
            "rsa3072": make_key(tmp, "rsa3072", "-t", "rsa", "-b", "3072"),
            "ecdsa": make_key(tmp, "ecdsa", "-t", "ecdsa", "-b", "256"),
            "ca": make_key(tmp, "ca", "-t", "ed25519"),
        }
        dsa = make_key(tmp, "dsa", "-t", "dsa")
        if dsa is not None:
            keys["dsa"] = dsa
        for name, value in keys.items():
            if value is None:
                print("cannot make the %s key" % name, file=sys.stderr)
                return 1
        make_key(tmp, "certified", "-t", "ed25519")
        rc, _, err = run([SSH_KEYGEN, "-q", "-s", os.path.join(tmp, "ca"), "-I", "id", "-n", "alice",
                          os.path.join(tmp, "certified.pub")])
        if rc != 0:
            print("cannot sign a certificate: %s" % err.decode(errors="replace"), file=sys.stderr)
            return 1
        with open(os.path.join(tmp, "certified-cert.pub"), "rb") as f:
            keys["cert"] = f.read().rstrip(b"\n")

        fresh = Fresh(tmp)
        test_clean_file(tmp, fresh)
        test_broken_file(tmp, keys, fresh)
        test_warnings(tmp, keys)
        test_json_structure(tmp, keys)
        test_agrees_with_ssh_keygen_on_bare_keys(tmp, keys)
        test_missing_file(tmp)

    print("%d checks, %d failed" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
