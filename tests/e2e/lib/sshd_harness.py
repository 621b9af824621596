"""End-to-end test harness: a real OpenSSH sshd, real system users, real ssh.

Python 3 standard library only. Needs root (useradd, sshd), the Debian
packages openssh-server and openssh-client (scripts/install-deps.sh), and
nothing from /etc/ssh: every sshd gets its own config and host key in a
temporary folder and listens on 127.0.0.1 only, on a free port.

Everything the harness creates -- users, sshd processes, files -- is removed
when its ``with`` block ends, and whatever is still there is removed at exit
(atexit) and on SIGTERM, SIGINT and SIGHUP (the handler raises
``Interrupted``, a ``SystemExit`` with code 128+signal, so ``finally`` blocks
run too; the atexit hook then removes the rest). Against SIGKILL (a CTest
timeout) each sshd dies with the test process (PR_SET_PDEATHSIG), and users
and folders carry the owning process's pid and start time, so the next run of
any harness test removes leftovers whose owner is dead (``sweep_stale``).
Set KWT_E2E_KEEP=1 to keep the temporary folders (logs, configs) for
debugging; users and processes are removed anyway.

Typical use::

    import os, sys
    sys.dont_write_bytecode = True      # no __pycache__ in the source tree
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
    import sshd_harness as h

    h.skip_unless_root()                # prints "SKIP: ..." and exits 0
    with h.SystemUser("keys") as user, h.SystemUser("akc", system=True) as akc:
        priv, pub = h.make_keypair(h.tempdir("keys"))
        cmd = h.install_root_owned_copy(os.environ["KEYWARD_BIN"])
        with h.Sshd({"AuthorizedKeysFile": "none",
                     "AuthorizedKeysCommand": f"{cmd} keys %u",
                     "AuthorizedKeysCommandUser": akc.name}) as sshd:
            mark = sshd.log_mark()
            r = h.ssh_login(user, priv, sshd, command="id -un")
            assert r.returncode == 0 and r.stdout.strip() == user.name, r
            sshd.wait_for_log(f"Accepted publickey for {user.name} ", since=mark)

API
---
Users
  ``SystemUser(name_prefix="u", *, system=False, home_base=None,
  shell="/bin/sh", password="*", home_mode=0o755)`` -- context manager.
  Creates a real user ``kwt-<prefix>-<6 hex>`` (prefix cut so the name stays
  short) with its own group, with useradd. A normal user gets a home
  ``<home_base>/<name>`` (default: the run's temporary folder, which is
  world-traversable; ``home_base="/home"`` works too) with nothing in it, and
  shell /bin/sh. ``system=True`` makes a system account (useradd -r) without
  home and with shell /usr/sbin/nologin, e.g. for AuthorizedKeysCommandUser.
  The shadow password becomes ``password`` (``usermod -p``): "*" by default,
  which sshd accepts for public keys; with UsePAM no, Debian's sshd refuses a
  "!"-locked account (useradd's default), so pass ``password="!"`` to test
  that. Attributes: ``name uid gid home shell``. Methods:
  ``ssh_dir()``, ``authorized_keys_path()``,
  ``write_authorized_keys(text_or_lines, mode=0o600, ssh_dir_mode=0o700)``
  (creates ~/.ssh owned by the user), ``processes()``, ``exists()``,
  ``remove()``. On exit it kills every process of the uid, then
  ``userdel -r -f``, and checks that the user, its group and home are gone.

sshd
  ``Sshd(config_overrides=None, port=None, *, extra_config="",
  ready_timeout=30)`` -- context manager. Writes sshd_config in a fresh
  folder (``.dir``) with its own ed25519 host key and these defaults:
  ListenAddress 127.0.0.1, Port N, AddressFamily inet, HostKey, PidFile,
  UsePAM no, PasswordAuthentication no, KbdInteractiveAuthentication no,
  PubkeyAuthentication yes, StrictModes yes, LogLevel DEBUG3,
  AuthorizedKeysFile .ssh/authorized_keys, PermitRootLogin no, PrintMotd no,
  PrintLastLog no, X11Forwarding no, UseDNS no, MaxStartups 100:30:200.
  ``config_overrides`` maps keyword -> value, case-insensitively replacing a
  default: str/int as is, bool as yes/no, a list/tuple writes the keyword once
  per item, None removes the default. Port cannot be overridden (use
  ``port=``), ListenAddress must stay on loopback. ``extra_config`` is raw
  text appended at the end (put ``Match`` blocks there). The file is checked
  with ``sshd -t`` (HarnessError with sshd's message if it is wrong), then
  ``/usr/sbin/sshd -D -e -f CFG`` runs as a child with stdout and stderr in
  ``.log_path``; it is ready when its log says "Server listening on 127.0.0.1
  port N." (if the port was taken meanwhile, another free port is tried).
  Attributes: ``port host pid dir config_path log_path host_key_path
  host_public_key known_hosts_path``. Methods: ``log_text(since=0)``,
  ``log_mark()`` (current log size, to read only what a later login logged),
  ``log_contains(text_or_regex, since=0)``,
  ``wait_for_log(text_or_regex, since=0, timeout=15)`` -> the matching line
  (sshd logs some lines, e.g. "Connection closed by authenticating user",
  after the client has exited, so wait rather than read once),
  ``dump_log(tail=200)``, ``alive()``, ``stop()``, ``config_text()``.
  /run/sshd (sshd's privilege separation folder) is created if missing and
  left in place: other sshd processes may use it.

Clients
  ``ssh_login(user, key_path, port, command="true", extra_opts=(),
  source_address=None, *, host="127.0.0.1", cert_path=None, input=None,
  timeout=60, verbose=False)`` -> ``SshResult(returncode, stdout, stderr)``
  (a named tuple; ``.ok`` is returncode == 0). ``user`` is a SystemUser or a
  name, ``port`` an int or an Sshd. Runs ``ssh -F /dev/null -i KEY
  -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o GlobalKnownHostsFile=/dev/null -o PasswordAuthentication=no
  -o KbdInteractiveAuthentication=no -o ConnectTimeout=10 -o LogLevel=ERROR
  -p PORT USER@127.0.0.1 COMMAND``. Each item of ``extra_opts`` is passed
  as ``-o ITEM``, or as it is if it starts with "-", before those defaults:
  ssh keeps the first value of an option, so extra_opts override them (e.g.
  ``["StrictHostKeyChecking=yes", f"UserKnownHostsFile={sshd.known_hosts_path}"]``
  pins the sshd's host key).
  ``source_address`` (e.g. "127.0.0.2": Linux routes all of 127/8 to lo)
  tests from= restrictions. ``cert_path`` adds ``-o CertificateFile=``.
  ``command`` is a string (the remote shell parses it), a list (quoted with
  shlex.join) or None (no command). ``verbose`` replaces LogLevel=ERROR by
  -vvv. returncode is the remote command's status, 255 for an ssh error such
  as "Permission denied (publickey)." in stderr. A client that hangs past
  ``timeout`` is killed and HarnessError is raised.
  ``can_login(...)`` -- same arguments, True when ``ssh ... true`` exits 0.

Keys and certificates (ssh-keygen)
  ``make_keypair(dir, type="ed25519", bits=None, comment="", name=None)`` ->
  (private_path, public_path), no passphrase, private key 0600.
  ``read_public_key(pub_path)`` -> the key line without newline.
  ``sign_user_cert(ca_private, pub_path, identity, principals=(),
  validity=None, serial=None, options=())`` -> certificate path.
  ``make_krl(krl_path, pub_paths, update=False)`` -> krl_path.

Files (as root, with exact owner and mode; never follows a symlink)
  ``write_file(path, content, mode=0o644, uid=0, gid=0)``,
  ``write_as(user, path, content, mode=0o600)``,
  ``mkdir_as(user, path, mode=0o700)`` (fixes owner/mode if it exists),
  ``tempdir(prefix="d", mode=0o755)`` -- a fresh folder in the run's
  temporary folder, removed at exit.
  ``run_as(user, argv, **kw)`` -- subprocess.run as that user (uid, gid, no
  supplementary groups, HOME/USER/LOGNAME set), capture_output/text default.

Root-owned executables (AuthorizedKeysCommand)
  ``install_root_owned_copy(src, name=None, mode=0o755)`` -> path of a copy
  in a fresh root-owned 0755 folder whose every parent is root-owned and not
  group/world-writable (under /run, /opt or /usr/local/lib: never /tmp,
  which is world-writable), on a filesystem that allows exec.
  ``install_root_owned_script(text, name="command.sh")`` -> the same for a
  script body. ``remove_root_owned(path)`` removes it early; otherwise it
  goes at exit. ``RootOwnedDir()`` is the context manager beneath
  (``.path``, ``.install_copy()``, ``.install_script()``, ``.remove()``).

Other
  ``skip_unless_root(what)``, ``skip(reason)`` (prints "SKIP: reason", exit
  0), ``require_tools()``, ``cleanup_all()``, ``sweep_stale()``,
  ``process_identity(pid)`` and ``process_gone(identity)``,
  ``HarnessError``, ``Interrupted``.

What sshd (OpenSSH 9.2, Debian 12) needs and says
-------------------------------------------------
- sshd must be started by absolute path and needs /run/sshd.
- UsePAM no: a shadow password starting with "!" (useradd's default) means
  locked: "User NAME not allowed because account is locked". "*" is fine.
- StrictModes: the authorized_keys file and every folder from it up to the
  home (inclusive) must be owned by the user or root and not group/world
  writable, else "Authentication refused: bad ownership or modes for file
  PATH" / "... for directory PATH". Folders above the home are not checked,
  so homes under /tmp work; an AuthorizedKeysFile outside the home is
  checked up to /, so it cannot live under /tmp.
- AuthorizedKeysCommand needs AuthorizedKeysCommandUser, an absolute path,
  and the program and every folder up to / owned by root and not
  group/world writable: under /tmp it logs 'Unsafe AuthorizedKeysCommand
  "PATH": bad ownership or modes for directory /tmp' and allows no key.
  The program runs as AuthorizedKeysCommandUser.
- Log phrases (LogLevel DEBUG3 shows them all), checked by the self-test.
  KEY is e.g. "ED25519 SHA256:<base64>", AK the authorized_keys path, P a
  client port. Each refusal also logs "Failed publickey for USER from IP
  port P ssh2: KEY" and, after the client left, "Connection closed by
  authenticating user USER IP port P [preauth]".
    ready:        "Server listening on 127.0.0.1 port N."
    accepted:     "Accepted key KEY found at AK:LINE" then
                  "Accepted publickey for USER from IP port P ssh2: KEY"
    key unknown:  "Failed publickey for USER from IP port P ssh2: KEY"
    from=:        "AK:LINE: Authentication tried for USER with correct key but
                  not from a permitted host (host=127.0.0.1, ip=127.0.0.1,
                  required=127.0.0.2)." then "Refused by key options"
    expiry-time=: "debug1: AK:LINE: entry expired at 2000-01-01T00:00:00"
                  then "Refused by key options"
    command=:     "Starting session: forced-command (key-option) 'echo forced'
                  for USER from IP port P id 0" (a plain one: "Starting
                  session: command for USER ...")
    RevokedKeys:  "Authentication key KEY revoked by file PATH"
    certificate:  "Accepted certificate ID "ID" (serial S) signed by ED25519
                  CA KEY via CA_PATH", then "Accepted publickey for USER from
                  IP port P ssh2: ED25519-CERT SHA256:... ID ID (serial S) CA
                  KEY"; refused: "Certificate invalid: name is not a listed
                  principal", "Certificate invalid: expired"
    StrictModes:  "Authentication refused: bad ownership or modes for file AK"
                  ("... for directory DIR"); debug3 says "Ignored authorized
                  keys: bad ownership or modes for ..."
    unreadable:   "Could not open user 'USER' authorized keys 'AK':
                  Permission denied" (sshd reads AK with the user's rights)
    command run:  "debug3: subprocess: AuthorizedKeysCommand command "PATH
                  ARGS" running as AKC_USER (flags 0x6)"; a key it prints is
                  "Accepted key KEY found at PATH %u %f:LINE" (the configured
                  command line stands for the file name)
    unsafe cmd:   "Unsafe AuthorizedKeysCommand "PATH": bad ownership or modes
                  for directory /tmp"
    locked:       "User USER not allowed because account is locked", then
                  "Connection closed by invalid user USER IP port P [preauth]"
- Debian's sshd (user-group-modes patch) also accepts a group-writable
  authorized_keys or ~/.ssh when the group is the user's private group with
  no other member, as useradd -U makes; world-writable is always refused.
- The ssh client exits 255 for any failure of its own ("Permission denied
  (publickey)." on stderr); otherwise with the remote command's status.
"""

