#!/usr/bin/env python3
"""The per-key store against the real sshd, both ways, with real users.

keyward writes the keys and OpenSSH's sshd (started on a loopback port by
lib/sshd_harness.py) decides; the real ssh client logs in. Three ways:

  (a)  AuthorizedKeysFile on the rendered file: the default layout (%h/.ssh),
       keyward run as root with --account USER, so that every file it makes
       is owned by USER (it drops to USER before touching them).
  (b)  AuthorizedKeysCommand "<root-owned keyward> keys --config CFG %u %f"
       with a dedicated AuthorizedKeysCommandUser and AuthorizedKeysFile none;
       the store is central (/var/lib/kwt-e2e-*/%u, parent root-owned 0755,
       the user's folder owned by the user, folders 0755 and key files 0644
       so that the command user can read them).
  (b') the same command with AuthorizedKeysCommandUser root and the default
       %h/.ssh layout: keys drops to the user before it reads anything.

For each way: an added key logs in (`id -un` prints the user); a key not in
the store is refused; a revoked key is refused and the other keys still log
in; a reinstated key logs in again; expiry: a key added with --expires a few
seconds ahead logs in and is refused once that moment passes with nothing
re-rendered; a key added with --days 1 logs in (so sshd reads keyward's
"YYYYMMDDHHMMSSZ"), and once its file is rewritten with an expiry in the past
(same name, canonical line) and rendered, it is refused (with the command,
at once: keys does not trust a stale keys.index); `--option
expiry-time="20000101"` is never a working key; prune files expired keys
into revoked/; `--from 127.0.0.2` refuses a login from 127.0.0.1 and accepts
one bound to 127.0.0.2; `--command 'echo forced'` replaces the command.
`keyward check` exits 0 after every change keyward makes (and 1 after a hand
edit of users/ that was not rendered). sshd's log lines (LogLevel DEBUG3)
pin each outcome to the reason. With the command, a key file only root can
read is not printed by keys (proof that (b') dropped to the user) and is
printed once it is readable. All users, sshd processes and folders are
removed afterwards and checked to be gone.

Two reported keyward bugs are checked last and printed as KNOWN without
failing the test: `keyward init --account USER` (as root) cannot create
USER's folder in a root-owned central store parent, so the test makes it;
and `keyward keys` opens the rendered file's folder, which it never uses, so
with a central store and the default authorized_keys template it fails for
the command user when ~/.ssh is 0700 (the test's (b) config therefore
renders authorized_keys into the central store).

Needs root (prints SKIP otherwise). Environment: KEYWARD_BIN (default
build/keyward). KWT_E2E_KEEP=1 keeps the harness's folders (sshd logs).
Exit 0 when every check passes, 1 otherwise.
"""

import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import sshd_harness as h  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEYWARD = os.environ.get("KEYWARD_BIN") or os.path.join(REPO, "build", "keyward")
CENTRAL_BASE = "/var/lib"
CENTRAL_PREFIX = "kwt-e2e-store-"
SHORT_EXPIRY_SECONDS = 30


class Checks:
    def __init__(self):
        self.failures = []
        self.known = []
        self.count = 0

    def check(self, ok, what, detail=""):
        self.count += 1
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            self.failures.append(what)
            if detail:
                print("      " + str(detail).rstrip().replace("\n", "\n      "), flush=True)
        return ok

    def known_bug(self, ok, what, detail=""):
        """A check that documents a reported keyward bug: reported, not counted."""
        print(("ok    " if ok else "KNOWN ") + what, flush=True)
        if not ok:
            self.known.append(what)
            if detail:
                print("      " + str(detail).rstrip().replace("\n", "\n      "), flush=True)


class Key:
    """A key pair made by ssh-keygen, with what sshd logs about it."""

    def __init__(self, keys_dir, label):
        self.label = label
        self.private, self.public = h.make_keypair(keys_dir, comment=f"{label}@e2e")
        os.chmod(self.public, 0o644)
        self.line = h.read_public_key(self.public)
        self.blob = self.line.split()[1]
        r = subprocess.run(["ssh-keygen", "-l", "-f", self.public], capture_output=True,
                           text=True, check=True)
        self.fingerprint = r.stdout.split()[1]  # SHA256:...


