#!/usr/bin/env python3
"""Writes the seed corpora and dictionaries of the fuzz targets.

    tests/fuzz/make_seeds.py [CONFORMANCE_DIR]

CONFORMANCE_DIR defaults to $KEYWARD_CONFORMANCE_DIR, then to
../shared/conformance beside the repository. The output is committed, so
this only needs to run again when the sources change:

  sources   every *.pub and *-cert.pub of openssh/sshkey/, every *.cert of
            openssh/authopt/, and tests/fuzz/seed-keys/*.pub (keys and
            certificates made with ssh-keygen for types and CA signature
            algorithms the OpenSSH test data lacks: ECDSA P-384/P-521 CAs,
            rsa-sha2-256, a host certificate, a 64-bit serial).
  key_fuzz  blob-<source>: the decoded key blob, whole;
            text-<source>: the line of the file, as ReadKeyText() reads it.
  cert_fuzz body-<source>: a certificate blob without its leading type
            string, since cert_fuzz prepends a type string itself.
  *.dict    libFuzzer dictionaries: type names, curve names, certificate
            option names, as text and as SSH strings (and their base64, for
            text input).
"""

import base64
import os
import pathlib
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent

KEY_TYPES = [
    "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com",
    "sk-ssh-ed25519@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com",
    "ssh-rsa", "rsa-sha2-256", "rsa-sha2-512", "ssh-dss",
    "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com", "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-rsa-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com", "ssh-dss-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ssh-mldsa44-ed25519@openssh.com", "ssh-mldsa44-ed25519-cert-v01@openssh.com",
]
CURVES = ["nistp256", "nistp384", "nistp521"]
CERT_OPTIONS = [
    "force-command", "source-address", "verify-required", "no-touch-required",
    "permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding",
    "permit-pty", "permit-user-rc", "ssh:", "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
]


def ssh_string(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def dict_entry(b: bytes) -> str:
    out = []
    for c in b:
        if 0x20 <= c < 0x7F and c not in (ord('"'), ord("\\")):
            out.append(chr(c))
        else:
            out.append("\\x%02X" % c)
    return '"' + "".join(out) + '"'


def write_dict(path: pathlib.Path, entries):
    seen, lines = set(), ["# libFuzzer dictionary written by make_seeds.py; do not edit."]
    for e in entries:
        if e not in seen:
            seen.add(e)
            lines.append(dict_entry(e))
    path.write_text("\n".join(lines) + "\n")


def sources(conformance: pathlib.Path):
    sshkey = conformance / "openssh" / "sshkey"
    authopt = conformance / "openssh" / "authopt"
    for folder, pattern, prefix in ((sshkey, "*.pub", "sshkey-"),
                                    (authopt, "*.cert", "authopt-"),
                                    (HERE / "seed-keys", "*.pub", "extra-")):
        # (*.param.pub are hex numbers, not keys)
        files = sorted(f for f in folder.glob(pattern) if ".param." not in f.name)
        if not files:
            sys.exit(f"make_seeds.py: no {pattern} in {folder}")
        for f in files:
            yield prefix + f.name, f.read_bytes()


def main():
    if len(sys.argv) > 1:
        conformance = pathlib.Path(sys.argv[1])
    else:
        conformance = pathlib.Path(os.environ.get("KEYWARD_CONFORMANCE_DIR",
                                                  REPO.parent / "shared" / "conformance"))
    key_dir = HERE / "corpus" / "key_fuzz"
    cert_dir = HERE / "corpus" / "cert_fuzz"
    for d in (key_dir, cert_dir):
        d.mkdir(parents=True, exist_ok=True)
        for old in d.iterdir():
            old.unlink()

    counts = {"key": 0, "cert": 0}
    for name, data in sources(conformance):
        line = data.split(b"\n")[0].rstrip(b"\r")
        fields = line.split()
        blob = base64.b64decode(fields[1], validate=True)
        (key_dir / f"text-{name}").write_bytes(line)
        (key_dir / f"blob-{name}").write_bytes(blob)
        counts["key"] += 2
        (type_len,) = struct.unpack(">I", blob[:4])
        type_name = blob[4:4 + type_len].decode()
        if type_name.endswith("-cert-v01@openssh.com"):
            (cert_dir / f"body-{name}").write_bytes(blob[4 + type_len:])
            counts["cert"] += 1

    names = [t.encode() for t in KEY_TYPES]
    key_dict = []
    for n in names:
        key_dict += [n, ssh_string(n), n + b" ",
                     # base64 of the type string at the start of a blob
                     base64.b64encode(ssh_string(n))[:(4 + len(n)) // 3 * 4]]
    key_dict += [c.encode() for c in CURVES] + [ssh_string(c.encode()) for c in CURVES]
    key_dict += [b"-cert-v01@openssh.com", b"ssh:", ssh_string(b"ssh:"), b"\x00\x00\x00\x20", b"=="]
    write_dict(HERE / "key_fuzz.dict", key_dict)

    cert_dict = [ssh_string(n) for n in names] + [n for n in names]
    cert_dict += [ssh_string(c.encode()) for c in CURVES]
    cert_dict += [ssh_string(o.encode()) for o in CERT_OPTIONS]
    cert_dict += [b"\x00\x00\x00\x01", b"\x00\x00\x00\x02", b"\x00\x00\x00\x20",
                  b"\xff\xff\xff\xff\xff\xff\xff\xff", b"\x00\x00\x00\x00\x00\x00\x00\x00"]
    write_dict(HERE / "cert_fuzz.dict", cert_dict)
    print(f"make_seeds.py: {counts['key']} key_fuzz seeds, {counts['cert']} cert_fuzz seeds, 2 dictionaries")


if __name__ == "__main__":
    main()
