"""The Kubernetes manifests (probes/deploy/) parse and agree with the config's regions."""

from __future__ import annotations

from pathlib import Path

import yaml

from signalcheck.config import load_config
from tests.support import REPO

DEPLOY = REPO / "probes" / "deploy"
SCHEDULE_PERIOD_SECONDS = 300  # "*/5 * * * *"


def manifests() -> list[dict]:
    return [
        doc
        for path in sorted(DEPLOY.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def of_kind(kind: str) -> list[dict]:
    return [doc for doc in manifests() if doc["kind"] == kind]


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())["resources"]
    files = sorted(p.name for p in DEPLOY.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == files


def test_one_cronjob_per_configured_region() -> None:
    regions = set(load_config(REPO / "signalcheck.yaml", environ={}).regions)
    by_region = {}
    for job in of_kind("CronJob"):
        args = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
        assert args[:2] == ["probe", "--once"], args
        region = args[args.index("--region") + 1]
        assert job["metadata"]["labels"]["signalcheck.io/region"] == region
        assert job["metadata"]["name"] == f"signalcheck-probe-{region}"
        by_region[region] = job
    assert set(by_region) == regions
    assert len(of_kind("CronJob")) == len(regions)


def test_cronjobs_never_overlap_and_are_bounded() -> None:
    for job in of_kind("CronJob"):
        spec = job["spec"]
        assert spec["schedule"] == "*/5 * * * *"
        assert spec["concurrencyPolicy"] == "Forbid"
        deadline = spec["jobTemplate"]["spec"]["activeDeadlineSeconds"]
        assert 0 < deadline < SCHEDULE_PERIOD_SECONDS
        assert spec["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_credentials_from_the_secret_and_pushgateway_from_the_configmap() -> None:
    (secret,) = of_kind("Secret")
    (configmap,) = of_kind("ConfigMap")
    for job in of_kind("CronJob"):
        pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        env = {e["name"]: e for e in pod["containers"][0]["env"]}
        pushgateway = env["SIGNALCHECK_PUSHGATEWAY_URL"]["valueFrom"]["configMapKeyRef"]
        assert pushgateway["name"] == configmap["metadata"]["name"]
        assert pushgateway["key"] in configmap["data"]
        secret_ref = env["DEMO_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]
        assert secret_ref["name"] == secret["metadata"]["name"]
        assert secret_ref["key"] in secret["stringData"]
        config_volume = next(v for v in pod["volumes"] if v["name"] == "config")
        assert config_volume["configMap"]["name"] == configmap["metadata"]["name"]
        args = pod["containers"][0]["args"]
        mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "config")
        assert args[args.index("--config") + 1] == f"{mount['mountPath']}/signalcheck.yaml"


def test_the_shipped_config_is_valid_and_has_the_reference_checks(tmp_path: Path) -> None:
    (configmap,) = of_kind("ConfigMap")
    path = tmp_path / "signalcheck.yaml"
    path.write_text(configmap["data"]["signalcheck.yaml"])
    shipped = load_config(path, environ={})
    reference = load_config(REPO / "signalcheck.yaml", environ={})
    assert set(shipped.regions) == set(reference.regions)
    assert shipped.checks == reference.checks
    assert all(str(r.base_url).startswith("https://") for r in shipped.regions.values())
