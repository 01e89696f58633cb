"""How long `pytest validation/` takes on the healthy local stack, right after a probe pass.

Prints, for the shipped expectations padded to 20 and to 200 (copies of the shipped ones,
in the same mix):
- the wall time of `pytest validation/` started the moment the probe pass ends,
- the floor the pipeline imposes: the longest scrape interval + rule evaluation interval +
  telemetry export delay of the configured signals (data cannot be there sooner),
- the wall time minus the floor, and the 200/20 ratio.
Goal (issue 5): within 2 s of the floor; 200 expectations in under twice the time of 20.
Beside it, the baseline: the same measure at `--baseline REV` (a git worktree of that commit,
the same stack and probe passes), on the *common mix*: the shipped expectations both engines
can judge (those the baseline's models accept once `conditional` and `region_attribute`
are dropped), without the quiet check, which since issue 17
waits its budget by design. Printed: the ratio new/baseline on the common mix for 20 and for
200 expectations (goal of issue 12: at most 1.2), and the new engine on the full shipped mix.

Starts its own local stack on free loopback ports and stops it at the end. Each round's
probe pass is the real `signalcheck probe --once` (probes/once.py `run_once`) of the shipped checks,
pushed to the stack's Pushgateway and written to the round's ledger.
Run: .venv/bin/python bench/validation_latency.py [--rounds 3] [--baseline 06a5655]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from signalcheck.config import Config, load_config  # noqa: E402
from signalcheck.ledger import LEDGER_FILE, Ledger, new_run_dir  # noqa: E402
from signalcheck.probes.once import EXIT_PASSED, run_once  # noqa: E402
from signalcheck.stack import LocalStack  # noqa: E402
from signalcheck.stack.launcher import EXPORT_DELAY_MS  # noqa: E402
from signalcheck.stack.ports import free_port  # noqa: E402

BASELINE = "06a5655"
"""The last commit before issue 12 (the evidence engine that could skip)."""


def stack_config(directory: Path, repo: Path = REPO) -> dict:
    """`repo`'s shipped config on free loopback ports, its state under `directory`."""
    shipped = yaml.safe_load((repo / "signalcheck.yaml").read_text())
    regions = {
        name: {"base_url": f"http://127.0.0.1:{free_port()}", "demo": True}
        for name in shipped["regions"]
    }
    ports = {name: free_port() for name in shipped["stack"]["ports"]}
    return {
        **shipped,
        "regions": regions,
        "stack": {**shipped["stack"], "data_dir": str(directory / "stack"), "ports": ports},
        "runs_dir": str(directory / "runs"),
    }


def shipped(config: dict) -> list[tuple[str, dict]]:
    """The (kind, expectation) pairs of `config`, in file order."""
    return [(kind, item) for kind, items in config["expectations"].items() for item in items]


NEW_FIELDS = ("conditional", "region_attribute")
"""Fields an old baseline's models lack, whose absence there means the same (skip on no
fault, no region attribution)."""


def lacked(repo: Path) -> set[str]:
    """The NEW_FIELDS that no expectation model of `repo` knows."""
    script = (
        "import json, typing; from signalcheck.expectations import Expectations as E\n"
        "known = {n for f in E.model_fields.values()\n"
        "         for n in typing.get_args(f.annotation)[0].model_fields}\n"
        f"print(json.dumps(sorted(set({list(NEW_FIELDS)!r}) - known)))"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=repo, env=_importing(repo),
                          capture_output=True, text=True, check=True, timeout=60)  # fmt: skip
    return set(json.loads(proc.stdout))


def for_baseline(items: list[tuple[str, dict]], repo: Path) -> list[tuple[str, dict]]:
    """`items` without the fields the models of `repo` lack."""
    drop = lacked(repo)
    return [(kind, {k: v for k, v in i.items() if k not in drop}) for kind, i in items]


