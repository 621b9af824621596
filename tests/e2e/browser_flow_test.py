#!/usr/bin/env python3
"""The self-service flow in a real headless Chromium.

Starts `keywardd --demo DIR` (accounts alice and bob, codes printed by the
console notifier on keywardd's standard output) and keyward-web on a free
loopback port, then runs tests/e2e/browser/flow.mjs: Debian's
/usr/bin/chromium driven by playwright-core (pinned in
tests/e2e/browser/package-lock.json; installed with `npm ci` when
node_modules is missing or holds another version).

What the browser checks, on what the pages show:
  - the login page; "alice" submitted; the code page; the code read from
    keywardd's output entered; the keys page names alice and lists her keys
    (none at first);
  - a fresh Ed25519 public key pasted with a device name and an owner: the
    page says it was added and its row shows the SHA256 fingerprint exactly
    as `ssh-keygen -lf` prints it, the owner, type, bits, date and state;
  - a private key pasted: the form says it is a private key and to paste the
    .pub file, shows no line of it, and adds nothing;
  - the key revoked through its confirmation: the page says so and shows it
    Revoked, with no revoke control;
  - a certificate: the "Get a certificate" form offers alice's roles (login
    chosen, deploy), the uploaded .pub file and a validity of +1d give the
    certificate page (what was signed, where to save it, `ssh alice@HOST`,
    `ssh-keygen -L -f`), and its Download button gives
    <key>-cert.pub, the certificate on the page;
  - a second context with JavaScript disabled: login, code, keys, and a
    "deploy" certificate for the pasted key (+2h refused with the role's
    maximum, +30m signed);
  - every request any page made went to keyward-web on 127.0.0.1; no console
    error, page error or failed request.
This script then checks the store on disk (the key is in alice's revoked/,
not in users/), the administrator's alerts and the audit log (an add and a
revoke with the fingerprint), the two certificates with `ssh-keygen -L`
(principals alice and deploy, deploy's force-command, signed by the demo's
CA, each in issued.log), that no code reached keywardd's request log or
keyward-web's log, and that both processes stop cleanly on SIGTERM.

Screenshots: $KEYWARD_BUILD_DIR/artifacts/browser/*.png (paths printed).
On failure the logs of both processes are copied there too.

Environment: KEYWARD_BUILD_DIR (keywardd and keyward-web), KEYWARD_SOURCE_DIR
(optional). KWT_E2E_KEEP=1 keeps the temporary folder. Exits non-zero on
failure; prints SKIP and exits 0 when Chromium, node or the binaries are
missing.
"""

import fcntl
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.stdout.reconfigure(line_buffering=True)
sys.stderr.reconfigure(line_buffering=True)

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("KEYWARD_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
BROWSER_DIR = os.path.join(SOURCE, "tests", "e2e", "browser")
BUILD = os.environ.get("KEYWARD_BUILD_DIR", "")
KEYWARDD = os.path.join(BUILD, "keywardd")
WEB = os.path.join(BUILD, "keyward-web")
CHROMIUM = os.environ.get("KWB_CHROMIUM", "/usr/bin/chromium")
NODE = shutil.which("node")
NPM = shutil.which("npm")
SSH_KEYGEN = shutil.which("ssh-keygen")
ARTIFACTS = os.path.join(BUILD, "artifacts", "browser")

NODE_TIMEOUT = int(os.environ.get("KWB_NODE_TIMEOUT", "150"))  # seconds; the flow takes ~10 s
NPM_TIMEOUT = 300

SHOTS = ["01-login", "02-code", "03-keys-empty", "04-key-added", "05-private-key-error", "06-revoked",
         "07-key-uploaded", "08-cert-form", "09-certificate", "10-nojs-login", "11-nojs-code", "12-nojs-keys",
         "13-nojs-certificate"]

failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, file=sys.stderr)
    return cond


def log(t0, msg):
    print("[%5.1fs] %s" % (time.time() - t0, msg), flush=True)


# ------------------------------------------------------------------ processes

def stop_group(proc, grace=10):
    """SIGTERM to the process group the child leads, SIGKILL after `grace`."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    # The leader may be gone while others of its group live on.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass
    return proc.returncode


def kill_by_marker(marker):
    """Kills what is left of the Chromium this test started: processes whose
    command line names this run's unique temporary folder (its
    --user-data-dir, its crash handler's database)."""
    killed = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if marker.encode() in cmd:
            try:
                os.kill(int(entry), signal.SIGKILL)
                killed.append(int(entry))
            except ProcessLookupError:
                pass
    return killed