import atexit
import ctypes
import itertools
import os
import pwd
import grp
import re
import secrets
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import namedtuple

SSHD = "/usr/sbin/sshd"
PRIVSEP_DIR = "/run/sshd"
LOOPBACK = "127.0.0.1"
MARK = "kwt-e2e"  # names of folders, GECOS of users
_KEEP = os.environ.get("KWT_E2E_KEEP", "") not in ("", "0")


class HarnessError(Exception):
    """Something the harness could not set up or tear down."""


class Interrupted(SystemExit):
    """Raised in the main thread on SIGTERM/SIGINT/SIGHUP; exit code 128+sig."""

    def __init__(self, signum):
        super().__init__(128 + signum)
        self.signum = signum


# --------------------------------------------------------------------------
# Processes


def _proc_stat(pid):
    """(state, ppid, starttime) of a process, or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    return rest[0].decode(), int(rest[1]), rest[19].decode()


def process_identity(pid):
    """A token naming this process (pid and start time), or None if it is gone."""
    st = _proc_stat(pid)
    if st is None or st[0] in ("Z", "X"):
        return None
    return f"{pid}.{st[2]}"


def process_gone(identity):
    """True if the process named by process_identity() no longer runs."""
    if identity is None:
        return True
    pid = int(identity.split(".")[0])
    return process_identity(pid) != identity


def _all_pids():
    return [int(n) for n in os.listdir("/proc") if n.isdigit()]


def _descendants(root_pid):
    children = {}
    for pid in _all_pids():
        st = _proc_stat(pid)
        if st is not None:
            children.setdefault(st[1], []).append(pid)
    out, todo = [], [root_pid]
    while todo:
        for child in children.get(todo.pop(), []):
            ident = process_identity(child)
            if ident:
                out.append(ident)
            todo.append(child)
    return out


def _uid_processes(uid):
    """Live (non-zombie) processes with uid as real, effective, saved or fs uid."""
    pids = []
    for pid in _all_pids():
        try:
            with open(f"/proc/{pid}/status") as f:
                status = f.read()
        except OSError:
            continue
        m = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M)
        s = re.search(r"^State:\s+(\S)", status, re.M)
        if m and uid in map(int, m.groups()) and not (s and s.group(1) in "ZX"):
            pids.append(pid)
    return pids


def _kill_uid_processes(uid):
    if uid == 0:
        raise HarnessError("refusing to kill the processes of uid 0")
    for _ in range(200):
        pids = [p for p in _uid_processes(uid) if p != os.getpid()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    raise HarnessError(f"processes of uid {uid} survive SIGKILL: {_uid_processes(uid)}")


def _kill_identities(identities, sig=signal.SIGKILL):
    for ident in identities:
        if not process_gone(ident):
            try:
                os.kill(int(ident.split(".")[0]), sig)
            except ProcessLookupError:
                pass


_OWNER = None


def _owner():
    """This process as an owner token written on everything it creates."""
    global _OWNER
    if _OWNER is None:
        _OWNER = process_identity(os.getpid())
    return _OWNER


# --------------------------------------------------------------------------
# Cleanup registry, signals, stale leftovers

_lock = threading.RLock()
_cleanups = {}  # token -> (description, function); run newest first
_tokens = itertools.count()
_hooks_installed = False
_hooks_pid = None
_cleaning = False
_defer_depth = 0
_pending_signal = None
_interrupted = None


def _register(description, function):
    _install_hooks()
    with _lock:
        token = next(_tokens)
        _cleanups[token] = (description, function)
        return token


def _unregister(token):
    with _lock:
        _cleanups.pop(token, None)


def cleanup_all():
    """Runs every pending cleanup, newest first; reports errors, raises none."""
    global _cleaning
    if os.getpid() != _hooks_pid:
        return  # a forked child: the resources belong to the parent
    with _lock:
        was = _cleaning
        _cleaning = True
        try:
            while _cleanups:
                token = max(_cleanups)
                description, function = _cleanups.pop(token)
                try:
                    function()
                except Exception as e:  # keep going: remove everything else
                    print(f"sshd_harness: cleanup of {description} failed: {e}",
                          file=sys.stderr)
        finally:
            _cleaning = was


def _on_signal(signum, frame):
    global _interrupted, _pending_signal
    if os.getpid() != _hooks_pid:
        signal.signal(signum, signal.SIG_DFL)  # a forked child: die as usual
        os.kill(os.getpid(), signum)
        return
    if _cleaning or _interrupted is not None:
        return  # already cleaning up or unwinding: let it finish
    if _defer_depth:
        _pending_signal = signum
        return
    _interrupted = signum
    print(f"sshd_harness: {signal.Signals(signum).name}: cleaning up",
          file=sys.stderr)
    raise Interrupted(signum)


class _DeferSignals:
    """Delays the harness's signal handling while /etc/passwd is rewritten."""

    def __enter__(self):
        global _defer_depth
        _defer_depth += 1

    def __exit__(self, *exc):
        global _defer_depth, _pending_signal
        _defer_depth -= 1
        if _defer_depth == 0 and _pending_signal is not None and exc[0] is None:
            signum, _pending_signal = _pending_signal, None
            _on_signal(signum, None)