def common(items: list[tuple[str, dict]], repo: Path) -> list[tuple[str, dict]]:
    """The shipped expectations (but the quiet check) that the models of `repo` accept too,
    once stripped of the NEW_FIELDS they lack."""
    script = (
        "import json, sys, typing; from signalcheck.expectations import Expectations as E\n"
        "models = {k: typing.get_args(f.annotation)[0] for k, f in E.model_fields.items()}\n"
        "def ok(kind, item):\n"
        "    try:\n"
        "        models[kind].model_validate(item)\n"
        "        return True\n"
        "    except Exception:\n"
        "        return False\n"
        "print(json.dumps([k in models and ok(k, i) for k, i in json.load(sys.stdin)]))"
    )
    candidates = [(kind, item) for kind, item in items if kind != "quiet"]
    proc = subprocess.run([sys.executable, "-c", script], cwd=repo, env=_importing(repo),
                          input=json.dumps(for_baseline(candidates, repo)), capture_output=True,
                          text=True, check=True, timeout=60)  # fmt: skip
    return [pair for pair, ok in zip(candidates, json.loads(proc.stdout), strict=True) if ok]


def padded(
    config: dict, items: list[tuple[str, dict]], count: int, directory: Path, label: str,
    repo: Path = REPO,
) -> Path:  # fmt: skip
    """`config` with `items` padded, by numbered copies in the same mix, to `count`."""
    expectations: dict[str, list] = {}
    for number, (kind, item) in zip(range(count), itertools.cycle(items), strict=False):
        copy = {**item, "name": f"{item['name']}-{number}"}
        for key in ("rule_files", "dashboards"):
            if key in copy:
                copy[key] = [str(repo / pattern) for pattern in copy[key]]
        expectations.setdefault(kind, []).append(copy)
    path = directory / f"bench-{label}-{count}.yaml"
    path.write_text(yaml.safe_dump({**config, "expectations": expectations}, sort_keys=False))
    return path


def timed_suite(config_path: Path, config: Config, repo: Path = REPO) -> tuple[float, int]:
    """Probe pass, then `pytest validation/` of `repo` at once; its wall time and exit code."""
    ledger = Ledger(new_run_dir(config.runs_dir) / LEDGER_FILE)
    summary, code = run_once(config, concurrency=8, ledger_path=ledger.path)
    if code != EXIT_PASSED:
        print(f"probe pass exited {code}: {summary['failed']} failed, push {summary['push']}",
              file=sys.stderr)  # fmt: skip
    began = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "validation/", "-q", "-p", "no:cacheprovider",
         *_own_plugin_only(repo), f"--signalcheck-config={config_path}",
         f"--ledger={ledger.path}"],
        cwd=repo, env=_importing(repo), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    seconds = time.monotonic() - began
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-1000:], file=sys.stderr)
    return seconds, proc.returncode


def _same_stack(old: dict, new: dict) -> dict:
    """The baseline's config pointed at the same regions, ports and data dir as `new` (with
    only the stack keys the baseline's config model knows, and regions without `demo`: the
    baseline's stack always ran the demo)."""
    ports = {name: new["stack"]["ports"][name] for name in old["stack"]["ports"]}
    stack = {**old["stack"], "data_dir": new["stack"]["data_dir"], "ports": ports}
    regions = {name: {"base_url": r["base_url"]} for name, r in new["regions"].items()}
    return {**old, "regions": regions, "stack": stack}


def _own_plugin_only(repo: Path) -> list[str]:
    """pytest options that keep the installed plugin (its `pytest11` entry point) out of a
    revision whose validation/conftest.py registers `--signalcheck-config` itself (one from
    before the plugin): both at once collide. A revision with the plugin keeps the entry
    point, which then imports that revision's plugin (`_importing` puts it first)."""
    conftest = repo / "validation" / "conftest.py"
    registers = conftest.exists() and "def pytest_addoption" in conftest.read_text()
    return ["-p", "no:signalcheck"] if registers else []


def _importing(repo: Path) -> dict[str, str]:
    """The environment in which `python -m pytest` imports signalcheck from `repo`."""
    return {**os.environ, "PYTHONPATH": str(repo)}


