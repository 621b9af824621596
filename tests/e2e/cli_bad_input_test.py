#!/usr/bin/env python3
"""Hostile and broken input on the command line: never a crash, never
accepted, always a clear error that names the line.

Each bad line is put on line 3 of its own file (after a comment and a good
key) and given to `keyward lint`, which must exit 1 (never die by a signal,
never exit 0), print "FILE:3: <reason>" and name no other line as an error.
`keyward fingerprint` reads the same files without dying and skips the line.

Then a few hundred deterministic random mutations of real key lines are
linted in one file: lint must not crash, and for lines without options it
must refuse exactly what ssh-keygen -l refuses (both read keys the way sshd
does).

Environment: KEYWARD_BIN (required). Exits non-zero on failure.
"""

import base64
import os
import random
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


def run(argv, stdin_bytes=b"", timeout=60):
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    p = subprocess.run(argv, input=stdin_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def make_key(tmp, name, *args):
    path = os.path.join(tmp, name)
    rc, _, err = run([SSH_KEYGEN, "-q", "-N", "", "-C", name, "-f", path] + list(args))
    if rc != 0:
        raise RuntimeError("ssh-keygen failed: %s" % err.decode(errors="replace"))
    with open(path + ".pub", "rb") as f:
        return f.read().rstrip(b"\n")


def s(b):
    return struct.pack(">I", len(b)) + b


def u32(n):
    return struct.pack(">I", n)


def b64(b):
    return base64.b64encode(b)


def bad_lines(keys):
    ed_t, ed_b64 = keys["ed25519"].split(b" ")[:2]
    rsa_t, rsa_b64 = keys["rsa"].split(b" ")[:2]
    ec_t, ec_b64 = keys["ecdsa"].split(b" ")[:2]
    cert_t, cert_b64 = keys["cert"].split(b" ")[:2]
    ed_raw = base64.b64decode(ed_b64)
    cert_raw = base64.b64decode(cert_b64)
    rsa_raw = base64.b64decode(rsa_b64)
    pk = ed_raw[-32:]
    mod = b"\x00" + b"\xc5" * 256
    cases = [
        # truncated base64
        ("truncated_base64_not_multiple_of_4", ed_t + b" " + ed_b64[:-3] + b" user@host"),
        ("truncated_base64_whole_quanta", ed_t + b" " + ed_b64[:-12] + b" user@host"),
        ("truncated_base64_type_only", ed_t + b" " + b64(s(b"ssh-ed25519")) + b" user@host"),
        # bad padding
        ("bad_padding_removed", ec_t + b" " + ec_b64.rstrip(b"=") + b" user@host"),
        ("bad_padding_extra", ec_t + b" " + ec_b64 + b"=" + b" user@host"),
        ("bad_padding_data_after", ec_t + b" " + ec_b64 + b"AAAA" + b" user@host"),
        ("bad_padding_nonzero_bits", ec_t + b" " + ec_b64[:-2] + b"B=" + b" user@host"),
        ("bad_base64_character", ed_t + b" " + ed_b64[:30] + b"*" + ed_b64[31:] + b" user@host"),
        # the blob's type is not the line's type
        ("blob_type_rsa_line_ed25519", ed_t + b" " + rsa_b64 + b" user@host"),
        ("blob_type_ed25519_line_rsa", rsa_t + b" " + ed_b64 + b" user@host"),
        ("blob_type_ecdsa256_line_ecdsa384", b"ecdsa-sha2-nistp384 " + ec_b64 + b" user@host"),
        ("blob_cert_line_plain", ed_t + b" " + cert_b64 + b" user@host"),
        ("blob_plain_line_cert", cert_t + b" " + ed_b64 + b" user@host"),
        ("blob_type_renamed_inside", ed_t + b" " + b64(s(b"ssh-ed25518") + s(pk)) + b" user@host"),
        # oversized length fields inside the blob
        ("length_type_0xffffffff", ed_t + b" " + b64(u32(0xffffffff) + b"ssh-ed25519" + s(pk))),
        ("length_key_0x7fffffff", ed_t + b" " + b64(s(b"ssh-ed25519") + u32(0x7fffffff) + pk)),
        ("length_key_one_more", ed_t + b" " + b64(s(b"ssh-ed25519") + u32(33) + pk)),
        ("length_rsa_modulus_huge", rsa_t + b" " + b64(s(b"ssh-rsa") + s(b"\x01\x00\x01") + u32(0x01000000) + mod)),
        ("rsa_modulus_over_16384_bits", rsa_t + b" " + b64(s(b"ssh-rsa") + s(b"\x01\x00\x01") + s(b"\x01" * 2050))),
        ("rsa_modulus_negative", rsa_t + b" " + b64(s(b"ssh-rsa") + s(b"\x01\x00\x01") + s(b"\x80" * 256))),
        ("rsa_modulus_512_bits", rsa_t + b" " + b64(s(b"ssh-rsa") + s(b"\x01\x00\x01") + s(b"\x00" + b"\xc5" * 64))),
        ("trailing_bytes_after_key", ed_t + b" " + b64(ed_raw + b"\x00\x00\x00\x00")),
        ("cert_principals_length_huge",
         cert_t + b" " + b64(cert_raw[:4 + len(cert_t) + 4 + 32 + 4 + 32 + 8 + 4 + 4 + len(b"id")] + u32(0xfffffff0))),
        ("cert_key_id_length_huge",
         cert_t + b" " + b64(cert_raw[:4 + len(cert_t) + 4 + 32 + 4 + 32 + 8 + 4] + u32(0xfffffff0))),
        ("cert_truncated_before_signature", cert_t + b" " + b64(cert_raw[:-120])),
        ("cert_signature_flipped", cert_t + b" " + b64(cert_raw[:-10] + bytes([cert_raw[-10] ^ 1]) + cert_raw[-9:])),
        ("rsa_blob_truncated_in_modulus", rsa_t + b" " + b64(rsa_raw[:200])),
        # NUL bytes
        ("nul_in_comment", ed_t + b" " + ed_b64 + b" user\x00@host"),
        ("nul_in_base64", ed_t + b" " + ed_b64[:20] + b"\x00" + ed_b64[20:]),
        ("nul_at_line_start", b"\x00" + ed_t + b" " + ed_b64),
        ("nul_in_options", b'command="a\x00b" ' + ed_t + b" " + ed_b64),
        # a 1 MiB line
        ("one_mib_comment", ed_t + b" " + ed_b64 + b" " + b"c" * (1 << 20)),
        ("one_mib_base64", ed_t + b" " + b"A" * (1 << 20)),
        ("one_mib_options", b'command="' + b"x" * (1 << 20) + b'" ' + ed_t + b" " + ed_b64),
        # unbalanced quotes
        ("unbalanced_quote_command", b'command="ls ' + ed_t + b" " + ed_b64 + b" user@host"),
        ("unbalanced_quote_escaped_end", b'command="ls\\" ' + ed_t + b" " + ed_b64 + b" user@host"),
        ("unbalanced_quote_from", b'from="10.0.0.1,no-pty ' + ed_t + b" " + ed_b64),
        # unknown options
        ("unknown_option_env", b'env="A=b" ' + ed_t + b" " + ed_b64),
        ("unknown_option_flag", b"no-such-thing " + ed_t + b" " + ed_b64),
        ("unknown_option_after_good", b"no-pty,shared-control " + ed_t + b" " + ed_b64),
        ("option_without_key_type", b"restrict " + ed_b64),
        # a key type that does not exist
        ("unknown_type_ed448", b"ssh-ed448 " + ed_b64 + b" user@host"),
        ("unknown_type_capitals", b"SSH-ED25519 " + ed_b64 + b" user@host"),
        ("unknown_type_after_options", b"restrict ssh-foo " + ed_b64 + b" user@host"),
        ("unknown_type_ssh1_line", b"2048 35 1234567890987654321 user@host"),
        ("type_without_key", ed_t),
        ("binary_garbage", bytes(range(1, 256)).replace(b"\n", b"")),
    ]
    return cases


LINT_LINE = re.compile(rb"^(.*?):(\d+): (warning: )?(.+)$")


def test_bad_lines(tmp, keys, good_line):
    for name, line in bad_lines(keys):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(b"# bad input: " + name.encode() + b"\n" + good_line + b"\n" + line + b"\n")
        rc, out, err = run([KEYWARD, "lint", path])
        if not check(rc >= 0, "%s: keyward lint died with signal %d" % (name, -rc)):
            continue
        check(rc == 1, "%s: keyward lint exit status %d, want 1\n%s" % (name, rc, out.decode(errors="replace")[:500]))
        errors = {}
        for raw in out.split(b"\n"):
            m = LINT_LINE.match(raw)
            if m and m.group(3) is None:
                errors[int(m.group(2))] = m.group(4).decode(errors="replace")
        check(list(errors) == [3], "%s: lint names error lines %s, want [3]\n%s"
              % (name, sorted(errors), out.decode(errors="replace")[:500]))
        reason = errors.get(3, "")
        check(len(reason) >= 20, "%s: reason too short to be clear: %r" % (name, reason))
        check(len(out) < 4096, "%s: lint output is %d bytes; a reason should not echo the input" % (name, len(out)))

        rc, out, err = run([KEYWARD, "lint", "--json", path])
        check(rc == 1, "%s: lint --json exit status %d" % (name, rc))

        rc, out, err = run([KEYWARD, "fingerprint", path])
        if not check(rc >= 0, "%s: keyward fingerprint died with signal %d" % (name, -rc)):
            continue
        check(rc in (0, 255), "%s: keyward fingerprint exit status %d" % (name, rc))
        check(out.count(b"\n") <= 2, "%s: fingerprint printed more keys than the file holds" % name)

        rc, out, err = run([KEYWARD, "fingerprint", "-"], stdin_bytes=line + b"\n")
        check(rc >= 0, "%s: keyward fingerprint - died with signal %d" % (name, -rc))


def mutate(rng, line):
    t, data = line.split(b" ", 1)
    raw = bytearray(base64.b64decode(data.split(b" ")[0]))
    kind = rng.randrange(6)
    if kind == 0:  # flip a bit
        i = rng.randrange(len(raw))
        raw[i] ^= 1 << rng.randrange(8)
    elif kind == 1:  # set a length-sized word to a large value
        i = rng.randrange(max(1, len(raw) - 4))
        raw[i:i + 4] = struct.pack(">I", rng.choice([0, 1, 0x7fffffff, 0xffffffff, len(raw), len(raw) - i]))
    elif kind == 2:  # truncate
        del raw[rng.randrange(len(raw)):]
    elif kind == 3:  # append bytes
        raw += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
    elif kind == 4:  # delete a run of bytes
        i = rng.randrange(len(raw))
        del raw[i:i + rng.randrange(1, 17)]
    else:  # overwrite with random bytes
        i = rng.randrange(len(raw))
        for j in range(i, min(len(raw), i + rng.randrange(1, 5))):
            raw[j] = rng.randrange(256)
    return t + b" " + base64.b64encode(bytes(raw)) + b" mutated"


def test_mutations(tmp, keys):
    rng = random.Random(20240611)
    sources = [keys[k] for k in ("ed25519", "rsa", "ecdsa", "cert", "rsa_cert")]
    lines = []
    for i in range(300):
        lines.append(mutate(rng, sources[i % len(sources)]))
    path = os.path.join(tmp, "mutations")
    with open(path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    rc, out, _ = run([KEYWARD, "lint", path])
    if not check(rc in (0, 1), "mutations: keyward lint exit status %d" % rc):
        return
    refused = set()
    for raw in out.split(b"\n"):
        m = LINT_LINE.match(raw)
        if m and m.group(3) is None:
            refused.add(int(m.group(2)))
    rc, _, _ = run([KEYWARD, "fingerprint", path])
    check(rc in (0, 255), "mutations: keyward fingerprint exit status %d" % rc)

    disagreements = 0
    one = os.path.join(tmp, "one")
    for number, line in enumerate(lines, start=1):
        with open(one, "wb") as f:
            f.write(line + b"\n")
        k_rc, _, _ = run([SSH_KEYGEN, "-l", "-f", one])
        if (k_rc == 0) != (number not in refused):
            disagreements += 1
            check(False, "mutation %d: ssh-keygen %s it, keyward lint %s it: %r"
                  % (number, "reads" if k_rc == 0 else "refuses", "refuses" if number in refused else "accepts",
                     line[:120]))
    print("mutations: %d lines, %d refused by keyward, %d disagreements with ssh-keygen"
          % (len(lines), len(refused), disagreements))
    check(len(refused) > 100, "mutations: only %d of %d mutated lines refused; the mutations are too weak"
          % (len(refused), len(lines)))


def main():
    if not KEYWARD or not os.access(KEYWARD, os.X_OK):
        print("KEYWARD_BIN must name the keyward binary", file=sys.stderr)
        return 2
    if not SSH_KEYGEN:
        print("ssh-keygen is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="keyward-badinput-") as tmp:
        keys = {
            "ed25519": make_key(tmp, "ed25519", "-t", "ed25519"),
            "rsa": make_key(tmp, "rsa", "-t", "rsa", "-b", "2048"),
            "ecdsa": make_key(tmp, "ecdsa", "-t", "ecdsa", "-b", "256"),
            "good": make_key(tmp, "good", "-t", "ed25519"),
        }
        make_key(tmp, "ca", "-t", "ed25519")
        make_key(tmp, "rsa_ca", "-t", "rsa", "-b", "2048")
        for signer, cert in (("ca", "ed25519"), ("rsa_ca", "rsa")):
            rc, _, err = run([SSH_KEYGEN, "-q", "-s", os.path.join(tmp, signer), "-I", "id", "-n", "alice,bob",
                              "-O", "force-command=/bin/true", os.path.join(tmp, cert + ".pub")])
            if rc != 0:
                print("cannot sign: %s" % err.decode(errors="replace"), file=sys.stderr)
                return 1
        with open(os.path.join(tmp, "ed25519-cert.pub"), "rb") as f:
            keys["cert"] = f.read().rstrip(b"\n")
        with open(os.path.join(tmp, "rsa-cert.pub"), "rb") as f:
            keys["rsa_cert"] = f.read().rstrip(b"\n")

        test_bad_lines(tmp, keys, keys["good"])
        test_mutations(tmp, keys)

    print("%d checks, %d failed" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
