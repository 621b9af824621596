#!/usr/bin/env python3
"""keyward's certificate authority and KRL against a real OpenSSH sshd.

One sshd (lib/sshd_harness.py: 127.0.0.1, a free port, its own config)
trusts keyward's user CA (TrustedUserCAKeys <ca.dir>/user_ca.pub), reads
keyward's KRL (RevokedKeys <ca.krl>) and presents a host certificate keyward
signed (HostCertificate); real users log in with the real ssh client.

 1. `keyward ca init` and `keyward ca init --host` print the sshd_config and
    known_hosts lines. Before `keyward krl build` has written the KRL, sshd
    refuses every key (OpenSSH treats a missing RevokedKeys file as an
    error); after it, a fresh certificate logs in.
 2. alice has no authorized_keys: a certificate from `keyward ca sign --role
    login --account alice` logs in, and sshd's log names its key id and
    serial; her plain key is refused.
 3. Refused, each with sshd's reason and a control (an unrevoked fresh
    certificate logs in right after): an expired certificate (-V in 2020), a
    certificate for another principal (-n bob), a certificate whose serial,
    whose key id or whose key was revoked with `keyward ca revoke` (each one
    logged in before), and a key revoked in a store with `keyward revoke`
    (carol, a passwd account): after `keyward krl build` the KRL lists it, so
    a certificate for it and the plain key pasted back into authorized_keys
    by hand are refused while carol's other key still logs in.
 4. The deploy role's force-command runs whatever the client asks; a
    source-address 127.0.0.1/32 certificate logs in from 127.0.0.1 and a
    10.9.9.0/24 one is refused.
 5. The host certificate: the real ssh client with StrictHostKeyChecking yes
    and a known_hosts holding only keyward's @cert-authority line connects;
    with an empty known_hosts, the user CA in that line, or a host name that
    is not the certificate's principal, it refuses.
 6. `ssh-keygen -Q -f KRL` and `keyward krl check KRL` give the same output
    and exit status for every key and certificate used above, one by one and
    all at once, and say REVOKED exactly for the revoked ones.

Needs root (prints SKIP otherwise). Environment: KEYWARD_BIN (default
build/keyward). KWT_E2E_KEEP=1 keeps the harness's folders (sshd log,
config, KRL). Exit 0 when every check passes, 1 otherwise.
"""

import contextlib
import json
import os
import pwd
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import sshd_harness as h  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEYWARD = os.environ.get("KEYWARD_BIN") or os.path.join(REPO, "build", "keyward")
FORCED = "echo forced-by-role-deploy"


class Checks:
    def __init__(self):
        self.failures = []
        self.count = 0

    def check(self, ok, what, detail=""):
        self.count += 1
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            self.failures.append(what)
            if detail:
                print("      " + str(detail).rstrip().replace("\n", "\n      "), flush=True)
        return ok


def env():
    e = {k: v for k, v in os.environ.items()
         if k not in ("SSH_CONNECTION", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "SUDO_USER")}
    e.update({"TZ": "UTC", "LC_ALL": "C"})
    return e


def run(argv, timeout=120):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env(),
                          stdin=subprocess.DEVNULL)


def show(r):
    return f"exit {r.returncode}\n--- stdout\n{r.stdout}--- stderr\n{r.stderr}"


def fingerprint(pub):
    return run(["ssh-keygen", "-l", "-f", pub]).stdout.split()[1]


class Key:
    """A key pair in its own folder; keyward writes its -cert.pub beside it."""

    def __init__(self, keys_dir, label, name="id"):
        self.label = label
        folder = os.path.join(keys_dir, label)
        os.mkdir(folder, 0o755)
        self.private, self.public = h.make_keypair(folder, comment=f"{label}@e2e", name=name)
        self.cert = self.private + "-cert.pub"
        self.fingerprint = fingerprint(self.public)
        self.key_id = None
        self.serial = None