def wait_for(pred, seconds, step=0.05):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def read(path):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# ------------------------------------------------------------ playwright-core

def lock_version(browser_dir):
    with open(os.path.join(browser_dir, "package-lock.json")) as f:
        return json.load(f)["packages"]["node_modules/playwright-core"]["version"]


def installed_version(browser_dir):
    try:
        with open(os.path.join(browser_dir, "node_modules", "playwright-core", "package.json")) as f:
            return json.load(f).get("version")
    except (OSError, ValueError):
        return None


def ensure_playwright(t0):
    """npm ci from the lockfile when node_modules lacks the pinned version.
    A lock in the build folder keeps two runs from installing at once."""
    want = lock_version(BROWSER_DIR)
    if installed_version(BROWSER_DIR) == want:
        return True
    os.makedirs(BUILD, exist_ok=True)
    with open(os.path.join(BUILD, ".browser-npm-ci.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed_version(BROWSER_DIR) == want:
            return True
        if not NPM:
            return check(False, "playwright-core %s is not installed and there is no npm" % want)
        log(t0, "installing playwright-core %s: npm ci --no-audit --no-fund in %s" % (want, BROWSER_DIR))
        env = dict(os.environ, npm_config_update_notifier="false", PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
        try:
            r = subprocess.run([NPM, "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=NPM_TIMEOUT)
        except subprocess.TimeoutExpired:
            return check(False, "npm ci took more than %d s" % NPM_TIMEOUT)
        if not check(r.returncode == 0 and installed_version(BROWSER_DIR) == want,
                     "npm ci failed (exit %d):\n%s" % (r.returncode, r.stdout[-3000:])):
            return False
        log(t0, "npm ci done")
    return True


# ---------------------------------------------------------------------- main

def make_key(tmp, name="id_e2e", comment="alice@e2e-laptop"):
    path = os.path.join(tmp, name)
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = subprocess.run([SSH_KEYGEN, "-lf", path + ".pub"], check=True, capture_output=True, text=True).stdout
    # "256 SHA256:... alice@e2e-laptop (ED25519)"
    return path, out.split()[1], out.strip()


def start_keywardd(tmp, t0):
    demo = os.path.join(tmp, "demo")
    out_path = os.path.join(tmp, "keywardd.out")
    err_path = os.path.join(tmp, "keywardd.err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([KEYWARDD, "--demo", demo], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
    sock = os.path.join(demo, "keywardd.sock")
    conf = os.path.join(demo, "keyward.conf")
    up = wait_for(lambda: (os.path.exists(sock) and os.path.exists(conf)) or proc.poll() is not None, 15)
    if not (up and proc.poll() is None):
        raise RuntimeError("keywardd --demo did not start (exit %r):\n%s%s"
                           % (proc.poll(), read(out_path), read(err_path)))
    log(t0, "keywardd --demo %s: pid %d" % (demo, proc.pid))
    return proc, demo, conf, out_path, err_path


def start_web(tmp, conf, t0):
    out_path = os.path.join(tmp, "keyward-web.out")
    err_path = os.path.join(tmp, "keyward-web.err")
    # Port 0: keyward-web binds a free loopback port and prints it.
    argv = [WEB, "--config", conf, "--listen", "127.0.0.1:0"]
    if os.geteuid() == 0:
        argv.append("--allow-root")  # the demo keywardd serves its own uid as web_user
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
    found = []

    def listening():
        m = re.search(r"listening on (http://127\.0\.0\.1:(\d+))/", read(out_path) + read(err_path))
        if m:
            found.append(m.group(1))
        return bool(m) or proc.poll() is not None

    wait_for(listening, 15)
    if not found or proc.poll() is not None:
        raise RuntimeError("keyward-web did not start (exit %r):\n%s%s" % (proc.poll(), read(out_path), read(err_path)))
    log(t0, "keyward-web at %s: pid %d" % (found[0], proc.pid))
    return proc, found[0], out_path, err_path


def check_store(demo, fingerprint, pub_path, upload_fp, upload_path):
    """The revoked key is in alice's revoked/, not in users/ nor in her
    authorized_keys; the uploaded one is in users/ and authorized_keys. What
    the page showed is what is on disk."""
    with open(pub_path) as f:
        blob = f.read().split()[1]
    with open(upload_path) as f:
        upload_blob = f.read().split()[1]
    alice = os.path.join(demo, "accounts", "alice")
    ak = read(os.path.join(alice, "authorized_keys"))
    check(ak.startswith("#"), "alice's authorized_keys was not rendered")
    check(blob not in ak, "the revoked key is still in alice's authorized_keys")
    check(upload_blob in ak, "the uploaded key is not in alice's authorized_keys")
    uploaded = [p for p in glob.glob(os.path.join(alice, "users", "*.pub")) if upload_blob in read(p)]
    if check(len(uploaded) == 1, "the uploaded key is not in alice's users/ exactly once: %r" % uploaded):
        check(re.fullmatch(r"alice@example\.org\+e2e-phone\+\d{8}\+\d{2}\.pub", os.path.basename(uploaded[0])),
              "the uploaded key's file name: %r" % uploaded[0])
        out = subprocess.run([SSH_KEYGEN, "-lf", uploaded[0]], capture_output=True, text=True).stdout.split()
        check(len(out) > 1 and out[1] == upload_fp, "the uploaded key's stored fingerprint is %r" % out[1:2])
    active = [p for p in glob.glob(os.path.join(alice, "users", "*.pub")) if blob in read(p)]
    revoked = [p for p in glob.glob(os.path.join(alice, "revoked", "*.pub")) if blob in read(p)]
    check(not active, "the revoked key is still in alice's users/: %r" % active)
    if check(len(revoked) == 1, "the key is not in alice's revoked/ exactly once: %r" % revoked):
        name = os.path.basename(revoked[0])
        check(re.fullmatch(r"alice@example\.org\+e2e-laptop\+\d{8}\+\d{2}\.pub", name),
              "the key file's name does not follow the naming rule: %r" % name)
        out = subprocess.run([SSH_KEYGEN, "-lf", revoked[0]], capture_output=True, text=True).stdout.split()
        check(len(out) > 1 and out[1] == fingerprint, "the stored key's fingerprint is %r, want %r" % (out[1:2], fingerprint))
    bob = os.path.join(demo, "accounts", "bob")
    check(not any(blob in read(p) for p in glob.glob(os.path.join(bob, "*", "*"))), "the key landed in bob's store")


def check_certificates(certificates, demo, upload_fp, tmp):
    """What the browser got is what the demo's CA signed for alice."""
    ca_fp = subprocess.run([SSH_KEYGEN, "-lf", os.path.join(demo, "ca", "user_ca.pub")], capture_output=True,
                           text=True).stdout.split()[1:2]
    issued = [json.loads(l) for l in read(os.path.join(demo, "ca", "issued.log")).splitlines() if l.strip()]
    for role, principal in (("login", "alice"), ("deploy", "deploy")):
        text = certificates.get(role, "")
        if not check(text.startswith("ssh-ed25519-cert-v01@openssh.com "), "no %s certificate from the browser" % role):
            continue
        path = os.path.join(tmp, "%s-cert.pub" % role)
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([SSH_KEYGEN, "-L", "-f", path], capture_output=True, text=True)
        out = p.stdout
        check(p.returncode == 0, "ssh-keygen -L cannot read the %s certificate: %s" % (role, p.stderr))
        check(re.search(r"Principals: \n\s+%s\n" % principal, out) is not None,
              "the %s certificate's principals:\n%s" % (role, out))
        check(ca_fp and ("Signing CA: ED25519 %s" % ca_fp[0]) in out, "the %s certificate's CA:\n%s" % (role, out))
        check(("Public key: ED25519-CERT %s" % upload_fp) in out, "the %s certificate's key:\n%s" % (role, out))
        m = re.search(r"Serial: (\d+)", out)
        check(m is not None and any(r["serial"] == int(m.group(1)) and r["role"] == role and r["account"] == "alice"
                                    for r in issued), "the %s certificate is not in issued.log" % role)
        if role == "deploy":
            check("force-command /usr/local/bin/deploy" in out, "deploy's force-command:\n" + out)


def check_daemon_output(out_text, err_text, demo, fingerprint, codes):
    # The administrator is alerted of the add and of the revoke.
    blocks = re.split(r"(?m)^keyward message to ", out_text)
    alerts = [b for b in blocks if fingerprint in b]
    check(any(re.search(r"\badd", b, re.I) for b in alerts) and any(re.search(r"\brevok", b, re.I) for b in alerts),
          "keywardd's console shows no add and revoke alert with the fingerprint:\n%s" % out_text[-2000:])
    # The audit log has both changes.
    audit = ""
    for path in (os.path.join(demo, "audit.log"), os.path.join(demo, "state", "audit.log")):
        audit += read(path)
    lines = [l for l in audit.splitlines() if fingerprint in l]
    check(any("add" in l for l in lines) and any("revoke" in l for l in lines),
          "keywardd's audit log lacks the add or the revoke of %s:\n%s" % (fingerprint, audit[-2000:]))
    # One request log line per request, never a code.
    check(re.search(r"op=login\b.*account=alice", err_text) and re.search(r"op=add_key\b", err_text)
          and re.search(r"op=revoke_key\b", err_text),
          "keywardd's request log lacks login, add_key or revoke_key:\n%s" % err_text[-2000:])
    for code in codes:
        check(code not in err_text, "a code reached keywardd's request log (standard error)")


class Interrupted(BaseException):
    """SIGTERM, SIGINT or SIGHUP: unwind so that the cleanup runs."""


def on_signal(signum, _frame):
    raise Interrupted("signal %d" % signum)


def main():
    t0 = time.time()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    if not BUILD:
        print("KEYWARD_BUILD_DIR is not set", file=sys.stderr)
        return 1
    missing = [what for what, ok in (("keywardd", os.path.exists(KEYWARDD)), ("keyward-web", os.path.exists(WEB)),
                                     ("chromium (%s)" % CHROMIUM, os.access(CHROMIUM, os.X_OK)), ("node", NODE),
                                     ("ssh-keygen", SSH_KEYGEN)) if not ok]
    if missing:
        print("SKIP: missing %s" % ", ".join(missing))
        return 0
    if not ensure_playwright(t0):
        return 1

    os.makedirs(ARTIFACTS, exist_ok=True)
    for old in glob.glob(os.path.join(ARTIFACTS, "*.png")) + glob.glob(os.path.join(ARTIFACTS, "*.log")):
        os.unlink(old)

    tmp = tempfile.mkdtemp(prefix="kwt-browser-")
    profile = os.path.join(tmp, "chromium-profile")  # a fresh --user-data-dir
    home = os.path.join(tmp, "home")
    daemon = web = node = None
    result = None
    daemon_out = daemon_err = web_out = web_err = None
    flow_seconds = 0.0
    try:
        os.mkdir(profile, 0o700)
        os.mkdir(home, 0o700)
        key_path, fingerprint, keygen_line = make_key(tmp)
        log(t0, "ssh-keygen -lf: %s" % keygen_line)
        upload_path, upload_fp, upload_line = make_key(tmp, "id_ed25519_phone", "alice@e2e-phone")
        log(t0, "ssh-keygen -lf: %s (to upload)" % upload_line)
        daemon, demo, conf, daemon_out, daemon_err = start_keywardd(tmp, t0)
        web, url, web_out, web_err = start_web(tmp, conf, t0)

        results_path = os.path.join(tmp, "results.json")
        env = dict(os.environ, KWB_URL=url, KWB_DAEMON_LOG=daemon_out, KWB_PUBKEY=key_path + ".pub",
                   KWB_PRIVKEY=key_path, KWB_FINGERPRINT=fingerprint,
                   KWB_UPLOAD_PUBKEY=upload_path + ".pub", KWB_UPLOAD_FINGERPRINT=upload_fp, KWB_PROFILE=profile,
                   KWB_ARTIFACTS=ARTIFACTS, KWB_RESULTS=results_path, KWB_CHROMIUM=CHROMIUM,
                   NODE_PATH="", PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1", TMPDIR=tmp,
                   # Chromium's crash handler and caches write under $HOME:
                   # keep them in the temporary folder too.
                   HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
                   XDG_CACHE_HOME=os.path.join(home, ".cache"))
        t_flow = time.time()
        node = subprocess.Popen([NODE, os.path.join(BROWSER_DIR, "flow.mjs")], cwd=BROWSER_DIR, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = node.wait(NODE_TIMEOUT)
        except subprocess.TimeoutExpired:
            rc = None
            check(False, "the browser flow took more than %d s" % NODE_TIMEOUT)
        stop_group(node, grace=5)
        flow_seconds = time.time() - t_flow
        log(t0, "browser flow: exit %r after %.1f s" % (rc, flow_seconds))
        check(rc == 0, "flow.mjs exited with %r" % rc)

        if os.path.exists(results_path):
            with open(results_path) as f:
                result = json.load(f)
        if check(result is not None, "flow.mjs wrote no results"):
            check(result["ok"] and not result["failures"], "the browser flow failed:\n  " + "\n  ".join(result["failures"]))
            check(result["sections"] == {"js": "passed", "nojs": "passed"}, "sections: %r" % result["sections"])
            check(result["checks"] >= 40, "only %d browser checks ran" % result["checks"])
            outside = [r for r in result["requests"] if not r.split(" ", 2)[2].startswith(url + "/")]
            check(result["requests"] and not outside, "requests not to %s: %r" % (url, outside))
            for name in SHOTS:
                path = os.path.join(ARTIFACTS, name + ".png")
                ok = os.path.exists(path) and os.path.getsize(path) > 1000
                if ok:
                    with open(path, "rb") as f:
                        ok = f.read(8) == b"\x89PNG\r\n\x1a\n"
                check(ok, "screenshot %s is missing or not a PNG" % path)

        # The browser's view agrees with the daemon's.
        check(daemon.poll() is None, "keywardd died during the flow (exit %r)" % daemon.poll())
        check(web.poll() is None, "keyward-web died during the flow (exit %r)" % web.poll())
        check_store(demo, fingerprint, key_path + ".pub", upload_fp, upload_path + ".pub")
        check_certificates((result or {}).get("certificates", {}), demo, upload_fp, tmp)
        out_text = read(daemon_out)
        codes = [m.group(1) for m in re.finditer(r"keyward code for \S+: (\d{6,10})", out_text)]
        check(len(codes) >= 2, "keywardd printed %d codes, want one per sign-in (2)" % len(codes))
        check_daemon_output(out_text, read(daemon_err), demo, fingerprint, codes)
        web_log = read(web_out) + read(web_err)
        for code in codes:
            check(code not in web_log, "a code reached keyward-web's log")

        # Both stop cleanly on SIGTERM.
        for name, proc in (("keyward-web", web), ("keywardd", daemon)):
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(10)
                check(rc == 0, "%s exited with %r on SIGTERM" % (name, rc))
            except subprocess.TimeoutExpired:
                check(False, "%s did not stop within 10 s of SIGTERM" % name)
    except Exception as e:  # a harness error is a failure, never a hang
        check(False, "harness: %s: %s" % (type(e).__name__, e))
    except Interrupted as e:
        check(False, "interrupted by %s" % e)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # let the cleanup finish
        stop_group(node, grace=5)
        stop_group(web)
        stop_group(daemon)
        # Chromium runs in a process group of its own; whatever is left of it
        # (node killed hard) names the temporary folder on its command line.
        left = kill_by_marker(tmp)
        if left:
            print("note: killed %d leftover process(es) of this test: %r" % (len(left), left), file=sys.stderr)
        if failures:
            for path in (daemon_out, daemon_err, web_out, web_err):
                if path and os.path.exists(path):
                    shutil.copy(path, os.path.join(ARTIFACTS, os.path.basename(path) + ".log"))
        if os.environ.get("KWT_E2E_KEEP"):
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    shots = sorted(glob.glob(os.path.join(ARTIFACTS, "*.png")))
    print("screenshots:")
    for s in shots:
        print("  " + s)
    if failures and glob.glob(os.path.join(ARTIFACTS, "*.log")):
        print("logs of keywardd and keyward-web: %s/*.log" % ARTIFACTS)
    took = time.time() - t0
    if failures:
        print("%d of %d checks failed (%.1f s)" % (len(failures), checks, took), file=sys.stderr)
        return 1
    for note in result.get("notes", []):
        print("note: " + note)
    print("ok: %d browser checks, %d harness checks, %.1f s (browser flow %.1f s)"
          % (result["checks"], checks, took, flow_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
