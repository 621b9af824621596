#!/usr/bin/env python3
"""keyward's per-key store against the method it replaces, side by side.

    bench/store_bench.py [MARKDOWN_OUT]

Run by hand (not by ctest). Prints markdown tables for BENCHMARKS.md and
writes them to MARKDOWN_OUT (default build/store_bench.md):

1. `keyward render` of a store with 10,000 key files against the method's own
   `sh -c 'cat users/* > tmp && mv tmp authorized_keys'`, in the same store
   folder, measured together (see below). keyward reads, validates and re-encodes every
   file; it writes authorized_keys only when the content changes, so two rows
   are measured: "unchanged" (nothing to write; keys.index is still
   rewritten) and "rewrite" (authorized_keys removed by hyperfine's --prepare,
   so every run writes, fsyncs and renames it and fsyncs the folder). keyward
   renders to authorized_keys.keyward beside the method's authorized_keys, so
   that the two never see each other's file.
2. `keyward keys --config CFG USER FINGERPRINT` as a whole process (what sshd
   runs on every login as AuthorizedKeysCommand ... %u %f) for an account of
   10 keys and one of 100,000 keys, against `cat` of a one-line file, measured
   together, without a shell (hyperfine -N).

Each group is timed side by side in one script run: BENCH_ROUNDS hyperfine
runs, each over every command of the group, with the order of the commands
rotated from round to round so that a change in the machine's load is shared
out; the table merges the rounds (mean, median, min, and hyperfine's user+sys
CPU time, the figure a busy machine disturbs least).

The keys are Ed25519 public keys made fast: 32 random bytes in a proper
ssh-ed25519 blob (keyward, like sshd, checks an Ed25519 key's length only),
one canonical line "ssh-ed25519 <base64> <comment>\\n" per file named
<email>+<device>+<YYYYMMDD>+01.pub. Before timing, the script checks that
keyward renders every key (and the same key lines as the method, after its
header) and that keys prints exactly the one matching line.

The stores live in a fresh folder under BENCH_DIR (default /var/tmp, a real
disk: fsync must cost what it costs) and belong to the user running the
script; the config uses a central store template, as with a dedicated
AuthorizedKeysCommandUser. Run as root or as any user.

Environment: KEYWARD_BIN (default build/keyward), BENCH_DIR (/var/tmp),
BENCH_RENDER_KEYS (10000), BENCH_BIG_KEYS (100000), BENCH_SMALL_KEYS (10),
BENCH_RENDER_RUNS (30) and BENCH_KEYS_RUNS (1200) runs per command in all,
split over BENCH_ROUNDS (3) hyperfine runs whose command order rotates.
"""

