#!/usr/bin/env python3
"""keyward's certificate authority, checked against OpenSSH's own tools.

1. `keyward ca init` for every CA type (Ed25519, ECDSA P-256/384/521, RSA),
   with and without a passphrase: `ssh-keygen -y` reads the key (and prints
   the .pub keyward wrote), `ssh-keygen -s` signs with it (the passphrase
   through SSH_ASKPASS), the key is mode 0600 in a 0700 folder, and a second
   init never replaces it. The keyward binary has no libssh in its ldd.
2. keyward signs Ed25519, ECDSA-256/384/521, RSA (and DSA when this
   ssh-keygen makes it) keys with every CA, user and host certificates,
   with every critical option and extension keyward signs: `ssh-keygen -L`
   and `keyward ca inspect` print the same bytes (under two time zones) and
   exit the same way; the Signing CA is the CA's fingerprint. Certificates
   that ssh-keygen signed with options keyward never writes (unknown
   critical options and extensions, flags with data), files with several
   certificates, comments, plain keys, stdin and a missing file are
   compared too.
3. Roles from the configuration: the principals, options, key id
   (keyward:<account>:<role>:<serial>) and the refusals.
4. Serials increase, are never 0, and survive a SIGKILL in the middle of a
   batch without reuse; issued.log and `keyward ca list` record each one.
5. Bad input: a private key, a certificate, principals with a comma or a
   space, an unknown role, a validity beyond the role's maximum, a
   source-address that is not CIDR: a clear error, and nothing signed,
   nothing recorded, no serial spent.
6. CA keys made by ssh-keygen (every type, with and without passphrase,
   openssh-key-v1, PEM and PKCS#8) and OpenSSH's test private keys
   (conformance data) load as CA keys; an RSA key below 2048 bits is refused.

Environment: KEYWARD_BIN (required), KEYWARD_CONFORMANCE_DIR (optional).
Exits non-zero on any failure.
"""

import difflib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

KEYWARD = os.environ.get("KEYWARD_BIN", "")
CONFORMANCE = os.environ.get("KEYWARD_CONFORMANCE_DIR", "")
SSH_KEYGEN = shutil.which("ssh-keygen")
PASSPHRASE = "correct horse battery staple"

failures = []
checks = 0


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)
    return cond


def env(tz="UTC"):
    e = {k: v for k, v in os.environ.items() if not (k.startswith("LC_") or k in ("LANG", "LANGUAGE", "TZ"))}
    e.setdefault("PATH", "/usr/bin:/bin")
    e["LC_ALL"] = "C"
    e["TZ"] = tz
    e.pop("SSH_CONNECTION", None)
    return e


def run(argv, stdin=b"", tz="UTC", extra_env=None, timeout=120):
    e = env(tz)
    if extra_env:
        e.update(extra_env)
    p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def keygen(*args, **kw):
    rc, out, err = run([SSH_KEYGEN] + list(args), **kw)
    if rc != 0:
        raise RuntimeError("ssh-keygen %s failed (%d): %s" % (" ".join(args), rc, err.decode(errors="replace")))
    return out


def keyward(*args, **kw):
    return run([KEYWARD] + list(args), **kw)


def diff(a, b, name_a, name_b):
    return "\n".join(difflib.unified_diff([repr(x) for x in a.split(b"\n")], [repr(x) for x in b.split(b"\n")],
                                          name_a, name_b, lineterm="", n=2))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)