def _install_hooks():
    global _hooks_installed, _hooks_pid
    with _lock:
        if _hooks_installed:
            return
        _hooks_installed = True
        _hooks_pid = os.getpid()
    atexit.register(cleanup_all)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, _on_signal)
    sweep_stale()


def _parse_owner(text):
    m = re.search(r"owner=(\d+\.\d+)", text or "")
    return m.group(1) if m else None


def _owner_dead(owner):
    return owner is not None and owner != _owner() and process_gone(owner)


def sweep_stale():
    """Removes users, sshd processes and folders whose owning test process died.

    Only touches what carries the harness's mark and a dead owner's pid and
    start time, so parallel tests never remove each other's things. A folder
    is first renamed to kwt-e2e-swept-*, so that of two sweepers only one
    removes it and its old name is gone at once."""
    for base in [_temp_root()] + _ROOT_OWNED_BASES:
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            path = os.path.join(base, name)
            if not name.startswith(MARK + "-") or os.path.islink(path):
                continue
            if name.startswith(MARK + "-swept-"):
                shutil.rmtree(path, ignore_errors=True)
                continue
            try:
                with open(os.path.join(path, ".kwt-owner")) as f:
                    owner = _parse_owner(f.read())
            except OSError:
                continue
            if not _owner_dead(owner):
                continue
            _kill_identities(_sshd_identities_under(path))
            claimed = os.path.join(base, f"{MARK}-swept-{secrets.token_hex(4)}")
            try:
                os.rename(path, claimed)
            except OSError:
                continue  # another sweeper took it
            shutil.rmtree(claimed, ignore_errors=True)
    for pw in pwd.getpwall():
        if pw.pw_name.startswith("kwt-") and pw.pw_gecos.startswith(MARK + " "):
            if _owner_dead(_parse_owner(pw.pw_gecos)):
                try:
                    _remove_user(pw.pw_name)
                except Exception as e:
                    print(f"sshd_harness: stale user {pw.pw_name}: {e}", file=sys.stderr)


