"""deploy/kubernetes/: the production overlay, rendered, validated against the Kubernetes schemas
(kubernetes-validate, pinned version) and checked against the code: every image, port, probe
path, command and environment variable must be one the services really have.
"""

from __future__ import annotations

import base64
import importlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shared.cli.main import build_parser
from shared.config import Settings, documented_variables
from tests.support.kustomize import load_documents, pod_spec, render

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAY = KUBERNETES / "overlays" / "production"
KUBERNETES_VERSION = "1.32.0"  # the schemas the manifests must satisfy (strict: no unknown fields)
RENDERED = render(OVERLAY)
BASE = render(KUBERNETES / "base")
IMAGE = "registry.example.com/latchkey:1.0.0"
DEFAULTS = {name: default for name, _, default in documented_variables()}
APPS = ("authorize", "token", "resource")
WORKLOADS = (*APPS, "admin")
PORTS = {**{app: DEFAULTS[f"LATCHKEY_{app.upper()}_PORT"] for app in APPS}, "admin": 8004}
NOT_ROUTED = ("/healthz", "/readyz", "/metrics", "/admin/v1/clients")
KEK = "LATCHKEY_KEY_ENCRYPTION_KEY"


# What an operator creates by hand, once: never part of the rendering (apply -k would overwrite them).
SECRETS = load_documents(KUBERNETES / "base" / "secrets.example.yaml")
DEPLOYED = RENDERED + SECRETS


def find(kind: str, name: str, manifests: list[dict[str, Any]] = DEPLOYED) -> dict[str, Any]:
    matches = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def container(workload: str) -> dict[str, Any]:
    spec = pod_spec(find("Deployment", f"latchkey-{workload}"))
    assert spec is not None
    (only,) = spec["containers"]
    return dict(only)


def route_paths(service: str) -> list[str] | None:
    """The real route table of a service (placeholders filled), None if it is not in this tree."""
    try:
        module = importlib.import_module(f"services.{service}.routes")
    except ModuleNotFoundError:
        return None
    return [re.sub(r"\{[^}]+\}", "x1", route.path) for route in module.routes()]


def metrics_served() -> bool:
    return any("/metrics" in (route_paths(app) or []) for app in APPS)


# --- rendering and schemas ----------------------------------------------------------------