def askpass(tmp):
    path = os.path.join(tmp, "askpass.sh")
    write(path, "#!/bin/sh\necho '%s'\n" % PASSPHRASE, 0o700)
    return {"SSH_ASKPASS": path, "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ""}


def fingerprint(path):
    return keygen("-l", "-f", path).split(b" ")[1].decode()


def state(ca_dir):
    """What signing changes: the counter and the log."""
    def get(name):
        p = os.path.join(ca_dir, name)
        return read(p) if os.path.exists(p) else None
    return get("serial"), get("issued.log")


def log_records(ca_dir):
    p = os.path.join(ca_dir, "issued.log")
    if not os.path.exists(p):
        return []
    return [json.loads(line) for line in read(p).decode().splitlines() if line.strip()]


def compare_inspect(path, what, stdin=False):
    """ssh-keygen -L and keyward ca inspect: same stdout, same exit status."""
    for tz in ("UTC", "America/New_York"):
        if stdin:
            data = read(path)
            k = run([SSH_KEYGEN, "-L", "-f", "-"], stdin=data, tz=tz)
            w = keyward("ca", "inspect", "-", stdin=data, tz=tz)
        else:
            k = run([SSH_KEYGEN, "-L", "-f", path], tz=tz)
            w = keyward("ca", "inspect", path, tz=tz)
        check(k[0] == w[0], "%s (TZ=%s): exit status keyward %d, ssh-keygen %d: %s" %
              (what, tz, w[0], k[0], w[2].decode(errors="replace")))
        check(k[1] == w[1], "%s (TZ=%s): keyward ca inspect differs from ssh-keygen -L:\n%s" %
              (what, tz, diff(k[1], w[1], "ssh-keygen", "keyward")))


# ------------------------------------------------------------------ 1. init


def test_init(tmp, conf):
    cas = {}
    rc, out, _ = run(["ldd", KEYWARD])
    check(b"libssh" not in out and b"libcrypto" not in out,
          "keyward must not load libssh or libcrypto dynamically:\n" + out.decode())
    passfile = os.path.join(tmp, "passphrase")
    write(passfile, PASSPHRASE + "\n", 0o600)
    ask = askpass(tmp)
    subject = os.path.join(tmp, "init-subject")
    keygen("-q", "-t", "ed25519", "-N", "", "-C", "subject", "-f", subject)
    for name, args in [("ed25519", []), ("ecdsa256", ["--type", "ecdsa"]), ("ecdsa384", ["--type", "ecdsa", "--bits", "384"]),
                       ("ecdsa521", ["--type", "ecdsa", "--bits", "521"]), ("rsa", ["--type", "rsa"])]:
        for protected in (False, True):
            label = name + ("-pw" if protected else "")
            ca_dir = os.path.join(tmp, "ca-" + label)
            extra = ["--passphrase-file", passfile] if protected else []
            rc, out, err = keyward("ca", "init", "--config", conf, "--ca-dir", ca_dir, *(args + extra))
            if not check(rc == 0, "%s: ca init failed: %s" % (label, err.decode(errors="replace"))):
                continue
            key = os.path.join(ca_dir, "user_ca")
            pub = key + ".pub"
            check(stat.S_IMODE(os.stat(ca_dir).st_mode) == 0o700, "%s: the CA folder is not 0700" % label)
            check(stat.S_IMODE(os.stat(key).st_mode) == 0o600, "%s: the CA key is not 0600" % label)
            check(b"TrustedUserCAKeys " + pub.encode() in out, "%s: init does not print the sshd_config line" % label)
            # ssh-keygen reads the private key and derives the same public key.
            y_args = ["-y", "-f", key] + (["-P", PASSPHRASE] if protected else [])
            derived = keygen(*y_args).split()[:2]
            check(derived == read(pub).split()[:2], "%s: ssh-keygen -y differs from %s" % (label, pub))
            if protected:
                rc, _, _ = run([SSH_KEYGEN, "-y", "-P", "wrong", "-f", key])
                check(rc != 0, "%s: ssh-keygen opened the key with a wrong passphrase" % label)
            # ssh-keygen signs with it, as an administrator would by hand.
            rc, _, err = run([SSH_KEYGEN, "-s", key, "-I", "by-hand", "-n", "alice", "-V", "+1h", subject + ".pub"],
                             extra_env=ask if protected else None)
            check(rc == 0, "%s: ssh-keygen -s cannot sign with keyward's CA key: %s" % (label, err.decode(errors="replace")))
            if rc == 0:
                shown = keygen("-L", "-f", subject + "-cert.pub").decode()
                check("Signing CA: " in shown and fingerprint(pub) in shown, "%s: ssh-keygen -L names another CA" % label)
            # keyward signs with it too (the passphrase again).
            rc, _, err = keyward("ca", "sign", "--config", conf, "--ca-dir", ca_dir, "-n", "alice", "-V", "+1h", "-q",
                                 *(extra + [subject + ".pub"]))
            check(rc == 0, "%s: keyward ca sign failed: %s" % (label, err.decode(errors="replace")))
            if protected:
                rc, _, err = keyward("ca", "sign", "--config", conf, "--ca-dir", ca_dir, "-n", "alice", "-V", "+1h",
                                     subject + ".pub")
                check(rc != 0 and b"passphrase" in err, "%s: signing without the passphrase: %r" % (label, err))
            # Never replaced.
            before = read(key)
            rc, _, err = keyward("ca", "init", "--config", conf, "--ca-dir", ca_dir)
            check(rc != 0 and b"already" in err and read(key) == before, "%s: a second init replaced the key" % label)
            cas[label] = ca_dir
    # A host CA beside the user CA, with the known_hosts line.
    ca_dir = cas.get("ed25519")
    if ca_dir:
        rc, out, err = keyward("ca", "init", "--host", "--type", "ecdsa", "--config", conf, "--ca-dir", ca_dir)
        if check(rc == 0, "host CA init failed: " + err.decode(errors="replace")):
            line = read(os.path.join(ca_dir, "host_ca.pub")).strip()
            check(b"@cert-authority * " + line in out, "host init does not print the @cert-authority line")
            check(read(os.path.join(ca_dir, "host_ca.pub")) != read(os.path.join(ca_dir, "user_ca.pub")),
                  "the host CA is the user CA")
    return cas


# ----------------------------------------------------------- 2. cross-check


def make_subjects(tmp):
    subjects = {}
    for name, args in [("ed25519", ["-t", "ed25519"]), ("ecdsa256", ["-t", "ecdsa", "-b", "256"]),
                       ("ecdsa384", ["-t", "ecdsa", "-b", "384"]), ("ecdsa521", ["-t", "ecdsa", "-b", "521"]),
                       ("rsa", ["-t", "rsa", "-b", "2048"]), ("dsa", ["-t", "dsa"])]:
        path = os.path.join(tmp, "subject-" + name)
        rc, _, _ = run([SSH_KEYGEN, "-q", "-N", "", "-C", name + "@keyward-test", "-f", path] + args)
        if rc == 0:
            subjects[name] = path + ".pub"
        elif name != "dsa":
            fail("ssh-keygen cannot make a %s key" % name)
    return subjects


def test_crosscheck(tmp, conf, cas, subjects):
    option_sets = [
        ("plain", []),
        ("everything", ["-O", "force-command=/usr/bin/backup --all", "-O", "source-address=10.0.0.0/8,192.0.2.1,2001:db8::/32",
                        "-O", "verify-required", "-O", "permit-pty", "-O", "permit-X11-forwarding",
                        "-O", "permit-agent-forwarding", "-O", "permit-port-forwarding", "-O", "permit-user-rc",
                        "-O", "no-touch-required"]),
        ("extension-form", ["-O", "extension:permit-pty", "-O", "clear", "-O", "permit-user-rc"]),
    ]
    n = 0
    for ca_label in ("ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa"):
        ca_dir = cas.get(ca_label)
        if not ca_dir:
            continue
        ca_pub = os.path.join(ca_dir, "user_ca.pub")
        ca_fp = fingerprint(ca_pub)
        for sname, spub in subjects.items():
            for oname, opts in option_sets:
                for host in (False, True):
                    if host and oname != "plain":
                        continue
                    what = "%s CA, %s %s cert (%s)" % (ca_label, sname, "host" if host else "user", oname)
                    cert = spub[:-4] + "-cert.pub"
                    if os.path.exists(cert):
                        os.unlink(cert)
                    args = ["ca", "sign", "--config", conf, "--ca-dir", ca_dir, "-q", "-V", "-5m:+52w",
                            "-n", "host.example.com,10.0.0.1" if host else "alice,root"]
                    if host:
                        if "ed25519" != ca_label:
                            continue  # the host CA lives beside the Ed25519 user CA
                        args.append("--host")
                        ca_fp_here = fingerprint(os.path.join(ca_dir, "host_ca.pub"))
                    else:
                        ca_fp_here = ca_fp
                    rc, _, err = keyward(*(args + opts + [spub]))
                    if not check(rc == 0, "%s: sign failed: %s" % (what, err.decode(errors="replace"))):
                        continue
                    n += 1
                    compare_inspect(cert, what)
                    shown = keygen("-L", "-f", cert).decode()
                    check("Signing CA: " in shown and ca_fp_here in shown, "%s: Signing CA is not %s" % (what, ca_fp_here))
                    check(("host certificate" if host else "user certificate") in shown, "%s: wrong type" % what)
                    # The certified key is the subject.
                    check(keygen("-l", "-f", cert).split(b" ")[1] == keygen("-l", "-f", spub).split(b" ")[1],
                          "%s: the certificate is for another key" % what)
                    if oname == "everything":
                        for needle in ("force-command /usr/bin/backup --all", "verify-required",
                                       "source-address 10.0.0.0/8,192.0.2.1,2001:db8::/32", "permit-user-rc",
                                       "no-touch-required"):
                            check(needle in shown, "%s: %s missing:\n%s" % (what, needle, shown))
    check(n >= 60, "only %d certificates were cross-checked" % n)

    # What ssh-keygen signs with options keyward never writes.
    ca_key = os.path.join(cas["ed25519"], "user_ca")
    spub = subjects["ecdsa384"]
    cert = spub[:-4] + "-cert.pub"
    variants = [
        ["-O", "critical:zz@example.com=value", "-O", "extension:foo@example.com=bar", "-O", "extension:flag@example.com"],
        ["-O", "critical:empty@example.com", "-O", "no-pty", "-O", "force-command=echo hi"],
        ["-O", "clear"],
        ["-V", "always:forever"],
        ["-V", "always:20300101"],
        ["-V", "20200101:forever"],
        ["-h", "-V", "0x1:0x2000000000"],
    ]
    for i, extra in enumerate(variants):
        args = ["-s", ca_key, "-I", "ssh-keygen signed %d" % i, "-z", str(1000 + i)]
        if "-V" not in extra:
            args += ["-V", "-1d:+1d"]
        keygen(*(args + extra + ["-n", "alice", spub]))
        compare_inspect(cert, "ssh-keygen certificate %s" % extra)
        compare_inspect(cert, "ssh-keygen certificate %s on stdin" % extra, stdin=True)

    # Several certificates, comments, blank and plain key lines in one file.
    mixed = os.path.join(tmp, "mixed.txt")
    write(mixed, b"# comment\n" + read(cert) + b"\n" + read(spub) + b"   \n\t# indented comment\n" + read(cert) +
          b"garbage line\n" + read(cert).rstrip(b"\n"))
    compare_inspect(mixed, "a mixed file")
    compare_inspect(mixed, "a mixed file on stdin", stdin=True)
    compare_inspect(spub, "a plain public key")
    compare_inspect(os.path.join(tmp, "no-such-file"), "a missing file")


# ------------------------------------------------------------------ 3. roles


def write_config(path, ca_dir, backdate=300):
    cfg = {
        "ca": {
            "dir": ca_dir,
            "backdate": backdate,
            "roles": [
                {"name": "login", "principals": ["%u"], "max_validity": "7d",
                 "extensions": ["permit-pty", "permit-agent-forwarding", "permit-port-forwarding", "permit-X11-forwarding"],
                 "accounts": ["*"]},
                {"name": "deploy", "principals": ["deploy"], "max_validity": "1d",
                 "force_command": "/usr/local/bin/deploy", "source_address": ["10.0.0.0/8"], "accounts": ["alice"]},
                {"name": "sudo", "principals": ["%u", "%u-admin"], "max_validity": "1h", "verify_required": True,
                 "extensions": ["permit-pty"], "groups": ["root"]},
            ],
        }
    }
    write(path, json.dumps(cfg, indent=2))


def test_roles(tmp, subjects):
    ca_dir = os.path.join(tmp, "ca-roles")
    conf = os.path.join(tmp, "roles.conf")
    write_config(conf, ca_dir)
    rc, _, err = keyward("ca", "init", "--config", conf)
    if not check(rc == 0, "roles: init failed: " + err.decode(errors="replace")):
        return
    spub = subjects["ed25519"]
    cert = spub[:-4] + "-cert.pub"

    rc, _, err = keyward("ca", "sign", "--config", conf, "--role", "login", "--account", "alice", spub)
    if check(rc == 0, "login role: " + err.decode(errors="replace")):
        shown = keygen("-L", "-f", cert).decode()
        serial = int(re.search(r"Serial: (\d+)", shown).group(1))
        check('Key ID: "keyward:alice:login:%d"' % serial in shown, "login: key id:\n" + shown)
        check(re.search(r"Principals: \n {16}alice\n", shown) is not None, "login: principals:\n" + shown)
        check("Critical Options: (none)" in shown, "login: critical options:\n" + shown)
        check("permit-pty" in shown and "permit-user-rc" not in shown, "login: extensions:\n" + shown)
        m = re.search(r"Valid: from (\S+) to (\S+)", shown)
        span = time.mktime(time.strptime(m.group(2), "%Y-%m-%dT%H:%M:%S")) - \
            time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
        check(abs(span - (7 * 86400 + 300)) <= 2, "login: validity span %d" % span)
        compare_inspect(cert, "login role certificate")
        rec = log_records(ca_dir)[-1]
        check(rec["role"] == "login" and rec["account"] == "alice" and rec["serial"] == serial and
              rec["fingerprint"] == fingerprint(spub) and rec["key_id"] == "keyward:alice:login:%d" % serial,
              "login: issued.log record %r" % rec)

    rc, _, err = keyward("ca", "sign", "--config", conf, "--role", "deploy", "--account", "alice", "-V", "+2h", spub)
    if check(rc == 0, "deploy role: " + err.decode(errors="replace")):
        shown = keygen("-L", "-f", cert).decode()
        check("force-command /usr/local/bin/deploy" in shown and "source-address 10.0.0.0/8" in shown and
              "Extensions: (none)" in shown, "deploy: options:\n" + shown)

    rc, _, err = keyward("ca", "sign", "--config", conf, "--role", "sudo", "--account", "root", spub)
    if check(rc == 0, "sudo role for a member of group root: " + err.decode(errors="replace")):
        shown = keygen("-L", "-f", cert).decode()
        check("verify-required" in shown and "root-admin" in shown, "sudo: certificate:\n" + shown)

    # Refusals: nothing signed, nothing recorded, no serial spent.
    os.unlink(cert)
    before = state(ca_dir)
    refusals = [
        (["--role", "deploy", "--account", "bob", spub], "may not"),
        (["--role", "sudo", "--account", "alice", spub], "may not"),
        (["--role", "admin", "--account", "alice", spub], "unknown role"),
        (["--role", "login", "--account", "alice", "-V", "+8d", spub], "at most"),
        (["--role", "login", "--account", "alice", "-V", "always:forever", spub], "at most"),
        (["--role", "sudo", "--account", "root", "-V", "-1d:+1h", spub], "at most"),
        (["--role", "login", "--account", "alice,root", spub], "account name"),
        (["--role", "login", "--account", "Alice Smith", spub], "account name"),
        (["--role", "login", "--account", "alice", "-n", "root", spub], "role sets"),
        (["--role", "login", "--account", "alice", "-O", "permit-user-rc", spub], "role sets"),
    ]
    for args, needle in refusals:
        rc, out, err = keyward("ca", "sign", "--config", conf, *args)
        check(rc != 0 and needle.encode() in err, "refusal %s: rc %d, %r" % (args, rc, err))
        check(not os.path.exists(cert), "refusal %s: a certificate was written" % args)
        check(state(ca_dir) == before, "refusal %s: a serial was spent or a record written" % args)

    # ca list reads the log.
    rc, out, err = keyward("ca", "list", "--config", conf)
    check(rc == 0 and out.count(b"\n") == 1 + len(log_records(ca_dir)) and b"keyward:alice:login:" in out,
          "ca list: %r %r" % (out, err))
    rc, out, err = keyward("ca", "list", "--json", "--config", conf, "--account", "alice")
    doc = json.loads(out) if rc == 0 else []
    check(rc == 0 and len(doc) == 2 and all(r["account"] == "alice" for r in doc), "ca list --json: %r" % out)


# -------------------------------------------------- 4. serials and SIGKILL


def test_serials_and_kill(tmp, conf, cas):
    ca_dir = cas["ed25519"]
    keydir = os.path.join(tmp, "batch")
    os.mkdir(keydir)
    # Public keys are cheap to copy: the serials matter, not the keys.
    base = read(os.path.join(tmp, "subject-ed25519.pub"))
    paths = []
    for i in range(3000):
        p = os.path.join(keydir, "k%04d.pub" % i)
        write(p, base)
        paths.append(p)

    def serials_in_certs():
        # One ssh-keygen -L over all the certificates, one per line.
        everything = b"".join(read(os.path.join(keydir, n)) for n in sorted(os.listdir(keydir))
                              if n.endswith("-cert.pub"))
        if not everything:
            return []
        rc, out, _ = run([SSH_KEYGEN, "-L", "-f", "-"], stdin=everything)
        return [int(m) for m in re.findall(rb"Serial: (\d+)", out)]

    counter_before = int(read(os.path.join(ca_dir, "serial")))
    rc, _, err = keyward("ca", "sign", "--config", conf, "--ca-dir", ca_dir, "-n", "batch", "-V", "+1h", "-q", *paths[:500])
    check(rc == 0, "batch of 500: " + err.decode(errors="replace"))
    got = sorted(serials_in_certs())
    check(got == list(range(counter_before, counter_before + 500)),
          "a batch's serials are not consecutive from the counter: %s..." % got[:5])
    check(0 not in got, "serial 0 was issued")

    # SIGKILL in the middle of a batch, twice: once just after the serials
    # are reserved (the counter moved), once while certificates are being
    # written. No later certificate may reuse a number.
    for when in ("after the reservation", "while writing certificates"):
        for name in os.listdir(keydir):
            if name.endswith("-cert.pub"):
                os.unlink(os.path.join(keydir, name))
        counter = int(read(os.path.join(ca_dir, "serial")))
        proc = subprocess.Popen([KEYWARD, "ca", "sign", "--config", conf, "--ca-dir", ca_dir, "-n", "batch", "-V", "+1h",
                                 "-q"] + paths, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            if when.startswith("after"):
                try:
                    if int(read(os.path.join(ca_dir, "serial"))) != counter:
                        break
                except ValueError:
                    pass
            elif any(n.endswith("-cert.pub") for n in os.listdir(keydir)):
                break
            time.sleep(0.0005)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        seen = serials_in_certs()
        logged = [r["serial"] for r in log_records(ca_dir)]
        rc, _, err = keyward("ca", "sign", "--config", conf, "--ca-dir", ca_dir, "-n", "after", "-V", "+1h", "-q",
                             os.path.join(tmp, "subject-ed25519.pub"))
        check(rc == 0, "signing after the kill: " + err.decode(errors="replace"))
        after = int(re.search(rb"Serial: (\d+)",
                              keygen("-L", "-f", os.path.join(tmp, "subject-ed25519-cert.pub"))).group(1))
        check(after > max(seen + logged), "after a SIGKILL %s the next serial %d is not above every serial issued (%d)"
              % (when, after, max(seen + logged)))
        if killed:
            check(after == counter + len(paths), "SIGKILL %s: the next serial is %d, not %d: the killed batch's "
                  "reserved serials were reused or lost track of" % (when, after, counter + len(paths)))
        check(len(logged) == len(set(logged)), "issued.log records a serial twice")
        check(all(counter <= s < counter + len(paths) for s in seen),
              "SIGKILL %s: a certificate has a serial outside its batch's block" % when)
        print("note: SIGKILL %s: %s (%d certificates written, %d recorded before it)" %
              (when, "interrupted the batch" if killed else "came after it ended",
               len(seen), len([s for s in logged if s >= counter])))


# ------------------------------------------------------------ 5. bad input


def test_bad_input(tmp, conf, cas, subjects):
    ca_dir = cas["ed25519"]
    good = subjects["ed25519"]
    good_cert = good[:-4] + "-cert.pub"
    other = subjects["rsa"]
    other_cert = other[:-4] + "-cert.pub"
    private = good[:-4]
    keygen("-s", os.path.join(ca_dir, "user_ca"), "-I", "x", "-n", "a", "-V", "+1h", good)
    cert_copy = os.path.join(tmp, "already-a-cert.pub")
    shutil.copy(good_cert, cert_copy)
    not_a_key = os.path.join(tmp, "not-a-key.pub")
    write(not_a_key, "hello world\n")
    cases = [
        ([private], "private key"),
        ([other, private], "private key"),
        ([cert_copy], "already a certificate"),
        (["-n", "alice,", other], "empty name"),
        (["-n", "alice, root", other], "white space"),
        (["-n", "alice bob", other], "white space"),
        (["-n", "", other], "principals"),
        (["-O", "source-address=10.1.2.3/8", other], "source-address"),
        (["-O", "source-address=example.com", other], "source-address"),
        (["-O", "source-address=*", other], "source-address"),
        (["-O", "permit-everything", other], "unknown"),
        (["-O", "extension:login@github.com", other], "unknown extension"),
        (["-O", "critical:foo=bar", other], "critical options"),
        (["-V", "+1x", other], "validity"),
        (["-V", "-1h:-2h", other], "validity"),
        (["-I", "bad\x01id", other], "key id"),
        ([not_a_key], "not-a-key.pub"),
        ([os.path.join(tmp, "missing.pub")], "missing.pub"),
        (["--host", "-O", "permit-pty", other], "host certificates"),
    ]
    for extra, needle in cases:
        for p in (good_cert, other_cert):
            if os.path.exists(p):
                os.unlink(p)
        before = state(ca_dir)
        args = ["ca", "sign", "--config", conf, "--ca-dir", ca_dir]
        if "-n" not in extra:
            args += ["-n", "alice"]
        if "-V" not in extra:
            args += ["-V", "+1h"]
        rc, out, err = keyward(*(args + extra))
        check(rc != 0, "bad input %s was accepted" % extra)
        check(needle.encode() in err, "bad input %s: the error does not say %r: %r" % (extra, needle, err))
        check(err.startswith(b"keyward: ") and err.count(b"\n") == 1, "bad input %s: unclear error %r" % (extra, err))
        check(state(ca_dir) == before, "bad input %s: a serial was spent or a record written" % extra)
        check(not os.path.exists(other_cert) and not os.path.exists(good_cert),
              "bad input %s: a certificate was written" % extra)
    # A symlink or a hard link where the certificate would go: refused
    # before anything is signed, and the target is left alone.
    target = os.path.join(tmp, "symlink-target")
    write(target, "precious\n")
    for kind in ("symlink", "hardlink"):
        for p in (good_cert, other_cert):
            if os.path.lexists(p):
                os.unlink(p)
        if kind == "symlink":
            os.symlink(target, other_cert)
        else:
            os.link(target, other_cert)
        before = state(ca_dir)
        rc, _, err = keyward("ca", "sign", "--config", conf, "--ca-dir", ca_dir, "-n", "alice", "-V", "+1h", other)
        check(rc != 0 and b"regular file" in err, "a %s at the certificate's path was accepted: %r" % (kind, err))
        check(read(target) == b"precious\n", "a %s at the certificate's path was written through" % kind)
        check(state(ca_dir) == before, "a %s at the certificate's path: a serial was spent" % kind)
        os.unlink(other_cert)

    # Missing -n or -V without a role.
    for extra in (["-V", "+1h"], ["-n", "alice"]):
        rc, _, err = keyward("ca", "sign", "--config", conf, "--ca-dir", ca_dir, *(extra + [other]))
        check(rc != 0 and not os.path.exists(other_cert), "sign without %s was accepted" % extra)


# ------------------------------------------- 6. OpenSSH's own private keys


def test_conformance_keys(tmp, conf, subjects):
    if not CONFORMANCE:
        print("note: KEYWARD_CONFORMANCE_DIR not set; OpenSSH's test keys not tried")
        return
    private = os.path.join(CONFORMANCE, "openssh", "sshkey", "private")
    if not os.path.isdir(private):
        print("note: no OpenSSH test keys in the conformance data")
        return
    pw = read(os.path.join(private, "pw")).strip().decode()
    passfile = os.path.join(tmp, "conformance-pw")
    write(passfile, pw + "\n", 0o600)
    for name in ("ed25519_1", "ed25519_1_pw", "ecdsa_1", "ecdsa_1_pw", "rsa_1", "rsa_1_pw", "rsa_1_sha512"):
        src = os.path.join(private, name)
        if not os.path.exists(src):
            continue
        ca_dir = os.path.join(tmp, "ca-conformance-" + name)
        os.mkdir(ca_dir, 0o700)
        write(os.path.join(ca_dir, "user_ca"), read(src), 0o600)
        extra = ["--passphrase-file", passfile] if name.endswith("_pw") else []
        rc, _, err = keyward("ca", "sign", "--config", conf, "--ca-dir", ca_dir, "-n", "alice", "-V", "+1h", "-q",
                             *(extra + [subjects["ed25519"]]))
        ca_pub = os.path.join(tmp, "conformance-ca.pub")
        write(ca_pub, keygen("-y", "-f", os.path.join(ca_dir, "user_ca"), *(["-P", pw] if extra else [])))
        bits = int(keygen("-l", "-f", ca_pub).split(b" ")[0])
        if name.startswith("rsa") and bits < 2048:
            check(rc != 0 and b"at least 2048" in err, "%s (%d bits): a weak RSA CA key was accepted" % (name, bits))
            continue
        if name == "rsa_1_pw" and rc != 0:
            # libssh 0.10 decrypts but cannot hand over RSA keys from
            # openssh-key-v1; keyward says how to convert.
            check(b"ssh-keygen -p -m PKCS8" in err, "%s: unclear error %r" % (name, err))
            continue
        if check(rc == 0, "%s: keyward cannot sign with OpenSSH's test key: %s" % (name, err.decode(errors="replace"))):
            cert = subjects["ed25519"][:-4] + "-cert.pub"
            check(fingerprint(ca_pub) in keygen("-L", "-f", cert).decode(), "%s: signed by another CA" % name)


def test_ssh_keygen_ca_keys(tmp, conf, subjects):
    """CA keys an administrator made with ssh-keygen itself."""
    passfile = os.path.join(tmp, "keygen-pw")
    write(passfile, PASSPHRASE + "\n", 0o600)
    subject = subjects["ed25519"]
    cert = subject[:-4] + "-cert.pub"
    for name, args in [("ed25519", ["-t", "ed25519"]), ("ecdsa", ["-t", "ecdsa", "-b", "384"]),
                       ("rsa", ["-t", "rsa", "-b", "3072"]), ("rsa-pem", ["-t", "rsa", "-b", "2048", "-m", "PEM"]),
                       ("ecdsa-pkcs8", ["-t", "ecdsa", "-m", "PKCS8"])]:
        for protected in (False, True):
            label = name + ("-pw" if protected else "")
            ca_dir = os.path.join(tmp, "ca-keygen-" + label)
            os.mkdir(ca_dir, 0o700)
            key = os.path.join(ca_dir, "user_ca")
            keygen("-q", "-N", PASSPHRASE if protected else "", "-f", key, *args)
            extra = ["--passphrase-file", passfile] if protected else []
            sign = ["ca", "sign", "--config", conf, "--ca-dir", ca_dir, "-n", "alice", "-V", "+1h", "-q"] + extra
            rc, _, err = keyward(*(sign + [subject]))
            if label == "rsa-pw" and rc != 0:
                # libssh 0.10 cannot hand over RSA keys it decrypted from
                # openssh-key-v1: keyward says how to convert, and then signs.
                check(b"ssh-keygen -p -m PKCS8" in err, "%s: unclear error %r" % (label, err))
                keygen("-p", "-P", PASSPHRASE, "-N", PASSPHRASE, "-m", "PKCS8", "-f", key)
                rc, _, err = keyward(*(sign + [subject]))
            if check(rc == 0, "%s: keyward cannot sign with ssh-keygen's key: %s" % (label, err.decode(errors="replace"))):
                check(fingerprint(key + ".pub") in keygen("-L", "-f", cert).decode(), "%s: signed by another CA" % label)


def main():
    if not KEYWARD or not os.access(KEYWARD, os.X_OK):
        print("KEYWARD_BIN must name the keyward binary", file=sys.stderr)
        return 2
    if not SSH_KEYGEN:
        print("ssh-keygen is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="keyward-cacheck-") as tmp:
        os.chmod(tmp, 0o700)
        conf = os.path.join(tmp, "keyward.conf")
        write(conf, "{}\n")
        cas = test_init(tmp, conf)
        subjects = make_subjects(tmp)
        if "ed25519" not in cas or "ed25519" not in subjects:
            fail("no Ed25519 CA or key: the rest cannot run")
        else:
            test_crosscheck(tmp, conf, cas, subjects)
            test_roles(tmp, subjects)
            test_serials_and_kill(tmp, conf, cas)
            test_bad_input(tmp, conf, cas, subjects)
            test_ssh_keygen_ca_keys(tmp, conf, subjects)
            test_conformance_keys(tmp, conf, subjects)
    print("%d checks" % checks)
    if failures:
        print("%d failures" % len(failures), file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