def _sshd_identities_under(path):
    found = []
    for dirpath, dirnames, filenames in os.walk(path):
        if "sshd.pid" in filenames:
            try:
                with open(os.path.join(dirpath, "sshd.pid")) as f:
                    pid = int(f.read().split()[0])
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read()
            except (OSError, ValueError, IndexError):
                continue
            if os.path.join(dirpath, "sshd_config").encode() in cmdline:
                found.append(process_identity(pid))
    return [i for i in found if i]


# --------------------------------------------------------------------------
# Small helpers


def skip(reason):
    print(f"SKIP: {reason}")
    sys.stdout.flush()
    sys.exit(0)


def skip_unless_root(what="this test"):
    if os.geteuid() != 0:
        skip(f"{what} needs root (it creates system users and runs sshd)")


def require_tools():
    missing = [t for t in (SSHD,) if not os.access(t, os.X_OK)]
    missing += [t for t in ("ssh", "ssh-keygen", "useradd", "usermod", "userdel")
                if shutil.which(t) is None]
    if missing:
        raise HarnessError(f"missing {', '.join(missing)}: run scripts/install-deps.sh "
                           "(packages openssh-server, openssh-client, passwd)")


def _run(argv, *, check=True, input=None, timeout=120, new_session=True, **kw):
    try:
        r = subprocess.run(argv, input=input, capture_output=True, timeout=timeout,
                           stdin=None if input is not None else subprocess.DEVNULL,
                           start_new_session=new_session, **kw)
    except subprocess.TimeoutExpired as e:
        raise HarnessError(f"{shlex.join(argv)}: no answer in {timeout}s") from e
    if check and r.returncode != 0:
        raise HarnessError(f"{shlex.join(argv)} exited {r.returncode}: "
                           f"{r.stderr.decode(errors='replace').strip()}")
    return r


def _run_shadow(argv, ok_codes=(0,)):
    """useradd/usermod/userdel, retried while another process holds the lock."""
    delay = 0.05
    for attempt in range(60):
        with _DeferSignals():
            r = _run(argv, check=False)
        err = r.stderr.decode(errors="replace")
        if r.returncode in ok_codes:
            return r
        if "lock" not in err.lower() and "try again" not in err.lower():
            break
        time.sleep(delay + secrets.randbelow(100) / 1000)
        delay = min(delay * 1.5, 0.5)
    raise HarnessError(f"{shlex.join(argv)} exited {r.returncode}: {err.strip()}")