def _worktree(rev: str, directory: Path) -> Path:
    """A detached git worktree of `rev` under `directory` (removed by the caller)."""
    path = directory / f"baseline-{rev}"
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(path), rev], cwd=REPO,
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    args = parser.parse_args()
    # SIGTERM (e.g. `kill`) unwinds like Ctrl-C, so the stack and the worktree are removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="signalcheck-bench-") as tmp:
        directory = Path(tmp)
        baseline = _worktree(args.baseline, directory)
        raw = stack_config(directory)
        old = _same_stack(stack_config(directory, baseline), raw)
        mix = common(shipped(raw), baseline)
        old_mix = for_baseline(mix, baseline)
        small = padded(raw, shipped(raw), 20, directory, "shipped")
        suites = [
            ("20 common", padded(raw, mix, 20, directory, "common"), REPO),
            ("20 common, baseline", padded(old, old_mix, 20, directory, "old", baseline), baseline),
            ("200 common", padded(raw, mix, 200, directory, "common"), REPO),
            ("200 common, baseline",
             padded(old, old_mix, 200, directory, "old", baseline), baseline),
            ("20 shipped", small, REPO),
            ("200 shipped", padded(raw, shipped(raw), 200, directory, "shipped"), REPO),
        ]  # fmt: skip
        config = load_config(small, environ={})
        stack = LocalStack(config)
        stack.up()
        try:
            floor = (
                config.stack.scrape_interval
                + config.stack.evaluation_interval
                + int(EXPORT_DELAY_MS) / 1000
            )
            startup, _ = _pytest_startup(small, config)
            runs: dict[str, list[tuple[float, int]]] = {label: [] for label, _, _ in suites}
            for _ in range(args.rounds):  # interleaved, so drift hits both sides alike
                for label, path, repo in suites:
                    runs[label].append(timed_suite(path, config, repo))
            results = {
                label: (statistics.median(s for s, _ in done), done, [c for _, c in done if c])
                for label, done in runs.items()
            }
        finally:
            stack.down()
            subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=REPO,
                           capture_output=True, timeout=60)  # fmt: skip
    print(f"floor (scrape {config.stack.scrape_interval:g}s + evaluation "
          f"{config.stack.evaluation_interval:g}s + export {int(EXPORT_DELAY_MS) / 1000:g}s): "
          f"{floor:.2f}s")  # fmt: skip
    print(f"pytest start-up alone (collect only, 20 expectations): {startup:.2f}s")
    print(f"common mix: {len(mix)} of {len(shipped(raw))} shipped expectations "
          f"({', '.join(sorted({kind for kind, _ in mix}))})")  # fmt: skip
    for label, (median, runs, failed) in results.items():
        walls = ", ".join(f"{s:.2f}" for s, _ in runs)
        print(f"{label:>20}: median wall {median:.2f}s ({walls}); "
              f"{median - floor:+.2f}s vs floor; failed runs: {len(failed)}")  # fmt: skip
    for mix_name in ("common", "shipped"):
        ratio = results[f"200 {mix_name}"][0] / results[f"20 {mix_name}"][0]
        print(f"200/20 wall-time ratio, {mix_name} mix: {ratio:.2f} (goal < 2)")
    for count in ("20", "200"):
        new, old = results[f"{count} common"], results[f"{count} common, baseline"]
        best = min(s for s, _ in new[1]) / min(s for s, _ in old[1])
        print(f"{count} common expectations vs baseline {args.baseline}: median "
              f"{new[0] / old[0]:.2f}x, best of {args.rounds} {best:.2f}x (goal <= 1.2; noise "
              "only adds time, so the best runs compare the engines)")  # fmt: skip
    return 0 if not any(r[2] for r in results.values()) else 1


def _pytest_startup(config_path: Path, config: Config) -> tuple[float, int]:
    ledger = Ledger(new_run_dir(config.runs_dir) / LEDGER_FILE)
    ledger.append("probe", check="none", region="none")  # an actor entry: the suite starts
    began = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "validation/", "-q", "--collect-only",
         "-p", "no:cacheprovider", f"--signalcheck-config={config_path}",
         f"--ledger={ledger.path}"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return time.monotonic() - began, proc.returncode


if __name__ == "__main__":
    sys.exit(main())