class Scene:
    def __init__(self, c, work, config):
        self.c = c
        self.work = work
        self.config = config
        self.sshd = None
        self.user_ca_pub = None
        self.user_ca_fp = None
        self.krl = None

    def kw(self, *args):
        return run([KEYWARD] + list(args))

    def sign(self, key, *args, what=None):
        """keyward ca sign ARGS KEY.pub; records the key id and serial it printed."""
        r = self.kw("ca", "sign", "--config", self.config, *args, key.public)
        m = re.search(r'^Signed (?:user|host) key (\S+): id "([^"]*)" serial (\d+) for ',
                      r.stderr, re.M)
        ok = r.returncode == 0 and m is not None and m.group(1) == key.cert \
            and os.path.exists(key.cert)
        if m:
            key.key_id, key.serial = m.group(2), int(m.group(3))
        self.c.check(ok, what or f"keyward ca sign {' '.join(args)} {key.label}", show(r))
        return r

    def login(self, user, key, what, *, ok, stdout=None, log=(), command="id -un", **kw):
        """One real ssh login with KEY (and KEY-cert.pub beside it, if any)."""
        sshd = self.sshd
        name = user.name if hasattr(user, "name") else user
        mark = sshd.log_mark()
        r = h.ssh_login(user, key.private, sshd, command=command, **kw)
        good = r.ok == ok
        if not ok:
            good = good and r.returncode == 255 and "Permission denied (publickey)" in r.stderr
        if stdout is not None:
            good = good and r.stdout == stdout
        patterns = [log] if isinstance(log, (str, re.Pattern)) else list(log)
        patterns.append(f"{'Accepted' if ok else 'Failed'} publickey for {name} from ")
        problem = ""
        for pattern in patterns:
            try:
                sshd.wait_for_log(pattern, since=mark)
            except h.HarnessError:
                good = False
                shown = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
                problem += f"no log line with {shown!r}\n"
        if not ok:
            # sshd logs the last lines after the client left: wait for the end.
            try:
                sshd.wait_for_log(f"Connection closed by authenticating user {name} ",
                                  since=mark)
            except h.HarnessError:
                pass
            accepted = sshd.log_contains(f"Accepted publickey for {name} ", since=mark)
            if accepted:
                good, problem = False, problem + f"sshd accepted a key: {accepted}\n"
        self.c.check(good, f"ssh: {what}", f"{problem}{r}\n--- sshd log since the login:\n"
                     + "\n".join(sshd.log_text(mark).splitlines()[-60:]))
        return r

    def accepted_cert(self, user, key):
        """The log lines of a certificate login: key id, serial, CA, then the login."""
        return [f'Accepted certificate ID "{key.key_id}" (serial {key.serial}) signed by '
                f"ED25519 CA {self.user_ca_fp} via {self.user_ca_pub}",
                f"Accepted publickey for {user.name} from 127.0.0.1 port ",
                re.compile(rf"Accepted publickey for {re.escape(user.name)} from 127\.0\.0\.1 "
                           rf"port \d+ ssh2: ED25519-CERT {re.escape(key.fingerprint)} ID "
                           rf"{re.escape(key.key_id)} \(serial {key.serial}\) CA ED25519 "
                           rf"{re.escape(self.user_ca_fp)}")]

    def revoked_by_file(self, key, cert=True):
        kind = "ED25519-CERT" if cert else "ED25519"
        return (f"Authentication key {kind} {key.fingerprint} revoked by file {self.krl}")

    def fresh_login(self, user, key, what):
        """The control: an unrevoked certificate logs in."""
        return self.login(user, key, what, ok=True, stdout=user.name + "\n",
                          log=self.accepted_cert(user, key))


def write_config(work, krl):
    roles = [
        {"name": "login", "principals": ["%u"], "max_validity": "1d", "accounts": ["*"]},
        {"name": "deploy", "principals": ["%u"], "max_validity": "1h",
         "force_command": FORCED, "accounts": ["*"]},
        {"name": "local", "principals": ["%u"], "max_validity": "1h",
         "source_address": ["127.0.0.1/32"], "accounts": ["*"]},
        {"name": "remote", "principals": ["%u"], "max_validity": "1h",
         "source_address": ["10.9.9.0/24"], "accounts": ["*"]},
    ]
    config = {
        "store": "%h/.ssh", "authorized_keys": "%h/.ssh/authorized_keys",
        "audit_log": os.path.join(work, "audit.log"),
        "state_dir": os.path.join(work, "state"),
        "ca": {"dir": os.path.join(work, "ca"), "krl": krl, "roles": roles},
    }
    return h.write_file(os.path.join(work, "keyward.conf"), json.dumps(config, indent=2) + "\n")