def test_the_renderer_agrees_with_kubectl_kustomize():
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed; the rendering is tests/support/kustomize.py's alone")
    result = subprocess.run(["kubectl", "kustomize", str(OVERLAY)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    def key(m: dict[str, Any]) -> str:
        return f"{m['kind']}/{m['metadata']['name']}"
    theirs = sorted((doc for doc in yaml.safe_load_all(result.stdout) if doc), key=key)
    assert sorted(RENDERED, key=key) == theirs


@pytest.mark.parametrize("manifest", [m for m in DEPLOYED if m["kind"] != "ServiceMonitor"],
                         ids=lambda m: f"{m['kind']}/{m['metadata']['name']}")
def test_every_manifest_is_valid_for_the_pinned_kubernetes_version(manifest):
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_the_service_monitor_is_well_formed_and_finds_every_service():
    # Not a core resource, so not in the schemas: the fields the Prometheus Operator reads.
    monitor = find("ServiceMonitor", "latchkey")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(monitor) == {"apiVersion", "kind", "metadata", "spec"}
    assert set(monitor["spec"]) == {"selector", "endpoints"}
    selected = [m for m in RENDERED if m["kind"] == "Service" and
                monitor["spec"]["selector"]["matchLabels"].items() <= m["metadata"]["labels"].items()]
    assert sorted(m["metadata"]["name"] for m in selected) == sorted(f"latchkey-{w}" for w in WORKLOADS)
    for endpoint in monitor["spec"]["endpoints"]:
        assert set(endpoint) <= {"port", "path", "interval", "scrapeTimeout", "scheme"}
        assert endpoint["path"] == "/metrics"
        assert re.fullmatch(r"\d+s", endpoint["interval"]) and re.fullmatch(r"\d+s", endpoint["scrapeTimeout"])
        for service in selected:
            assert endpoint["port"] in [p["name"] for p in service["spec"]["ports"]]
    if metrics_served():
        for app in APPS:
            assert "/metrics" in (route_paths(app) or []), app


# --- the workloads against the code -------------------------------------------------------

@pytest.mark.parametrize("workload", WORKLOADS)
def test_each_workload_runs_the_image_and_its_latchkey_command(workload):
    spec = container(workload)
    assert spec["image"] == IMAGE
    assert spec["args"][:2] == ["serve", workload]
    if workload in APPS or route_paths("admin") is not None:  # `serve admin` exists once services/admin does
        build_parser().parse_args(spec["args"])  # the real CLI accepts it


def test_the_base_image_is_the_one_compose_builds():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    repository = compose["services"]["token"]["image"].split(":")[0]
    for manifest in BASE:
        for item in (pod_spec(manifest) or {}).get("containers", []):
            assert item["image"] == repository


@pytest.mark.parametrize("workload", WORKLOADS)
def test_ports_and_probes_are_the_services_own(workload):
    spec = container(workload)
    assert spec["ports"] == [{"name": "http", "containerPort": PORTS[workload]}]
    assert spec["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert spec["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    paths = route_paths(workload)
    if paths is None:
        pytest.skip(f"services/{workload} is not in this tree yet")
    assert {"/readyz", "/healthz"} <= set(paths)
    service = find("Service", f"latchkey-{workload}")
    assert service["spec"]["ports"] == [{"name": "http", "port": PORTS[workload], "targetPort": "http"}]


@pytest.mark.parametrize("workload", WORKLOADS)
def test_pods_are_non_root_read_only_and_bounded(workload):
    spec = pod_spec(find("Deployment", f"latchkey-{workload}"))
    assert spec is not None
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
    box = container(workload)
    assert box["securityContext"]["readOnlyRootFilesystem"] is True
    assert box["securityContext"]["allowPrivilegeEscalation"] is False
    assert box["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}} in spec["volumes"]
    for kind in ("requests", "limits"):
        assert set(box["resources"][kind]) == {"cpu", "memory"}


@pytest.mark.parametrize("workload", WORKLOADS)
def test_each_workload_has_a_disruption_budget_and_an_autoscaler(workload):
    name = f"latchkey-{workload}"
    selector = find("Deployment", name)["spec"]["selector"]
    assert find("PodDisruptionBudget", name)["spec"]["selector"] == selector
    hpa = find("HorizontalPodAutoscaler", name)["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert 2 <= hpa["minReplicas"] <= hpa["maxReplicas"]


def test_the_production_overlay_gives_the_token_service_more_room():
    assert find("HorizontalPodAutoscaler", "latchkey-token")["spec"]["minReplicas"] > \
        find("HorizontalPodAutoscaler", "latchkey-token", BASE)["spec"]["minReplicas"]
    assert container("token")["resources"]["requests"]["cpu"] == "1"
    assert all(m["metadata"]["namespace"] == "latchkey" for m in RENDERED)


@pytest.mark.parametrize("workload", [*APPS, "admin"])
def test_every_pod_migrates_before_it_serves_without_the_key_encryption_key(workload):
    """The schema a release needs is there before any of its pods takes traffic (an upgrade
    applied in one go cannot serve on the old schema); `latchkey migrate` serialises itself."""
    deployment = find("Deployment", f"latchkey-{workload}")
    spec = pod_spec(deployment)
    assert spec is not None
    (migrate,) = spec["initContainers"]
    assert migrate["image"] == IMAGE and migrate["args"] == ["migrate", "--json"]
    build_parser().parse_args(migrate["args"])
    assert KEK not in yaml.safe_dump(migrate)
    assert migrate["envFrom"] == spec["containers"][0]["envFrom"]
    assert migrate["securityContext"]["readOnlyRootFilesystem"] is True


# --- configuration and secrets ------------------------------------------------------------

def _pod_environment(workload_kind: str, name: str, kek: str = "") -> dict[str, str]:
    """What a pod's environment would be, from the rendered ConfigMap and Secrets."""
    spec = pod_spec(find(workload_kind, name))
    assert spec is not None
    env: dict[str, str] = {}
    for item in spec["containers"][0].get("envFrom", []):
        if ref := item.get("configMapRef"):
            env.update(find("ConfigMap", ref["name"])["data"])
        if ref := item.get("secretRef"):
            env.update(find("Secret", ref["name"])["stringData"])
    for item in spec["containers"][0].get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
            continue
        secret = item["valueFrom"]["secretKeyRef"]
        env[item["name"]] = kek or find("Secret", secret["name"])["stringData"][secret["key"]]
    return env


def _all_variable_names() -> set[str]:
    names = set(find("ConfigMap", "latchkey-config")["data"])
    for manifest in DEPLOYED:
        if manifest["kind"] == "Secret":
            names |= set(manifest["stringData"])
        for item in (pod_spec(manifest) or {}).get("containers", []):
            names |= {env["name"] for env in item.get("env", [])}
    return names


def test_every_variable_is_a_real_setting():
    # LATCHKEY_METRICS_ALLOW belongs to /metrics: it must be a documented setting once a
    # service serves /metrics (branch i-metrics); until then nothing reads it.
    pending = set() if metrics_served() else {"LATCHKEY_METRICS_ALLOW"}
    assert _all_variable_names() - pending <= set(DEFAULTS)


@pytest.mark.parametrize("workload", WORKLOADS)
def test_the_configuration_starts_in_production_mode(workload):
    env = _pod_environment("Deployment", f"latchkey-{workload}", kek="A" * 43)
    assert "LATCHKEY_DEV" not in env
    settings = Settings.from_env(env)  # the real start-up validation
    assert settings.issuer == settings.token_url == settings.resource_url
    assert settings.issuer.startswith("https://")
    # The services behind the Ingress trust its X-Forwarded-For; the admin API, behind nothing, no one's.
    assert bool(settings.trusted_proxies) is (workload != "admin")
    assert settings.trusted_jwks_url == f"http://latchkey-token:{PORTS['token']}/jwks"
    ingress_hosts = [rule["host"] for rule in find("Ingress", "latchkey")["spec"]["rules"]]
    assert [f"https://{host}" for host in ingress_hosts] == [settings.issuer]


@pytest.mark.parametrize("workload", ["authorize", "resource", "admin"])
def test_only_the_token_service_gets_the_key_encryption_key(workload):
    assert KEK not in _pod_environment("Deployment", f"latchkey-{workload}")
    assert "latchkey-key-encryption-key" not in yaml.safe_dump(find("Deployment", f"latchkey-{workload}"))
    assert KEK in _pod_environment("Deployment", "latchkey-token")


def test_no_deploy_overwrites_the_secrets():
    """The placeholders are never applied: `kubectl apply -k` leaves the operator's Secrets alone."""
    assert not [m for m in RENDERED if m["kind"] == "Secret"]
    assert {m["metadata"]["name"] for m in SECRETS} == {"latchkey-stores", "latchkey-key-encryption-key"}


def test_secrets_hold_the_dsns_and_the_key_and_the_config_map_holds_no_secret():
    assert set(find("Secret", "latchkey-stores")["stringData"]) == {"DATABASE_URL", "REDIS_URL"}
    assert set(find("Secret", "latchkey-key-encryption-key")["stringData"]) == {KEK}
    assert not {"DATABASE_URL", "REDIS_URL", KEK} & set(find("ConfigMap", "latchkey-config")["data"])


# --- the routes ---------------------------------------------------------------------------

def ingress_backend(path: str) -> str | None:
    """The Service an Ingress sends a path to (Exact first, then the longest Prefix, matched by
    path element as the Ingress spec says), None for no rule (the controller's 404)."""
    (rule,) = find("Ingress", "latchkey")["spec"]["rules"]
    entries = rule["http"]["paths"]
    for entry in entries:
        if entry["pathType"] == "Exact" and entry["path"] == path:
            return str(entry["backend"]["service"]["name"])
    prefixes = [e for e in entries if e["pathType"] == "Prefix" and
                (path == e["path"] or path.startswith(e["path"].rstrip("/") + "/"))]
    if not prefixes:
        return None
    best = max(prefixes, key=lambda e: len(e["path"]))
    return str(best["backend"]["service"]["name"])


PUBLIC = [(app, path) for app in APPS for path in route_paths(app) or [] if path not in NOT_ROUTED]


@pytest.mark.parametrize(("app", "path"), PUBLIC, ids=[f"{p} -> {a}" for a, p in PUBLIC])
def test_every_public_route_reaches_its_service_through_the_ingress(app, path):
    assert ingress_backend(path) == f"latchkey-{app}"


@pytest.mark.parametrize("path", NOT_ROUTED)
def test_probes_metrics_and_admin_match_no_ingress_rule(path):
    assert ingress_backend(path) is None


def test_the_ingress_routes_what_the_compose_gateway_routes():
    from tests.test_gateway import LOCATIONS, routed_to
    for location in LOCATIONS:
        sample = location.path + ("x1" if location.path.endswith("/") else "")
        expected = routed_to(sample)
        assert ingress_backend(sample) == (None if expected == "404" else f"latchkey-{expected}"), sample


def test_ingress_backends_use_the_service_ports():
    (rule,) = find("Ingress", "latchkey")["spec"]["rules"]
    for entry in rule["http"]["paths"]:
        service = entry["backend"]["service"]
        assert service["port"]["number"] == PORTS[service["name"].removeprefix("latchkey-")]


# --- the network --------------------------------------------------------------------------

def test_the_admin_api_trusts_no_forwarded_address():
    """Nothing proxies it: X-Forwarded-For would let a caller dodge its per-address limits."""
    assert _pod_environment("Deployment", "latchkey-admin")["LATCHKEY_TRUSTED_PROXIES"] == ""
    assert _pod_environment("Deployment", "latchkey-token")["LATCHKEY_TRUSTED_PROXIES"] == "10.0.0.0/8"


@pytest.mark.parametrize("workload", [*APPS, "admin"])
def test_a_pod_gets_its_drain_before_it_is_killed(workload):
    """SIGKILL comes terminationGracePeriodSeconds after SIGTERM: the delay and the grace fit in it."""
    env = _pod_environment("Deployment", f"latchkey-{workload}")
    settings = Settings.from_env({**env, KEK: base64.urlsafe_b64encode(bytes(range(32))).decode()})
    delay, grace = settings.shutdown_delay, settings.shutdown_grace
    assert delay >= 5 * 2  # the readiness probe's period x failureThreshold: out of the Service first
    spec = pod_spec(find("Deployment", f"latchkey-{workload}"))
    assert spec is not None and spec["terminationGracePeriodSeconds"] >= delay + grace + 5


def test_network_policies_guard_the_public_ports_admin_and_stores():
    public = find("NetworkPolicy", "latchkey-public")["spec"]
    assert sorted(p["port"] for p in public["ingress"][0]["ports"]) == [PORTS[a] for a in APPS]
    sources = public["ingress"][0]["from"]
    assert all(set(s) == {"namespaceSelector"} for s in sources)  # no ipBlock: nothing from outside
    assert {s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for s in sources} == \
        {"ingress-nginx", "monitoring"}
    admin = find("NetworkPolicy", "latchkey-admin")["spec"]
    assert admin["ingress"] == [{"from": [{"namespaceSelector": {}}], "ports": [{"port": 8004, "protocol": "TCP"}]}]
    stores = find("NetworkPolicy", "latchkey-stores")["spec"]
    assert stores["ingress"][0]["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "latchkey"}}}]
    # A redis+sentinel:// URL asks the sentinels first (26379).
    assert sorted(p["port"] for p in stores["ingress"][0]["ports"]) == [5432, 6379, 26379]
    # The stores' own pods reach each other (replication, sentinel gossip, standby streaming).
    store_pods = stores["podSelector"]["matchExpressions"]
    assert stores["ingress"][1] == {"from": [{"podSelector": {"matchExpressions": store_pods}}]}
    deny = find("NetworkPolicy", "latchkey-default-deny")["spec"]
    assert deny["policyTypes"] == ["Ingress"] and "ingress" not in deny


def test_base_files_are_all_in_the_kustomization():
    listed = set(yaml.safe_load((KUBERNETES / "base" / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in (KUBERNETES / "base").glob("*.yaml")} - {"kustomization.yaml",
                                                                                 "secrets.example.yaml"}
    assert all(load_documents(KUBERNETES / "base" / name) for name in listed)