class Way:
    """One way sshd learns the keys, with its user, sshd and keyward arguments."""

    def __init__(self, tag, title, user, *, config=None, command=None, command_user=None,
                 store=None, authorized_keys=None):
        self.tag = tag
        self.title = title
        self.user = user
        self.config = config
        self.command = command            # the AuthorizedKeysCommand line, or None
        self.command_user = command_user  # AuthorizedKeysCommandUser
        self.store = store or user.ssh_dir()
        self.authorized_keys = authorized_keys or user.authorized_keys_path()
        self.sshd = None
        self.files = {}  # key label -> file name keyward gave it

    def args(self):
        a = ["--account", self.user.name]
        return a + (["--config", self.config] if self.config else [])

    def sshd_config(self):
        if self.command is None:
            return {}
        return {"AuthorizedKeysFile": "none", "AuthorizedKeysCommand": self.command,
                "AuthorizedKeysCommandUser": self.command_user}

    def source(self):
        """What sshd logs as the file a key was found in."""
        return self.command if self.command else self.authorized_keys

    def line_of(self, key):
        """The line sshd reads the key from: its line in authorized_keys, or 1 (%f)."""
        if self.command:
            return 1
        with open(self.authorized_keys) as f:
            for n, line in enumerate(f, 1):
                if key.blob in line.split():
                    return n
        return None


def kw(way, sub, *args, input=None):
    """Runs keyward SUB as root with the way's --account and --config."""
    argv = [KEYWARD, sub] + way.args() + list(args)
    return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=120,
                          stdin=None if input is not None else subprocess.DEVNULL)


def show(r):
    return f"exit {r.returncode}\n--- stdout\n{r.stdout}--- stderr\n{r.stderr}"


def check_store(c, way, what):
    """`keyward check` must say the rendered file is what render writes."""
    r = kw(way, "check")
    c.check(r.returncode == 0 and "is what keyward renders" in r.stdout,
            f"{way.tag}   keyward check exits 0 after {what}", show(r))


def change(c, way, what, sub, *args, input=None, expect=None):
    """A keyward change that must succeed and leave `keyward check` at 0."""
    r = kw(way, sub, *args, input=input)
    ok = r.returncode == 0 and (expect is None or re.search(expect, r.stdout, re.M) is not None)
    c.check(ok, f"{way.tag} {what}", show(r))
    check_store(c, way, what.split(":")[0])
    return r


def add(c, way, key, owner, device, *extra, stdin=False, what=None):
    args = ["--owner", owner, "--device", device] + list(extra)
    args.append("-" if stdin else key.public)
    text = open(key.public).read() if stdin else None
    r = change(c, way, what or f"keyward add {' '.join(extra)} {key.label}".replace("  ", " "),
               "add", *args, input=text,
               expect=rf"^added {re.escape(owner)}\+{re.escape(device)}\+\d{{8}}\+01\.pub "
                      + re.escape(key.fingerprint) + "$")
    m = re.search(r"^added (\S+) ", r.stdout, re.M)
    if m:
        way.files[key.label] = m.group(1)
    return r


def login(c, way, key, what, *, ok, stdout=None, log=(), command="id -un", **kw_args):
    """One real ssh login; checks the outcome, the output and sshd's log lines."""
    sshd, user = way.sshd, way.user
    mark = sshd.log_mark()
    r = h.ssh_login(user, key.private, sshd, command=command, **kw_args)
    good = r.ok == ok
    if not ok:
        good = good and r.returncode == 255 and "Permission denied (publickey)" in r.stderr
    if stdout is not None:
        good = good and r.stdout == stdout
    patterns = [log] if isinstance(log, (str, re.Pattern)) else list(log)
    if ok:
        patterns.append(f"Accepted publickey for {user.name} from ")
    else:
        patterns.append(f"Failed publickey for {user.name} from ")
    problem = ""
    for pattern in patterns:
        try:
            sshd.wait_for_log(pattern, since=mark)
        except h.HarnessError:
            good = False
            shown = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
            problem += f"no log line with {shown!r}\n"
    if not ok:
        # Refused means refused: no "Accepted" line for this key either.
        accepted = sshd.log_contains(f"Accepted key ED25519 {key.fingerprint} ", since=mark)
        if accepted and "Refused by key options" not in sshd.log_text(mark):
            good, problem = False, problem + f"sshd accepted the key: {accepted}\n"
    c.check(good, f"{way.tag}   ssh: {what}", f"{problem}{r}\n--- sshd log since the login:\n"
            + "\n".join(sshd.log_text(mark).splitlines()[-60:]))
    return r