# --------------------------------------------------------------------------


def step_init(s):
    c = s.c
    r = s.kw("ca", "init", "--config", s.config)
    s.user_ca_pub = os.path.join(s.work, "ca", "user_ca.pub")
    c.check(r.returncode == 0 and f"    TrustedUserCAKeys {s.user_ca_pub}\n" in r.stdout,
            "keyward ca init prints the TrustedUserCAKeys line", show(r))
    s.user_ca_fp = fingerprint(s.user_ca_pub)
    r = s.kw("ca", "init", "--host", "--config", s.config)
    host_ca_pub = os.path.join(s.work, "ca", "host_ca.pub")
    m = re.search(r"^    (@cert-authority \* ssh-ed25519 \S+.*)$", r.stdout, re.M)
    c.check(r.returncode == 0 and m is not None and m.group(1).split()[3]
            == h.read_public_key(host_ca_pub).split()[1],
            "keyward ca init --host prints the @cert-authority line with the host CA", show(r))
    return m.group(1) if m else "@cert-authority * " + h.read_public_key(host_ca_pub)


def step_host_key(s, keys_dir):
    """A host key for sshd, signed by the host CA for 127.0.0.1."""
    host = Key(keys_dir, "host", name="ssh_host_ed25519_key")
    s.sign(host, "--host", "-n", "127.0.0.1", "-V", "+1d",
           what="keyward ca sign --host -n 127.0.0.1 -V +1d <sshd's host key>")
    r = run(["ssh-keygen", "-L", "-f", host.cert])
    s.c.check(r.returncode == 0 and "host certificate" in r.stdout
              and re.search(r"Principals: \n\s+127\.0\.0\.1\n", r.stdout) is not None,
              "ssh-keygen -L: a host certificate for 127.0.0.1", show(r))
    return host


def step_krl_first(s, alice, keys):
    c = s.c
    k = keys["fresh"]
    s.sign(k, "--role", "login", "--account", alice.name)
    c.check(not os.path.exists(s.krl), "no KRL yet", s.krl)
    s.login(alice, k, "before any KRL exists sshd refuses even a fresh certificate "
            "(a missing RevokedKeys file is an error to OpenSSH 9.2)", ok=False,
            log=f"Error checking authentication key ED25519-CERT {k.fingerprint} in revoked keys "
            f"file {s.krl}: No such file or directory")
    r = s.kw("krl", "build", "--config", s.config)
    c.check(r.returncode == 0 and r.stdout.startswith(f"wrote {s.krl} (KRL version 1, ")
            and os.path.isfile(s.krl), "keyward krl build writes the first KRL", show(r))


def step_alice(s, alice, keys):
    c = s.c
    k = keys["fresh"]
    c.check(not os.path.exists(alice.authorized_keys_path()),
            f"alice ({alice.name}) has no authorized_keys", alice.authorized_keys_path())
    s.fresh_login(alice, k, "a fresh certificate from --role login --account alice logs in; "
                  "the log names its key id and serial")
    c.check(k.key_id == f"keyward:{alice.name}:login:{k.serial}" and k.serial > 0,
            "  its key id is keyward:<account>:<role>:<serial>", f"{k.key_id} {k.serial}")
    s.login(alice, keys["plain"], "alice's plain key (no certificate, no authorized_keys) is "
            "refused", ok=False)

    # Expired (validity in the past, within the role's 1 day).
    e = keys["expired"]
    s.sign(e, "--role", "login", "--account", alice.name, "-V", "20200101:20200102")
    s.login(alice, e, "an expired certificate (valid 2020-01-01 to 2020-01-02) is refused",
            ok=False, log="Certificate invalid: expired")
    s.fresh_login(alice, k, "  control: the fresh certificate still logs in")

    # Another principal.
    b = keys["bob"]
    s.sign(b, "-n", "bob", "-V", "+1h", "-I", "e2e-for-bob")
    s.login(alice, b, "a certificate for principal bob is refused for alice", ok=False,
            log="Certificate invalid: name is not a listed principal")
    s.fresh_login(alice, k, "  control: the fresh certificate still logs in")