def _temp_root():
    """tempfile's folder if every user can traverse it, else /tmp."""
    root = tempfile.gettempdir()
    path = os.path.realpath(root)
    while True:
        if not os.stat(path).st_mode & stat.S_IXOTH:
            return "/tmp"
        if path == "/":
            return root
        path = os.path.dirname(path)


_base = None


def base_dir():
    """The run's own temporary folder (0755), created on first use."""
    global _base
    with _lock:
        if _base is None:
            _install_hooks()
            path = tempfile.mkdtemp(prefix=f"{MARK}-{os.getpid()}-", dir=_temp_root())
            os.chmod(path, 0o755)
            write_file(os.path.join(path, ".kwt-owner"), f"owner={_owner()}\n")

            def remove():
                global _base
                _base = None
                if _KEEP:
                    print(f"sshd_harness: kept {path}", file=sys.stderr)
                else:
                    shutil.rmtree(path, ignore_errors=True)
            _register(f"folder {path}", remove)
            _base = path
        return _base


def tempdir(prefix="d", mode=0o755):
    """A fresh folder inside base_dir(), removed with it."""
    path = tempfile.mkdtemp(prefix=f"{prefix}-", dir=base_dir())
    os.chmod(path, mode)
    return path


def _uid_gid(user):
    if isinstance(user, SystemUser):
        return user.uid, user.gid
    if isinstance(user, pwd.struct_passwd):
        return user.pw_uid, user.pw_gid
    if isinstance(user, int):
        return user, pwd.getpwuid(user).pw_gid
    pw = pwd.getpwnam(str(user))
    return pw.pw_uid, pw.pw_gid


def _user_name(user):
    if isinstance(user, SystemUser):
        return user.name
    if isinstance(user, pwd.struct_passwd):
        return user.pw_name
    return str(user)


def write_file(path, content, mode=0o644, uid=0, gid=0):
    """Writes path (str or bytes content) with exactly this owner and mode.

    Refuses to follow a symlink at path; replaces an existing file's content."""
    data = content.encode() if isinstance(content, str) else bytes(content)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    return path


def write_as(user, path, content, mode=0o600):
    """write_file owned by user (SystemUser, name, uid or passwd entry) and its group."""
    uid, gid = _uid_gid(user)
    return write_file(path, content, mode, uid, gid)


def mkdir_as(user, path, mode=0o700):
    """Creates folder path (or fixes an existing one) owned by user, with mode."""
    uid, gid = _uid_gid(user)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise HarnessError(f"{path} exists and is not a folder")
    os.chown(path, uid, gid, follow_symlinks=False)
    os.chmod(path, mode)
    return path


def run_as(user, argv, **kw):
    """subprocess.run(argv) as user: its uid and gid, no other groups."""
    uid, gid = _uid_gid(user)
    pw = pwd.getpwuid(uid)
    env = kw.pop("env", None)
    if env is None:
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": pw.pw_dir,
               "USER": pw.pw_name, "LOGNAME": pw.pw_name, "LANG": "C.UTF-8"}
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    kw.setdefault("cwd", "/")
    if "input" not in kw:
        kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(argv, user=uid, group=gid, extra_groups=[], env=env, **kw)


# --------------------------------------------------------------------------
# Users


def _remove_user(name):
    """Kills the user's processes and removes it, its group and home.

    Only for users whose GECOS carries the harness's mark."""
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        return
    if not pw.pw_gecos.startswith(MARK + " "):
        raise HarnessError(f"refusing to remove {name}: not created by the harness")
    _kill_uid_processes(pw.pw_uid)
    home = pw.pw_dir
    has_home = home not in ("", "/", "/nonexistent") and os.path.isdir(home) and \
        os.stat(home).st_uid == pw.pw_uid
    # 6: no such user (removed meanwhile); 12: home not removed, handled below
    _run_shadow(["userdel"] + (["-r"] if has_home else []) + ["-f", name], ok_codes=(0, 6, 12))
    _kill_uid_processes(pw.pw_uid)
    try:
        grp.getgrnam(name)
        _run_shadow(["groupdel", name], ok_codes=(0, 6))
    except KeyError:
        pass
    if has_home and os.path.lexists(home):
        shutil.rmtree(home, ignore_errors=True)
    try:
        pwd.getpwnam(name)
        raise HarnessError(f"user {name} still exists after userdel")
    except KeyError:
        pass


def _sanitize(prefix):
    s = re.sub(r"[^a-z0-9]+", "-", prefix.lower()).strip("-")
    return (s or "u")[:14]