import base64
import json
import os
import pwd
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYWARD = os.path.abspath(os.environ.get("KEYWARD_BIN") or os.path.join(REPO, "build", "keyward"))
BENCH_DIR = os.environ.get("BENCH_DIR", "/var/tmp")
RENDER_KEYS = int(os.environ.get("BENCH_RENDER_KEYS", "10000"))
BIG_KEYS = int(os.environ.get("BENCH_BIG_KEYS", "100000"))
SMALL_KEYS = int(os.environ.get("BENCH_SMALL_KEYS", "10"))
RENDER_RUNS = int(os.environ.get("BENCH_RENDER_RUNS", "30"))
KEYS_RUNS = int(os.environ.get("BENCH_KEYS_RUNS", "1200"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PREFIX = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32)


def die(msg):
    print(f"store_bench: {msg}", file=sys.stderr)
    sys.exit(1)


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        die(f"{' '.join(argv)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


def fingerprint(b64):
    import hashlib
    digest = hashlib.sha256(base64.b64decode(b64)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def make_store(store, n, cfg=None):
    """keyward init, then n key files written directly; returns {fingerprint: line}."""
    argv = [KEYWARD, "init"] + (["--config", cfg] if cfg else ["--store", store])
    run(argv)
    users = os.path.join(store, "users")
    today = time.strftime("%Y%m%d", time.gmtime())
    lines = {}
    for i in range(n):
        b64 = base64.b64encode(PREFIX + os.urandom(32)).decode()
        line = f"ssh-ed25519 {b64} user{i}@host{i % 97}.example.org\n"
        name = f"user{i}@example.org+laptop+{today}+01.pub"
        fd = os.open(os.path.join(users, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, line.encode())
        os.close(fd)
        lines[fingerprint(b64)] = line
    return lines


def hyperfine(tmp, tag, commands, rounds, runs, warmup, shell=True):
    """Times commands [(name, command, prepare or None)] with hyperfine.

    ROUNDS hyperfine runs of RUNS runs per command, the order of the commands
    rotated each round, so that a change in the machine's load is shared out;
    returns the merged statistics per name and a markdown table of them."""
    merged = {name: {"times": [], "user": [], "system": []} for name, _, _ in commands}
    for rnd in range(rounds):
        order = commands[rnd % len(commands):] + commands[:rnd % len(commands)]
        js = os.path.join(tmp, f"{tag}-{rnd}.json")
        argv = ["hyperfine", "--style", "basic", "--export-json", js,
                "--warmup", str(warmup), "--runs", str(runs)]
        if not shell:
            argv.append("-N")
        if any(p for _, _, p in order):
            # One --prepare per command, in the order of the commands.
            for _, _, prepare in order:
                argv += ["--prepare", prepare or "true"]
        for name, command, _ in order:
            argv += ["--command-name", name, command]
        print(f"store_bench: {tag}, round {rnd + 1} of {rounds}", flush=True)
        if subprocess.run(argv).returncode != 0:
            die("hyperfine failed")
        with open(js) as f:
            for x in json.load(f)["results"]:
                m = merged[x["command"]]
                m["times"] += x["times"]
                m["user"].append(x["user"])
                m["system"].append(x["system"])
    stats = {}
    for name, m in merged.items():
        t = m["times"]
        stats[name] = {"mean": statistics.mean(t), "stddev": statistics.stdev(t),
                       "median": statistics.median(t), "min": min(t), "max": max(t),
                       "cpu": statistics.mean(m["user"]) + statistics.mean(m["system"]),
                       "runs": len(t)}
    base = stats[commands[-1][0]]["mean"]
    rows = ["| Command | Runs | Mean ± σ [ms] | Median [ms] | Min [ms] | Max [ms] | "
            "User+Sys [ms] | Relative (mean) |",
            "|:---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, command, _ in commands:
        x = stats[name]
        rows.append(f"| `{name}` | {x['runs']} | {x['mean'] * 1e3:.2f} ± {x['stddev'] * 1e3:.2f} | "
                    f"{x['median'] * 1e3:.2f} | {x['min'] * 1e3:.2f} | {x['max'] * 1e3:.2f} | "
                    f"{x['cpu'] * 1e3:.2f} | {x['mean'] / base:.2f} |")
    commands_text = "\n".join(f"- `{name}`: `{command}`" for name, command, _ in commands)
    return "\n".join(rows) + "\n\nCommands:\n\n" + commands_text + "\n", stats


def ms(x):
    return f"{x * 1000:.2f} ms"


def ratio(a, b):
    """a/b by mean, median, min and CPU time (on a busy machine the min and the CPU
    time are the least disturbed)."""
    return ", ".join(f"{a[k] / b[k]:.2f}x by {label} ({ms(a[k])} against {ms(b[k])})"
                     for k, label in (("mean", "mean"), ("median", "median"), ("min", "min"),
                                      ("cpu", "user+sys CPU time")))


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build", "store_bench.md")
    for tool in ("hyperfine", "sh", "cat"):
        if shutil.which(tool) is None:
            die(f"{tool} is missing; run scripts/install-deps.sh")
    if not os.access(KEYWARD, os.X_OK):
        die(f"{KEYWARD} is not built (make build, or set KEYWARD_BIN)")
    user = pwd.getpwuid(os.geteuid()).pw_name
    load_before = loadavg()
    tmp = tempfile.mkdtemp(prefix="keyward-store-bench.", dir=BENCH_DIR)
    try:
        os.chmod(tmp, 0o755)
        # 1. render of RENDER_KEYS files against cat users/* > tmp && mv.
        store = os.path.join(tmp, "render")
        t = time.monotonic()
        lines = make_store(store, RENDER_KEYS)
        print(f"store_bench: {RENDER_KEYS} key files in {store}/users "
              f"({time.monotonic() - t:.1f}s)", flush=True)
        ak_kw = os.path.join(store, "authorized_keys.keyward")
        render = [KEYWARD, "render", "--store", store, "--authorized-keys", ak_kw]
        r = run(render)
        if f"({RENDER_KEYS} keys)" not in r.stdout or "left out" in r.stdout:
            die(f"keyward render did not render every key:\n{r.stdout}{r.stderr}")
        method = "cat users/* > tmp && mv tmp authorized_keys"
        run(["sh", "-c", method], cwd=store, env={"LC_ALL": "C", "PATH": os.environ["PATH"]})
        with open(ak_kw) as f:
            rendered = f.read()
        with open(os.path.join(store, "authorized_keys")) as f:
            by_method = f.read()
        body = "".join(l for l in rendered.splitlines(True) if not l.startswith("#"))
        if body != by_method or len(by_method.splitlines()) != RENDER_KEYS:
            die("keyward's key lines differ from cat users/*'s")
        print("store_bench: keyward renders the same key lines as the method, "
              "after its header", flush=True)
        q = " ".join(f"'{a}'" for a in render)
        method_name = f"method: sh -c '{method}'"
        render_md, render_res = hyperfine(tmp, "render", [
            (f"keyward render, unchanged ({RENDER_KEYS} files)", f"{q} >/dev/null", None),
            (f"keyward render, rewrite + fsync ({RENDER_KEYS} files)", f"{q} >/dev/null",
             f"rm -f '{ak_kw}'"),
            (method_name, f"cd '{store}' && LC_ALL=C sh -c '{method}'", None),
        ], ROUNDS, max(1, RENDER_RUNS // ROUNDS), 2)
        cat_r = render_res[method_name]
        render_rows = []
        for name in (f"keyward render, unchanged ({RENDER_KEYS} files)",
                     f"keyward render, rewrite + fsync ({RENDER_KEYS} files)"):
            m = render_res[name]
            render_rows.append(f"- {name}: **{ratio(m, cat_r)}** the method "
                               "(target: at most 1.5x)")

        # 2. keys USER FINGERPRINT, 10 and 100,000 keys, against cat of one line.
        keys_rows, keys_md = [], ""
        stores = {}
        for n in (SMALL_KEYS, BIG_KEYS):
            st = os.path.join(tmp, f"central-{n}")
            os.mkdir(st, 0o755)
            cfg = os.path.join(tmp, f"keyward-{n}.conf")
            with open(cfg, "w") as f:
                json.dump({"store": st + "/%u", "authorized_keys": st + "/%u/authorized_keys"}, f)
            os.mkdir(os.path.join(st, user), 0o755)
            t = time.monotonic()
            lines = make_store(os.path.join(st, user), n, cfg)
            r = run([KEYWARD, "render", "--config", cfg])
            if f"({n} keys)" not in r.stdout:
                die(f"render of {n} keys:\n{r.stdout}{r.stderr}")
            fps = list(lines)
            fp = fps[len(fps) // 2]
            r = run([KEYWARD, "keys", "--config", cfg, user, fp])
            if r.stdout != lines[fp]:
                die(f"keyward keys printed {r.stdout!r}, not the one line {lines[fp]!r}")
            stores[n] = (cfg, fp)
            print(f"store_bench: {n} keys in {st}/{user}, rendered, keys prints the one "
                  f"matching line ({time.monotonic() - t:.1f}s)", flush=True)
        one_line = os.path.join(tmp, "one-line.pub")
        with open(one_line, "w") as f:
            f.write(lines[fp])
        commands, names = [], []
        for n in (SMALL_KEYS, BIG_KEYS):
            cfg, fp = stores[n]
            names.append(f"keyward keys USER FP ({n} keys)")
            commands.append((names[-1], f"{KEYWARD} keys --config {cfg} {user} {fp}", None))
        commands.append(("cat one-line file", f"cat {one_line}", None))
        keys_md, keys_res = hyperfine(tmp, "keys", commands, ROUNDS,
                                      max(1, KEYS_RUNS // ROUNDS), 20, shell=False)
        small, big = keys_res[names[0]], keys_res[names[1]]
        cat = keys_res["cat one-line file"]
        keys_rows = [
            f"- {BIG_KEYS} keys against {SMALL_KEYS} keys: **{ratio(big, small)}** "
            "(target: no growth)",
            f"- {SMALL_KEYS} keys against cat: **{ratio(small, cat)}** (target: at most 2x)",
            f"- {BIG_KEYS} keys against cat: **{ratio(big, cat)}** (target: at most 2x)",
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = loadavg()

    text = "\n".join([
        "# keyward store benchmarks (bench/store_bench.py)",
        "",
        f"`{KEYWARD}`; {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; "
        f"{os.cpu_count()} CPU(s); {subprocess.run(['hyperfine', '--version'], capture_output=True, text=True).stdout.strip()}; "
        f"filesystem of {BENCH_DIR}: {fs_type(BENCH_DIR)}; run as {user}; "
        f"load average {load_before} before, {load_after} after.",
        "",
        f"## keyward render of {RENDER_KEYS} key files against `cat users/* > tmp && mv tmp "
        "authorized_keys`",
        "",
        render_md.strip(),
        "",
        *render_rows,
        "",
        f"## keyward keys USER FINGERPRINT ({SMALL_KEYS} and {BIG_KEYS} keys) against cat of a "
        "one-line file",
        "",
        keys_md.strip(),
        "",
        *keys_rows,
        "",
    ])
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        f.write(text)
    print()
    print(text)
    print(f"store_bench: markdown written to {out_path}")


def fs_type(path):
    r = subprocess.run(["df", "--output=fstype", path], capture_output=True, text=True)
    return r.stdout.split()[-1] if r.returncode == 0 and r.stdout.split() else "?"


if __name__ == "__main__":
    main()