def step_revocations(s, alice, keys):
    c = s.c
    k = keys["fresh"]
    serial = keys["serial"]
    s.sign(serial, "--role", "login", "--account", alice.name)
    s.fresh_login(alice, serial, "revoked serial: the certificate logs in before the revocation")
    r = s.kw("ca", "revoke", "--config", s.config, "--serial", str(serial.serial))
    c.check(r.returncode == 0 and f"revoked serial {serial.serial} of the user CA" in r.stdout
            and f"wrote {s.krl} " in r.stdout,
            f"keyward ca revoke --serial {serial.serial} rebuilds the KRL", show(r))
    s.login(alice, serial, f"revoked serial: serial {serial.serial} is refused", ok=False,
            log=s.revoked_by_file(serial))
    s.fresh_login(alice, k, "  control: an unrevoked certificate still logs in")

    kid = keys["keyid"]
    s.sign(kid, "--role", "login", "--account", alice.name)
    s.fresh_login(alice, kid, "revoked key id: the certificate logs in before the revocation")
    r = s.kw("ca", "revoke", "--config", s.config, "--key-id", kid.key_id)
    c.check(r.returncode == 0 and f'revoked key ID "{kid.key_id}" of the user CA' in r.stdout
            and f"wrote {s.krl} " in r.stdout,
            f"keyward ca revoke --key-id {kid.key_id} rebuilds the KRL", show(r))
    s.login(alice, kid, f"revoked key id: \"{kid.key_id}\" is refused", ok=False,
            log=s.revoked_by_file(kid))
    s.fresh_login(alice, k, "  control: an unrevoked certificate still logs in")

    kk = keys["key"]
    s.sign(kk, "--role", "login", "--account", alice.name)
    s.fresh_login(alice, kk, "revoked key: the certificate logs in before the revocation")
    r = s.kw("ca", "revoke", "--config", s.config, "--key", kk.public)
    c.check(r.returncode == 0 and f"({kk.fingerprint})" in r.stdout
            and f"wrote {s.krl} " in r.stdout,
            "keyward ca revoke --key KEY.pub rebuilds the KRL", show(r))
    s.login(alice, kk, "revoked key: its certificate is refused", ok=False,
            log=s.revoked_by_file(kk))
    first_serial = kk.serial
    s.sign(kk, "--role", "login", "--account", alice.name,
           what="keyward ca sign a new certificate for the revoked key")
    s.login(alice, kk, f"revoked key: a new certificate for it (serial {kk.serial}, after "
            f"{first_serial}) is refused too", ok=False, log=s.revoked_by_file(kk))
    s.fresh_login(alice, k, "  control: an unrevoked certificate still logs in")


def step_store(s, carol, keys):
    """A key revoked in carol's store reaches the KRL through keyward krl build."""
    c = s.c
    gone, other = keys["carol-gone"], keys["carol-other"]
    gone_plain = PlainOnly(gone)
    base = ["--account", carol.name, "--config", s.config]
    # The certificate first, while carol has no authorized_keys (ssh offers the
    # plain key before the certificate, and sshd would take that).
    s.sign(gone, "--role", "login", "--account", carol.name)
    s.fresh_login(carol, gone, "a certificate for carol's key logs in before the revocation")
    r = s.kw("init", *base)
    c.check(r.returncode == 0 and os.path.isdir(os.path.join(carol.ssh_dir(), "revoked")),
            f"keyward init --account carol ({carol.name})", show(r))
    for key, device in ((gone, "laptop"), (other, "phone")):
        r = s.kw("add", *base, "--owner", "carol@example.org", "--device", device, key.public)
        c.check(r.returncode == 0 and r.stdout.startswith("added "),
                f"keyward add --account carol {key.label}", show(r))
    ak = carol.authorized_keys_path()
    s.login(carol, gone_plain, "carol's key from the store logs in (the plain key, found "
            "in the authorized_keys keyward rendered)", ok=True, stdout=carol.name + "\n",
            log=f"found at {ak}:")

    r = s.kw("revoke", *base, gone.fingerprint)
    c.check(r.returncode == 0 and r.stdout.startswith("revoked "),
            "keyward revoke --account carol FINGERPRINT moves the key to revoked/", show(r))
    in_revoked = os.listdir(os.path.join(carol.ssh_dir(), "revoked"))
    c.check(len(in_revoked) == 1, "  carol's revoked/ holds the key", in_revoked)
    r = s.kw("krl", "build", "--config", s.config)
    m = re.search(r"and (\d+) revoked keys? in (\d+) accounts?", r.stdout)
    c.check(r.returncode == 0 and m is not None and int(m.group(1)) >= 1,
            "keyward krl build takes the accounts' revoked/ keys", show(r))
    r = s.kw("krl", "check", s.krl, gone.public)
    c.check(r.returncode == 1 and r.stdout.endswith(": REVOKED\n"),
            "  keyward krl check: carol's revoked key is REVOKED", show(r))
    r = s.kw("krl", "show", s.krl)
    c.check(r.returncode == 0 and (gone.fingerprint in r.stdout
                                   or h.read_public_key(gone.public).split()[1] in r.stdout),
            "  keyward krl show lists it", show(r))

    s.login(carol, gone, "a certificate for the key revoked in the store is refused",
            ok=False, log=s.revoked_by_file(gone))
    # What an administrator might do: paste the revoked key back by hand.
    with open(ak) as f:
        rendered = f.read()
    c.check(h.read_public_key(gone.public).split()[1] not in rendered,
            "  keyward rendered authorized_keys without it", rendered)
    h.write_as(carol, ak, rendered + h.read_public_key(gone.public) + "\n", 0o600)
    s.login(carol, gone_plain,
            "the revoked key pasted back into authorized_keys by hand is refused by the KRL",
            ok=False, log=s.revoked_by_file(gone, cert=False))
    s.login(carol, other, "  control: carol's other key still logs in", ok=True,
            stdout=carol.name + "\n", log=f"found at {ak}:")