class SystemUser:
    """A real account for the length of a with block. See the module doc."""

    def __init__(self, name_prefix="u", *, system=False, home_base=None, shell=None,
                 password="*", home_mode=0o755):
        self.prefix = _sanitize(name_prefix)
        self.system = system
        self.home_base = home_base
        self.shell = shell or ("/usr/sbin/nologin" if system else "/bin/sh")
        self.password = password
        self.home_mode = home_mode
        self.name = None
        self.uid = self.gid = None
        self.home = None
        self._token = None

    def __enter__(self):
        self.create()
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def create(self):
        require_tools()
        for _ in range(20):
            name = f"kwt-{self.prefix}-{secrets.token_hex(3)}"
            try:
                pwd.getpwnam(name)
                continue
            except KeyError:
                pass
            try:
                grp.getgrnam(name)
                continue
            except KeyError:
                break
        else:
            raise HarnessError("could not find a free user name")
        self.name = name
        # Registered before useradd: an interruption at any point is cleaned up.
        self._token = _register(f"user {name}", lambda: _remove_user(name))
        gecos = f"{MARK} owner={_owner()}"
        if self.system:
            self.home = "/nonexistent"
            argv = ["useradd", "-r", "-M", "-d", self.home, "-s", self.shell, "-U",
                    "-c", gecos, name]
        else:
            base = self.home_base or os.path.join(base_dir(), "home")
            os.makedirs(base, 0o755, exist_ok=True)
            skel = os.path.join(base_dir(), "skel")
            os.makedirs(skel, 0o755, exist_ok=True)
            self.home = os.path.join(base, name)
            argv = ["useradd", "-m", "-d", self.home, "-k", skel, "-s", self.shell, "-U",
                    "-c", gecos, name]
        _run_shadow(argv)
        if self.password is not None:
            _run_shadow(["usermod", "-p", self.password, name])
        pw = pwd.getpwnam(name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        if not self.system:
            os.chown(self.home, self.uid, self.gid, follow_symlinks=False)
            os.chmod(self.home, self.home_mode)
        return self

    def remove(self):
        if self.name is None:
            return
        _remove_user(self.name)  # on failure stays registered: atexit tries again
        _unregister(self._token)

    def exists(self):
        try:
            pwd.getpwnam(self.name)
            return True
        except (KeyError, TypeError):
            return False

    def processes(self):
        return _uid_processes(self.uid)

    def ssh_dir(self):
        return os.path.join(self.home, ".ssh")

    def authorized_keys_path(self):
        return os.path.join(self.ssh_dir(), "authorized_keys")

    def write_authorized_keys(self, lines, mode=0o600, ssh_dir_mode=0o700):
        """Writes ~/.ssh/authorized_keys (a string, or lines joined with newlines)."""
        if not isinstance(lines, (str, bytes)):
            lines = "".join(line.rstrip("\n") + "\n" for line in lines)
        mkdir_as(self, self.ssh_dir(), ssh_dir_mode)
        return write_as(self, self.authorized_keys_path(), lines, mode)

    def __str__(self):
        return self.name or "<no user>"

    def __repr__(self):
        return f"SystemUser({self.name!r}, uid={self.uid}, home={self.home!r})"


# --------------------------------------------------------------------------
# Root-owned folders for AuthorizedKeysCommand

_ROOT_OWNED_BASES = ["/run", "/opt", "/usr/local/lib"]


def _secure_chain(path):
    """Why sshd's safe_path() would refuse path as a root-run program's folder, or None."""
    path = os.path.realpath(path)
    while True:
        st = os.lstat(path)
        if st.st_uid != 0:
            return f"{path} is not owned by root"
        if st.st_mode & 0o022:
            return f"{path} is group or world writable"
        if path == "/":
            return None
        path = os.path.dirname(path)


class RootOwnedDir:
    """A fresh folder that sshd accepts for AuthorizedKeysCommand programs."""

    def __init__(self, bases=None):
        self.bases = list(bases or _ROOT_OWNED_BASES)
        self.path = None
        self._token = None

    def __enter__(self):
        self.create()
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def create(self):
        _install_hooks()
        reasons = []
        for base in self.bases:
            if not os.path.isdir(base):
                reasons.append(f"{base}: missing")
                continue
            why = _secure_chain(base)
            if why is None and os.statvfs(base).f_flag & os.ST_NOEXEC:
                why = f"{base} is mounted noexec"
            if why is None and not os.access(base, os.W_OK):
                why = f"{base} is not writable"
            if why:
                reasons.append(why)
                continue
            path = tempfile.mkdtemp(prefix=f"{MARK}-{os.getpid()}-", dir=base)
            self._token = _register(f"folder {path}", lambda p=path: shutil.rmtree(p, True))
            os.chown(path, 0, 0)
            os.chmod(path, 0o755)
            write_file(os.path.join(path, ".kwt-owner"), f"owner={_owner()}\n")
            self.path = path
            return self
        raise HarnessError("no root-owned folder for an AuthorizedKeysCommand: "
                           + "; ".join(reasons))

    def install_copy(self, src, name=None, mode=0o755):
        dst = os.path.join(self.path, name or os.path.basename(src))
        shutil.copyfile(src, dst)
        os.chown(dst, 0, 0)
        os.chmod(dst, mode)
        return dst

    def install_script(self, text, name="command.sh", mode=0o755):
        return write_file(os.path.join(self.path, name), text, mode)

    def remove(self):
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            _unregister(self._token)
            self.path = None


_root_owned = {}  # installed path -> RootOwnedDir


def install_root_owned_copy(src, name=None, mode=0o755):
    """Copies src into a fresh root-owned folder; returns the copy's path."""
    d = RootOwnedDir().create()
    path = d.install_copy(src, name, mode)
    _root_owned[path] = d
    return path


def install_root_owned_script(text, name="command.sh", mode=0o755):
    d = RootOwnedDir().create()
    path = d.install_script(text, name, mode)
    _root_owned[path] = d
    return path


def remove_root_owned(path):
    d = _root_owned.pop(path, None)
    if d is not None:
        d.remove()


# --------------------------------------------------------------------------
# sshd

_DEFAULTS = [
    ("ListenAddress", LOOPBACK),
    ("AddressFamily", "inet"),
    ("UsePAM", "no"),
    ("PasswordAuthentication", "no"),
    ("KbdInteractiveAuthentication", "no"),
    ("PubkeyAuthentication", "yes"),
    ("StrictModes", "yes"),
    ("LogLevel", "DEBUG3"),
    ("AuthorizedKeysFile", ".ssh/authorized_keys"),
    ("PermitRootLogin", "no"),
    ("PrintMotd", "no"),
    ("PrintLastLog", "no"),
    ("X11Forwarding", "no"),
    ("UseDNS", "no"),
    ("MaxStartups", "100:30:200"),
]


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _ensure_privsep_dir():
    try:
        os.mkdir(PRIVSEP_DIR, 0o755)
        os.chmod(PRIVSEP_DIR, 0o755)
    except FileExistsError:
        pass


def _config_value(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


_libc = None


def _pdeathsig_preexec(parent):
    def preexec():
        # PR_SET_PDEATHSIG = 1: sshd gets SIGTERM if the test process dies.
        _libc.prctl(1, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
    return preexec


class Sshd:
    """A private sshd on 127.0.0.1 for the length of a with block. See the module doc."""

    def __init__(self, config_overrides=None, port=None, *, extra_config="",
                 ready_timeout=30, start_attempts=8):
        self.overrides = dict(config_overrides or {})
        self.fixed_port = port
        self.extra_config = extra_config
        self.ready_timeout = ready_timeout
        self.start_attempts = start_attempts
        self.host = LOOPBACK
        self.port = None
        self.proc = None
        self.pid = None
        self.dir = None
        self._token = None
        self._identity = None
        for key, value in self.overrides.items():
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key):
                raise HarnessError(f"bad sshd_config keyword {key!r}")
            if key.lower() == "port":
                raise HarnessError("set the port with Sshd(port=...), not Port")
            if key.lower() == "match":
                raise HarnessError("put Match blocks in extra_config")
            for v in value if isinstance(value, (list, tuple)) else [value]:
                if v is not None and ("\n" in str(v) or "\r" in str(v)):
                    raise HarnessError(f"sshd_config value of {key} has a line break")
            if key.lower() == "listenaddress":
                for v in value if isinstance(value, (list, tuple)) else [value]:
                    if v is not None and not re.match(r"^(127\.|\[?::1\]?)", str(v)):
                        raise HarnessError(f"ListenAddress {v} is not loopback")

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _config(self, port):
        entries = [("Port", port), ("HostKey", self.host_key_path),
                   ("PidFile", os.path.join(self.dir, "sshd.pid"))] + list(_DEFAULTS)
        lower = {k.lower(): k for k in self.overrides}
        lines = ["# written by tests/e2e/lib/sshd_harness.py"]
        used = set()
        for key, value in entries:
            if key.lower() in lower:
                used.add(key.lower())
                key = lower[key.lower()]
                value = self.overrides[key]
            values = value if isinstance(value, (list, tuple)) else [value]
            lines += [f"{key} {_config_value(v)}" for v in values if v is not None]
        for key, value in self.overrides.items():
            if key.lower() not in used:
                values = value if isinstance(value, (list, tuple)) else [value]
                lines += [f"{key} {_config_value(v)}" for v in values if v is not None]
        text = "\n".join(lines) + "\n"
        if self.extra_config:
            text += self.extra_config.rstrip("\n") + "\n"
        return text

    def config_text(self):
        with open(self.config_path) as f:
            return f.read()

    def start(self):
        global _libc
        require_tools()
        if self.proc is not None:
            raise HarnessError("this Sshd already runs")
        _ensure_privsep_dir()
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        self.dir = tempdir("sshd", 0o755)
        self.config_path = os.path.join(self.dir, "sshd_config")
        self.log_path = os.path.join(self.dir, "sshd.log")
        self.host_key_path = os.path.join(self.dir, "ssh_host_ed25519_key")
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kwt-e2e-host",
              "-f", self.host_key_path])
        with open(self.host_key_path + ".pub") as f:
            self.host_public_key = f.read().strip()
        self._token = _register(f"sshd in {self.dir}", self.stop)
        failures = []
        for attempt in range(self.start_attempts):
            port = self.fixed_port or _free_port()
            write_file(self.config_path, self._config(port), 0o644)
            r = _run([SSHD, "-t", "-f", self.config_path], check=False)
            if r.returncode != 0:
                raise HarnessError(
                    f"sshd -t refuses the config: {r.stderr.decode(errors='replace').strip()}\n"
                    f"--- {self.config_path}\n{self._config(port)}")
            outcome = self._launch(port)
            if outcome is None:
                self.port = port
                self.known_hosts_path = write_file(
                    os.path.join(self.dir, "known_hosts"),
                    f"[{self.host}]:{port} {self.host_public_key}\n")
                return self
            failures.append(f"port {port}: {outcome}")
            if self.fixed_port or "Address already in use" not in outcome:
                break
        self.stop()
        raise HarnessError("sshd did not start:\n" + "\n".join(failures))

    def _launch(self, port):
        """Starts sshd; None when it listens, else the reason it did not."""
        log = open(self.log_path, "ab")
        mark = log.tell()
        try:
            self.proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", self.config_path],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True,
                start_new_session=True, preexec_fn=_pdeathsig_preexec(os.getpid()))
        finally:
            log.close()
        self.pid = self.proc.pid
        self._identity = process_identity(self.pid)
        self._log_start = mark
        listening = f"Server listening on {LOOPBACK} port {port}."
        quiet = str(self._effective("LogLevel")).upper() in ("QUIET", "FATAL", "ERROR")
        deadline = time.monotonic() + self.ready_timeout
        delay = 0.01
        while True:
            if self.proc.poll() is not None:
                status, self.proc = self.proc.returncode, None
                text = self.log_text(since=mark).strip()
                return f"sshd exited with status {status}: {text[-2000:]}"
            if quiet:
                try:
                    socket.create_connection((LOOPBACK, port), timeout=2).close()
                    return None
                except OSError:
                    pass
            elif listening in self.log_text(since=mark):
                return None
            if time.monotonic() > deadline:
                self._terminate()
                return f"not listening after {self.ready_timeout}s: " + \
                    self.log_text(since=mark)[-2000:]
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def _effective(self, key):
        for k, v in self.overrides.items():
            if k.lower() == key.lower():
                return v
        return dict(_DEFAULTS).get(key)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _terminate(self):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        children = _descendants(proc.pid) if proc.poll() is None else []
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        # Per-connection children survive the listener; none must outlive us.
        _kill_identities(children)
        self.returncode = proc.returncode

    def stop(self):
        """Stops sshd and any of its connection processes. Idempotent."""
        try:
            self._terminate()
        finally:
            if self._token is not None:
                _unregister(self._token)
                self._token = None

    def log_mark(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_text(self, since=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def _find(self, pattern, since):
        for line in self.log_text(since).splitlines():
            if isinstance(pattern, re.Pattern):
                if pattern.search(line):
                    return line
            elif pattern in line:
                return line
        return None

    def log_contains(self, pattern, since=0):
        """The first log line (after since) containing the text or matching the regex."""
        return self._find(pattern, since)

    def wait_for_log(self, pattern, since=0, timeout=15):
        """Like log_contains but waits for the line; HarnessError if it never comes."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._find(pattern, since)
            if line is not None:
                return line
            if time.monotonic() > deadline:
                shown = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
                raise HarnessError(f"sshd log has no line with {shown!r}; log since mark:\n"
                                   + self.log_text(since)[-6000:])
            time.sleep(0.05)

    def dump_log(self, tail=200, since=0, file=None):
        lines = self.log_text(since).splitlines()[-tail:]
        print(f"--- sshd log {self.log_path} (last {len(lines)} lines)",
              file=file or sys.stderr)
        print("\n".join(lines), file=file or sys.stderr)

    def __repr__(self):
        return f"Sshd(port={self.port}, pid={self.pid}, dir={self.dir!r})"


# --------------------------------------------------------------------------
# ssh and ssh-keygen


class SshResult(namedtuple("SshResult", "returncode stdout stderr")):
    __slots__ = ()

    @property
    def ok(self):
        return self.returncode == 0


def ssh_login(user, key_path, port, command="true", extra_opts=(), source_address=None, *,
              host=LOOPBACK, cert_path=None, input=None, timeout=60, verbose=False):
    """Logs in with the real ssh client; returns SshResult(returncode, stdout, stderr)."""
    if isinstance(port, Sshd):
        host = port.host if host == LOOPBACK else host
        port = port.port
    # ssh keeps the first value it gets for an option: the caller's go first.
    argv = ["ssh", "-F", "/dev/null"]
    for opt in extra_opts:
        argv += [opt] if str(opt).startswith("-") else ["-o", str(opt)]
    if cert_path:
        argv += ["-o", f"CertificateFile={cert_path}"]
    if source_address:
        argv += ["-o", f"BindAddress={source_address}"]
    argv += ["-i", str(key_path),
             "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
             "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null",
             "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no",
             "-o", "ConnectTimeout=10", "-p", str(port)]
    argv += ["-vvv"] if verbose else ["-o", "LogLevel=ERROR"]
    argv.append(f"{_user_name(user)}@{host}")
    if command is not None:
        argv.append(command if isinstance(command, str) else shlex.join(command))
    env = {k: v for k, v in os.environ.items() if k not in ("SSH_AUTH_SOCK", "SSH_AGENT_PID")}
    if isinstance(input, str):
        input = input.encode()
    try:
        r = subprocess.run(argv, input=input, capture_output=True, timeout=timeout, env=env,
                           stdin=subprocess.DEVNULL if input is None else None)
    except subprocess.TimeoutExpired as e:
        raise HarnessError(f"ssh gave no answer in {timeout}s: {shlex.join(argv)}") from e
    return SshResult(r.returncode, r.stdout.decode("utf-8", errors="replace"),
                     r.stderr.decode("utf-8", errors="replace"))


def can_login(user, key_path, port, command="true", extra_opts=(), source_address=None,
              **kw):
    return ssh_login(user, key_path, port, command, extra_opts, source_address, **kw).ok


def make_keypair(dir, type="ed25519", bits=None, comment="", name=None):
    """ssh-keygen -N '': returns (private_path, public_path)."""
    path = os.path.join(dir, name or f"id_{type}_{secrets.token_hex(3)}")
    argv = ["ssh-keygen", "-q", "-t", type, "-N", "", "-C", comment, "-f", path]
    if bits:
        argv[4:4] = ["-b", str(bits)]
    _run(argv)
    return path, path + ".pub"


def read_public_key(pub_path):
    with open(pub_path) as f:
        return f.read().strip()


def sign_user_cert(ca_private, pub_path, identity, principals=(), validity=None,
                   serial=None, options=()):
    """ssh-keygen -s: signs pub_path; returns the certificate's path (<key>-cert.pub)."""
    argv = ["ssh-keygen", "-q", "-s", str(ca_private), "-I", identity]
    if principals:
        argv += ["-n", ",".join(principals)]
    if validity:
        argv += ["-V", validity]
    if serial is not None:
        argv += ["-z", str(serial)]
    for opt in options:
        argv += ["-O", opt]
    _run(argv + [str(pub_path)])
    base = str(pub_path)[:-4] if str(pub_path).endswith(".pub") else str(pub_path)
    return base + "-cert.pub"


def make_krl(krl_path, pub_paths, update=False):
    """ssh-keygen -k: an OpenSSH KRL revoking these public keys."""
    _run(["ssh-keygen", "-q", "-k", "-f", str(krl_path)] + (["-u"] if update else [])
         + [str(p) for p in pub_paths])
    return krl_path