def accepted_at(way, key):
    """The log line of a key found in the way's source at the line sshd reads."""
    return f"Accepted key ED25519 {key.fingerprint} found at {way.source()}:{way.line_of(key)}"


def folder_files(path):
    out = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            out[p] = os.lstat(p)
    return out


def list_json(way):
    r = kw(way, "list", "--all", "--json")
    try:
        return {e["file"]: e for e in json.loads(r.stdout)}
    except (ValueError, KeyError, TypeError):
        return {}


# --------------------------------------------------------------------------
# The central store folder under /var/lib (root-owned, removed afterwards)


def sweep_central():
    """Removes central store folders whose test process died (SIGKILL)."""
    for name in os.listdir(CENTRAL_BASE):
        if not name.startswith(CENTRAL_PREFIX):
            continue
        path = os.path.join(CENTRAL_BASE, name)
        try:
            with open(os.path.join(path, ".kwt-owner")) as f:
                owner = re.search(r"owner=(\d+\.\d+)", f.read()).group(1)
        except (OSError, AttributeError):
            continue
        if owner != h.process_identity(os.getpid()) and h.process_gone(owner):
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def central_store_parent():
    sweep_central()
    path = tempfile.mkdtemp(prefix=CENTRAL_PREFIX, dir=CENTRAL_BASE)
    try:
        os.chown(path, 0, 0)
        os.chmod(path, 0o755)
        h.write_file(os.path.join(path, ".kwt-owner"),
                     f"owner={h.process_identity(os.getpid())}\n")
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------
# The scenario, run for each way


def setup_way(c, way):
    """keyward init, with the owner and modes each layout needs."""
    r = kw(way, "init")
    c.check(r.returncode == 0 and os.path.isdir(os.path.join(way.store, "users")),
            f"{way.tag} keyward init {' '.join(way.args())}", show(r))
    for sub in ("", "users", "revoked", "!!README!!"):
        p = os.path.join(way.store, sub) if sub else way.store
        st = os.lstat(p)
        c.check(st.st_uid == way.user.uid, f"{way.tag}   {p} is owned by {way.user.name}",
                f"uid {st.st_uid}")
    if way.command and way.command_user != "root":
        for sub in ("users", "revoked"):
            mode = stat.S_IMODE(os.lstat(os.path.join(way.store, sub)).st_mode)
            c.check(mode == 0o755, f"{way.tag}   {sub}/ is 0755 (the command user reads it)",
                    oct(mode))


def short_expiry_start(c, way, key):
    """Adds a key that expires SHORT_EXPIRY_SECONDS from now and logs in at once."""
    expires = int(time.time()) + SHORT_EXPIRY_SECONDS
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(expires))
    add(c, way, key, "ivy@example.org", "shortlived", "--expires", stamp)
    login(c, way, key, f"a key expiring at {stamp}Z logs in before then", ok=True,
          stdout=way.user.name + "\n", log=accepted_at(way, key))
    c.check(time.time() < expires - 2, f"{way.tag}   ... and that login was before the expiry "
            "(else the machine is too slow for this check)", f"expiry {expires}, now {time.time()}")
    return expires