class PlainOnly:
    """A key offered without its certificate (ssh would load KEY-cert.pub)."""

    def __init__(self, key):
        folder = os.path.join(os.path.dirname(key.private), "plain-only")
        os.makedirs(folder, 0o755, exist_ok=True)
        self.private = os.path.join(folder, "id")
        with open(key.private, "rb") as f:
            h.write_file(self.private, f.read(), 0o600)
        self.fingerprint = key.fingerprint


def step_options(s, alice, keys):
    c = s.c
    d = keys["deploy"]
    s.sign(d, "--role", "deploy", "--account", alice.name)
    s.login(alice, d, "a deploy-role certificate runs the forced command, not `echo hi`",
            ok=True, command="echo hi", stdout="forced-by-role-deploy\n",
            log=[f"Starting session: forced-command (key-option) '{FORCED}' for {alice.name} ",
                 f'Accepted certificate ID "{d.key_id}" (serial {d.serial})'])
    r = run(["ssh-keygen", "-L", "-f", d.cert])
    c.check(f"force-command {FORCED}" in r.stdout, "  ssh-keygen -L shows the force-command",
            show(r))

    loc = keys["local"]
    s.sign(loc, "--role", "local", "--account", alice.name)
    r = s.login(alice, loc, "a source-address 127.0.0.1/32 certificate logs in from 127.0.0.1",
                ok=True, command='echo "$SSH_CONNECTION"',
                log=f'Accepted certificate ID "{loc.key_id}" (serial {loc.serial})')
    c.check(r.stdout.startswith("127.0.0.1 "), "  sshd saw 127.0.0.1 as the source", r)
    rem = keys["remote"]
    s.sign(rem, "--role", "remote", "--account", alice.name)
    r = run(["ssh-keygen", "-L", "-f", rem.cert])
    c.check("source-address 10.9.9.0/24" in r.stdout,
            "  ssh-keygen -L shows source-address 10.9.9.0/24", show(r))
    s.login(alice, rem, "a source-address 10.9.9.0/24 certificate is refused from 127.0.0.1",
            ok=False, log=f"Authentication tried for {alice.name} with valid certificate but "
            "not from a permitted source address (127.0.0.1).")
    s.fresh_login(alice, keys["fresh"], "  control: an unrevoked certificate still logs in")


def step_host_cert(s, alice, keys, host, ca_line, keys_dir):
    c = s.c
    k = keys["fresh"]
    port = s.sshd.port
    user_ca = h.read_public_key(s.user_ca_pub)
    host_ca = " ".join(ca_line.split()[2:])

    def known_hosts(name, text):
        return h.write_file(os.path.join(keys_dir, name), text)

    def connect(kh, *extra):
        return h.ssh_login(alice, k.private, s.sshd, command="id -un", verbose=True,
                           extra_opts=["StrictHostKeyChecking=yes", f"UserKnownHostsFile={kh}",
                                       "GlobalKnownHostsFile=/dev/null",
                                       "UpdateHostKeys=no"] + list(extra))

    def brief(r):
        keep = [ln for ln in r.stderr.splitlines()
                if re.search(r"host key|host cert|known|Certificate|verification|CA", ln)]
        return f"exit {r.returncode}, stdout {r.stdout!r}\n" + "\n".join(keep[-20:])

    kh = known_hosts("known_hosts.keyward", ca_line + "\n")
    r = connect(kh)
    c.check(r.ok and r.stdout == alice.name + "\n"
            and re.search(rf"Server host certificate: ssh-ed25519-cert-v01@openssh\.com "
                          rf"{re.escape(host.fingerprint)}, serial {host.serial} ID "
                          rf"\"{re.escape(host.key_id)}\" CA ssh-ed25519 ", r.stderr) is not None
            and re.search(r"Host '\[127\.0\.0\.1\]:\d+' is known and matches the ED25519-CERT "
                          r"host certificate", r.stderr) is not None,
            "ssh with StrictHostKeyChecking yes and only keyward's printed line "
            f"({' '.join(ca_line.split()[:2])} <host CA>) accepts the host certificate",
            brief(r))
    kh = known_hosts("known_hosts.pinned", f"@cert-authority [127.0.0.1]:{port} {host_ca}\n")
    r = connect(kh)
    c.check(r.ok and r.stdout == alice.name + "\n",
            f"  ... and with only @cert-authority [127.0.0.1]:{port} <host CA>", brief(r))
    kh = known_hosts("known_hosts.alias", f"@cert-authority 127.0.0.1 {host_ca}\n")
    r = connect(kh, "HostKeyAlias=127.0.0.1")
    c.check(r.ok and r.stdout == alice.name + "\n",
            "  ... and with only @cert-authority 127.0.0.1 <host CA> (HostKeyAlias 127.0.0.1, "
            "as port 22 would look it up)", brief(r))

    kh = known_hosts("known_hosts.empty", "")
    r = connect(kh)
    c.check(r.returncode == 255 and "Host key verification failed." in r.stderr
            and r.stdout == "", "without that line (empty known_hosts) ssh refuses the host",
            brief(r))
    kh = known_hosts("known_hosts.userca", f"@cert-authority * {user_ca}\n")
    r = connect(kh)
    c.check(r.returncode == 255 and "Host key verification failed." in r.stderr
            and r.stdout == "", "with the user CA in the @cert-authority line ssh refuses the "
            "host", brief(r))
    kh = known_hosts("known_hosts.other", f"@cert-authority other.example {host_ca}\n")
    r = connect(kh, "HostKeyAlias=other.example")
    c.check(r.returncode == 255 and "Host key verification failed." in r.stderr
            and "name is not a listed principal" in r.stderr,
            "for a name that is not the certificate's principal ssh refuses the host",
            brief(r))


def step_krl_agreement(s, files, revoked):
    """ssh-keygen -Q and keyward krl check: same output, same status."""
    c = s.c
    disagree = []
    wrong = []
    for path in files:
        a = run(["ssh-keygen", "-Q", "-f", s.krl, path])
        b = run([KEYWARD, "krl", "check", s.krl, path])
        if (a.returncode, a.stdout, a.stderr) != (b.returncode, b.stdout, b.stderr):
            disagree.append(f"{path}\n  ssh-keygen: {show(a)}\n  keyward: {show(b)}")
        want = (1, "REVOKED") if path in revoked else (0, "ok")
        if (a.returncode, a.stdout.rstrip("\n").rsplit(": ", 1)[-1]) != want:
            wrong.append(f"{path}: expected {want}, ssh-keygen says {show(a)}")
    c.check(not disagree, f"ssh-keygen -Q -f KRL and keyward krl check KRL agree on each of "
            f"the {len(files)} keys and certificates", "\n".join(disagree))
    c.check(not wrong, f"  ... and say REVOKED for exactly the {len(revoked)} revoked ones",
            "\n".join(wrong))
    a = run(["ssh-keygen", "-Q", "-f", s.krl] + files)
    b = run([KEYWARD, "krl", "check", s.krl] + files)
    c.check((a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)
            and a.returncode == 1 and a.stdout.count("\n") == len(files),
            "  ... and on all of them at once", f"ssh-keygen: {show(a)}\nkeyward: {show(b)}")