def short_expiry_end(c, way, key, expires):
    while time.time() < expires + 1:
        time.sleep(0.2)
    log = ([re.compile(re.escape(f"{way.source()}:{way.line_of(key)}: entry expired at ")
                       + r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")] if not way.command else [])
    login(c, way, key, "the same key, once its moment has passed, is refused with nothing "
          "re-rendered", ok=False, log=log)
    state = list_json(way).get(way.files.get(key.label), {}).get("state")
    c.check(state == "expired", f"{way.tag}   keyward list shows it as expired", state)
    check_store(c, way, "the expiry (nothing to re-render)")


def scenario_part1(c, way, keys):
    """add, refuse, revoke, reinstate, expiry."""
    user = way.user
    me = user.name + "\n"
    k = keys

    # An added key logs in; a key not in the store does not.
    add(c, way, k["laptop"], "alice@example.org", "laptop")
    name = way.files.get("laptop", "")
    path = os.path.join(way.store, "users", name)
    st = os.lstat(path) if name and os.path.exists(path) else None
    c.check(st is not None and st.st_uid == user.uid and stat.S_IMODE(st.st_mode) == 0o644,
            f"{way.tag}   users/{name} is {user.name}'s, 0644", st)
    with open(path) if st else open(os.devnull) as f:
        content = f.read()
    c.check(content == k["laptop"].line + "\n",
            f"{way.tag}   the key file holds the canonical key line", repr(content))
    st = os.lstat(way.authorized_keys) if os.path.exists(way.authorized_keys) else None
    c.check(st is not None and st.st_uid == user.uid and stat.S_IMODE(st.st_mode) == 0o600,
            f"{way.tag}   {way.authorized_keys} is {user.name}'s, 0600", st)
    log = [accepted_at(way, k["laptop"])]
    if way.command:
        log.append(f'AuthorizedKeysCommand command "{way.command.split(" %u")[0]} {user.name} '
                   f'{k["laptop"].fingerprint}" running as {way.command_user} ')
    login(c, way, k["laptop"], "an added key logs in (id -un prints the user)", ok=True,
          stdout=me, log=log)
    login(c, way, k["stranger"], "a key that was never added is refused", ok=False)

    # Revoke and reinstate (the key given on standard input).
    add(c, way, k["phone"], "bob@example.org", "phone", stdin=True,
        what="keyward add phone (key on standard input)")
    login(c, way, k["phone"], "the phone key logs in", ok=True, stdout=me,
          log=accepted_at(way, k["phone"]))
    phone = way.files.get("phone", "")
    change(c, way, "keyward revoke FINGERPRINT: revokes the phone key", "revoke",
           k["phone"].fingerprint, expect=rf"^revoked {re.escape(phone)} ")
    c.check(os.path.exists(os.path.join(way.store, "revoked", phone))
            and not os.path.exists(os.path.join(way.store, "users", phone)),
            f"{way.tag}   {phone} moved from users/ to revoked/")
    login(c, way, k["phone"], "a revoked key is refused", ok=False)
    login(c, way, k["laptop"], "the other key still logs in", ok=True, stdout=me)
    change(c, way, "keyward reinstate FILE: reinstates the phone key", "reinstate", phone,
           expect=rf"^reinstated {re.escape(phone)} ")
    login(c, way, k["phone"], "a reinstated key logs in again", ok=True, stdout=me,
          log=accepted_at(way, k["phone"]))

    # Expiry: --option expiry-time in the past is never a working key.
    before = set(os.listdir(os.path.join(way.store, "users")))
    r = kw(way, "add", "--owner", "dave@example.org", "--device", "old",
           "--option", 'expiry-time="20000101"', k["old"].public)
    if r.returncode == 0:
        m = re.search(r"^added (\S+) ", r.stdout, re.M)
        way.files["old"] = m.group(1) if m else ""
        state = list_json(way).get(way.files["old"], {}).get("state")
        c.check(state == "expired", f"{way.tag} keyward add --option expiry-time=\"20000101\" "
                "accepts the key and lists it as expired", f"{state}\n{show(r)}")
        check_store(c, way, "adding an already expired key")
        log = [] if way.command else [
            f"{way.source()}:{way.line_of(k['old'])}: entry expired at 2000-01-01T00:00:00",
            "Refused by key options"]
        login(c, way, k["old"], "a key added with expiry-time in the past is refused", ok=False,
              log=log)
    else:
        c.check(set(os.listdir(os.path.join(way.store, "users"))) == before,
                f"{way.tag} keyward add --option expiry-time=\"20000101\" is refused and "
                "writes nothing", show(r))
        login(c, way, k["old"], "that key is refused", ok=False)

    # Expiry: --days 1 logs in; its file rewritten as expired is refused.
    add(c, way, k["tablet"], "erin@example.org", "tablet", "--days", "1")
    tablet = way.files.get("tablet", "")
    tablet_path = os.path.join(way.store, "users", tablet)
    with open(tablet_path) as f:
        line = f.read()
    m = re.match(r'^expiry-time="(\d{14})Z" ' + re.escape(k["tablet"].line) + "\n$", line)
    tomorrow = time.strftime("%Y%m%d", time.gmtime(time.time() + 86400))
    c.check(m is not None and m.group(1).startswith(tomorrow),
            f"{way.tag}   the key file says expiry-time=\"{tomorrow}...Z\"", repr(line))
    login(c, way, k["tablet"], "a key added with --days 1 logs in (sshd reads keyward's "
          "YYYYMMDDHHMMSSZ)", ok=True, stdout=me, log=accepted_at(way, k["tablet"]))
    # The file an administrator would write: same name, canonical line, expiry in the past.
    tmp = os.path.join(way.store, "users", ".e2e-edit")
    h.write_as(user, tmp, f'expiry-time="20000101000000Z" {k["tablet"].line}\n', 0o644)
    os.rename(tmp, tablet_path)
    r = kw(way, "check")
    c.check(r.returncode == 1 and "differs from what keyward renders" in r.stdout,
            f"{way.tag} keyward check exits 1 when users/ was edited by hand and not rendered",
            show(r))
    if way.command:
        login(c, way, k["tablet"], "the key made expired by hand is refused at once, before "
              "any render (keys does not trust the stale keys.index)", ok=False)
    change(c, way, "keyward render: renders the hand-expired key", "render",
           expect=r"^rendered ")
    log = [] if way.command else [
        f"{way.source()}:{way.line_of(k['tablet'])}: entry expired at 2000-01-01T00:00:00",
        "Refused by key options"]
    login(c, way, k["tablet"], "a key whose expiry-time has passed is refused", ok=False, log=log)
    state = list_json(way).get(tablet, {}).get("state")
    c.check(state == "expired", f"{way.tag}   keyward list shows it as expired", state)


def scenario_part2(c, way, keys):
    """prune, from=, command=, a key file only root can read, owners and audit."""
    user = way.user
    me = user.name + "\n"
    k = keys
    phone = way.files.get("phone", "")
    tablet = way.files.get("tablet", "")
    r = change(c, way, "keyward prune: files the expired keys away", "prune",
               expect=rf"^pruned {re.escape(tablet)} ")
    c.check(os.path.exists(os.path.join(way.store, "revoked", tablet))
            and not any(e.get("state") == "expired" for e in list_json(way).values()),
            f"{way.tag}   prune moved every expired key into revoked/", show(r))
    login(c, way, k["tablet"], "a pruned key is refused", ok=False)

    # from= and command=.
    add(c, way, k["jump"], "frank@example.org", "jump", "--from", "127.0.0.2")
    login(c, way, k["jump"], "a --from 127.0.0.2 key is refused from 127.0.0.1", ok=False,
          log=[f"{way.source()}:{way.line_of(k['jump'])}: Authentication tried for {user.name} "
               "with correct key but not from a permitted host (host=127.0.0.1, ip=127.0.0.1, "
               "required=127.0.0.2).", "Refused by key options"])
    r = login(c, way, k["jump"], "... and logs in from 127.0.0.2", ok=True,
              source_address="127.0.0.2", command='echo "$SSH_CONNECTION"',
              log=f"Accepted publickey for {user.name} from 127.0.0.2 port ")
    c.check(r.stdout.startswith("127.0.0.2 "), f"{way.tag}   sshd saw 127.0.0.2 as the source",
            r)
    add(c, way, k["ci"], "grace@example.org", "ci", "--command", "echo forced")
    login(c, way, k["ci"], "a --command 'echo forced' key runs echo forced, not id -un",
          ok=True, stdout="forced\n",
          log=f"Starting session: forced-command (key-option) 'echo forced' for {user.name} ")

    if way.command:
        # A key file only root can read: keys, dropped to the user (b') or run as the
        # command user (b), cannot read it, so it is not printed.
        hand = f"hank@example.org+rootonly+{time.strftime('%Y%m%d', time.gmtime())}+01.pub"
        hand_path = os.path.join(way.store, "users", hand)
        h.write_file(hand_path, k["rootonly"].line + "\n", 0o600, 0, 0)
        login(c, way, k["rootonly"], f"a key file in users/ only root can read is not "
              f"printed by keys (running as {way.command_user}"
              + (", dropped to the user)" if way.command_user == "root" else ")"), ok=False)
        os.chmod(hand_path, 0o644)
        login(c, way, k["rootonly"], "... and is, at once, when it is readable (0644)",
              ok=True, stdout=me)
        change(c, way, "keyward render: renders the key file copied in by hand", "render",
               expect=r"^rendered ")

    # Who owns what keyward wrote; the audit log has every change.
    files = folder_files(way.store)
    files[way.store] = os.lstat(way.store)
    files[way.authorized_keys] = os.lstat(way.authorized_keys)
    if way.command:
        files.pop(os.path.join(way.store, "users", hand), None)
    wrong = {p: s.st_uid for p, s in files.items() if s.st_uid != user.uid}
    c.check(not wrong, f"{way.tag} every file keyward wrote is owned by {user.name}", wrong)
    writable = {p: oct(s.st_mode) for p, s in files.items() if s.st_mode & 0o022}
    c.check(not writable, f"{way.tag} nothing is group or world writable (StrictModes)", writable)
    actions = []
    with open(os.path.join(way.store, "audit.log")) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("account") == user.name:
                actions.append((rec.get("action"), rec.get("file")))
    want = [("add", way.files.get("laptop")), ("add", phone), ("revoke", phone),
            ("reinstate", phone), ("add", tablet), ("prune", tablet)]
    c.check(all(a in actions for a in want), f"{way.tag} audit.log records add, revoke, "
            "reinstate and prune", actions)


def init_makes_central_folder(c, way, other):
    """keyward init --account USER, as root, should make USER's folder in a central,
    root-owned store parent (reported bug: it drops to USER first, and fails)."""
    folder = os.path.join(os.path.dirname(way.store), other.name)
    r = subprocess.run([KEYWARD, "init", "--config", way.config, "--account", other.name],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    made = os.path.isdir(folder) and os.lstat(folder).st_uid == other.uid
    c.known_bug(r.returncode == 0 and made, f"{way.tag} keyward init --config CFG --account "
                f"USER makes USER's folder in the root-owned {os.path.dirname(way.store)}",
                show(r))


def keys_needs_no_authorized_keys_folder(c, way, akc, key):
    """keys never writes, so it must not need the rendered file's folder (reported bug)."""
    cfg_dir = os.path.dirname(way.config)
    cfg = h.write_file(os.path.join(cfg_dir, "store-only.conf"),
                       json.dumps({"store": os.path.dirname(way.store) + "/%u"}) + "\n")
    h.mkdir_as(way.user, way.user.ssh_dir(), 0o700)
    r = h.run_as(akc, [way.command.split()[0], "keys", "--config", cfg, way.user.name,
                       key.fingerprint])
    c.known_bug(r.returncode == 0 and key.blob in r.stdout,
                f"{way.tag} keys with a central store and the default authorized_keys "
                "(%h/.ssh/authorized_keys, ~/.ssh 0700) still prints the key to the command "
                "user", f"exit {r.returncode}: {r.stdout}{r.stderr}")
    os.rmdir(way.user.ssh_dir())


def main():
    h.skip_unless_root("the store-against-sshd test")
    h.require_tools()
    if not os.access(KEYWARD, os.X_OK):
        print(f"FAIL: keyward binary {KEYWARD} not found: set KEYWARD_BIN")
        sys.exit(1)
    start = time.monotonic()
    c = Checks()
    gone_users, gone_sshd, gone_paths = [], [], []
    try:
        with contextlib.ExitStack() as stack:
            keys_dir = h.tempdir("keys")
            labels = ["laptop", "stranger", "phone", "old", "tablet", "jump", "ci", "rootonly",
                      "shortlived"]
            keys = {label: Key(keys_dir, label) for label in labels}
            ua = stack.enter_context(h.SystemUser("store-a"))
            ub = stack.enter_context(h.SystemUser("store-b"))
            uc = stack.enter_context(h.SystemUser("store-c"))
            akc = stack.enter_context(h.SystemUser("akc", system=True))
            gone_users += [(u.name, u.home) for u in (ua, ub, uc, akc)]
            central = stack.enter_context(central_store_parent())
            gone_paths.append(central)
            bin_dir = stack.enter_context(h.RootOwnedDir())
            gone_paths.append(bin_dir.path)
            cmd = bin_dir.install_copy(KEYWARD, "keyward")
            central_cfg = h.write_file(os.path.join(bin_dir.path, "central.conf"), json.dumps({
                "store": central + "/%u", "authorized_keys": central + "/%u/authorized_keys"},
                indent=2) + "\n")
            default_cfg = h.write_file(os.path.join(bin_dir.path, "default.conf"), json.dumps({
                "store": "%h/.ssh", "authorized_keys": "%h/.ssh/authorized_keys"}) + "\n")
            c.check(h._secure_chain(cmd) is None, f"root-owned keyward copy {cmd}",
                    h._secure_chain(cmd))

            # (a) keyward's own default (no --config) unless this machine has one.
            a_cfg = default_cfg if os.path.exists("/etc/keyward.conf") else None
            way_a = Way("(a) ", "AuthorizedKeysFile on the rendered file", ua, config=a_cfg)
            way_b = Way("(b) ", "AuthorizedKeysCommand, command user, central store", ub,
                        config=central_cfg, command=f"{cmd} keys --config {central_cfg} %u %f",
                        command_user=akc.name, store=os.path.join(central, ub.name),
                        authorized_keys=os.path.join(central, ub.name, "authorized_keys"))
            way_c = Way("(b')", "AuthorizedKeysCommand as root, %h/.ssh", uc,
                        config=default_cfg, command=f"{cmd} keys --config {default_cfg} %u %f",
                        command_user="root")
            # The central per-user folder: keyward init drops to the user before its
            # mkdir, which the root-owned parent refuses (a known bug, checked at the
            # end), so root makes it here: the user's, 0755 for the command user.
            h.mkdir_as(ub, way_b.store, 0o755)
            ways = [way_a, way_b, way_c]
            for way in ways:
                print(f"--- {way.tag} {way.title}: user {way.user.name}", flush=True)
                setup_way(c, way)
                way.sshd = stack.enter_context(h.Sshd(way.sshd_config()))
                gone_sshd.append(h.process_identity(way.sshd.pid))
            # The short-lived key first in every way, so that its expiry passes meanwhile.
            expiries = [short_expiry_start(c, way, keys["shortlived"]) for way in ways]
            for way in ways:
                print(f"--- {way.tag} {way.title}: {way.sshd!r}", flush=True)
                scenario_part1(c, way, keys)
            print("--- expiry without a render, in every way", flush=True)
            for way, expires in zip(ways, expiries):
                short_expiry_end(c, way, keys["shortlived"], expires)
            for way in ways:
                print(f"--- {way.tag} {way.title}, continued", flush=True)
                scenario_part2(c, way, keys)
                c.check(way.sshd.alive(), f"{way.tag} sshd still runs")
            print("--- reported bugs, documented, not counted", flush=True)
            init_makes_central_folder(c, way_b, uc)
            keys_needs_no_authorized_keys_folder(c, way_b, akc, keys["laptop"])
    except h.HarnessError as e:
        c.check(False, "the harness set up and tore down cleanly", e)
    finally:
        for name, home in gone_users:
            try:
                pwd.getpwnam(name)
                present = True
            except KeyError:
                present = os.path.exists(home) if home not in (None, "/nonexistent") else False
            c.check(not present, f"user {name} is removed with its home")
        for ident in gone_sshd:
            c.check(h.process_gone(ident), f"sshd {ident} is gone")
        for path in gone_paths:
            c.check(not os.path.exists(path), f"{path} is removed")
        h.cleanup_all()
    print(f"store against sshd: {c.count} checks, {len(c.failures)} failure(s), "
          f"{len(c.known)} known bug(s) reported, {time.monotonic() - start:.1f}s")
    if c.failures:
        print("FAILED: " + "; ".join(c.failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