def main():
    h.skip_unless_root("the CA-against-sshd test")
    h.require_tools()
    if not os.access(KEYWARD, os.X_OK):
        print(f"FAIL: keyward binary {KEYWARD} not found: set KEYWARD_BIN")
        sys.exit(1)
    start = time.monotonic()
    c = Checks()
    gone_users, gone_sshd = [], []
    try:
        with contextlib.ExitStack() as stack:
            alice = stack.enter_context(h.SystemUser("alice"))
            carol = stack.enter_context(h.SystemUser("carol"))
            gone_users += [(u.name, u.home) for u in (alice, carol)]
            work = h.tempdir("ca-sshd", 0o755)
            keys_dir = os.path.join(work, "keys")
            os.mkdir(keys_dir, 0o755)
            os.mkdir(os.path.join(work, "krl"), 0o755)
            krl = os.path.join(work, "krl", "keyward.krl")
            config = write_config(work, krl)
            s = Scene(c, work, config)
            s.krl = krl
            labels = ["fresh", "plain", "expired", "bob", "serial", "keyid", "key", "deploy",
                      "local", "remote", "carol-gone", "carol-other"]
            keys = {label: Key(keys_dir, label) for label in labels}

            print("--- 1. CA keys, host certificate, sshd, the first KRL", flush=True)
            ca_line = step_init(s)
            host = step_host_key(s, keys_dir)
            s.sshd = stack.enter_context(h.Sshd({
                "HostKey": host.private, "HostCertificate": host.cert,
                "TrustedUserCAKeys": s.user_ca_pub, "RevokedKeys": krl}))
            gone_sshd.append(h.process_identity(s.sshd.pid))
            print(f"    {s.sshd!r}, users {alice.name} and {carol.name}", flush=True)
            step_krl_first(s, alice, keys)
            print("--- 2./3. alice logs in with certificates only; refusals", flush=True)
            step_alice(s, alice, keys)
            step_revocations(s, alice, keys)
            print("--- 3. a key revoked in a store (carol) reaches the KRL", flush=True)
            step_store(s, carol, keys)
            print("--- 4. force-command and source-address", flush=True)
            step_options(s, alice, keys)
            print("--- 5. the host certificate", flush=True)
            step_host_cert(s, alice, keys, host, ca_line, keys_dir)
            print("--- 6. ssh-keygen -Q agrees with keyward krl check", flush=True)
            files, revoked = [], set()
            for key in list(keys.values()) + [host]:
                files.append(key.public)
                if os.path.exists(key.cert):
                    files.append(key.cert)
            for label in ("serial", "keyid"):
                revoked.add(keys[label].cert)
            for label in ("key", "carol-gone"):
                revoked.update([keys[label].public, keys[label].cert])
            step_krl_agreement(s, files, revoked)
            r = run([KEYWARD, "ca", "list", "--json", "--config", config])
            try:
                serials = {e["serial"] for e in json.loads(r.stdout)}
            except (ValueError, KeyError, TypeError):
                serials = set()
            issued = {k.serial for k in list(keys.values()) + [host] if k.serial}
            c.check(r.returncode == 0 and issued <= serials,
                    "keyward ca list records every certificate issued above", show(r))
            c.check(s.sshd.alive(), "sshd still runs")
    except h.HarnessError as e:
        c.check(False, "the harness set up and tore down cleanly", e)
    finally:
        for name, home in gone_users:
            try:
                pwd.getpwnam(name)
                present = True
            except KeyError:
                present = os.path.exists(home) if home else False
            c.check(not present, f"user {name} is removed with its home")
        for ident in gone_sshd:
            c.check(h.process_gone(ident), f"sshd {ident} is gone")
        h.cleanup_all()
    print(f"CA against sshd: {c.count} checks, {len(c.failures)} failure(s), "
          f"{time.monotonic() - start:.1f}s")
    if c.failures:
        print("FAILED: " + "; ".join(c.failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
