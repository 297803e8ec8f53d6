"""Renders deploy/kubernetes/ kustomizations without kubectl: exactly the features they use.

`resources` (files and directories), `namespace`, `images` (newName/newTag) and `patches` given
by `path`, applied as strategic merge patches (maps merge, lists of named items merge by name,
other lists are replaced), or with a `target` (kind and name) as JSON patches (RFC 6902: `add`
and `replace`). Anything else in a kustomization is refused, so a feature added to the
manifests cannot be silently ignored here; tests/test_kubernetes.py also compares this rendering
with `kubectl kustomize` wherever kubectl is installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]
SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


def load_documents(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def render(directory: Path) -> list[Manifest]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    if unknown := set(kustomization) - SUPPORTED:
        raise ValueError(f"{directory}/kustomization.yaml uses {sorted(unknown)}: teach tests/support/kustomize.py")
    manifests: list[Manifest] = []
    for resource in kustomization.get("resources", []):
        target = (directory / resource).resolve()
        manifests += render(target) if target.is_dir() else load_documents(target)
    for patch in kustomization.get("patches", []):
        if set(patch) == {"path", "target"}:
            _apply_json_patch(manifests, patch["target"], yaml.safe_load((directory / patch["path"]).read_text()))
            continue
        if set(patch) != {"path"}:
            raise ValueError(f"only `patches: - path: FILE [target: ...]` is supported, got {patch}")
        for document in load_documents(directory / patch["path"]):
            _apply_patch(manifests, document)
    for image in kustomization.get("images", []):
        _set_image(manifests, image)
    if namespace := kustomization.get("namespace"):
        for manifest in manifests:
            if manifest["kind"] not in CLUSTER_SCOPED:
                manifest["metadata"]["namespace"] = namespace
    return manifests


def _apply_patch(manifests: list[Manifest], patch: Manifest) -> None:
    key = (patch["kind"], patch["metadata"]["name"])
    targets = [m for m in manifests if (m["kind"], m["metadata"]["name"]) == key]
    if len(targets) != 1:
        raise ValueError(f"patch for {key} matches {len(targets)} resources")
    merged = strategic_merge(targets[0], patch)
    manifests[manifests.index(targets[0])] = merged


def _apply_json_patch(manifests: list[Manifest], target: dict[str, str], operations: list[dict[str, Any]]) -> None:
    if set(target) != {"kind", "name"}:
        raise ValueError(f"a JSON patch's target is a kind and a name here, got {target}")
    [manifest] = [m for m in manifests if (m["kind"], m["metadata"]["name"]) == (target["kind"], target["name"])]
    for operation in operations:
        if operation["op"] not in ("add", "replace"):
            raise ValueError(f"JSON patch op {operation['op']!r}: teach tests/support/kustomize.py")
        *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in operation["path"].split("/")[1:]]
        node: Any = manifest
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = operation["value"]
        elif operation["op"] == "replace" and last not in node:
            raise ValueError(f"JSON patch replaces {operation['path']}, which is not there")
        else:
            node[last] = operation["value"]


def strategic_merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for name, value in patch.items():
            merged[name] = strategic_merge(base[name], value) if name in base else value
        return merged
    if isinstance(base, list) and isinstance(patch, list) and _named(base) and _named(patch):
        by_name = {item["name"]: item for item in base}
        merged_list = [strategic_merge(item, next((p for p in patch if p["name"] == item["name"]), {}))
                       for item in base]
        return merged_list + [item for item in patch if item["name"] not in by_name]
    return patch


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) and "name" in item for item in items)


def pod_spec(manifest: Manifest) -> Manifest | None:
    """The pod template's spec of a workload (Deployment, Job, ...), else None."""
    template = manifest.get("spec", {}).get("template")
    return template["spec"] if isinstance(template, dict) else None


def _set_image(manifests: list[Manifest], image: dict[str, str]) -> None:
    for manifest in manifests:
        spec = pod_spec(manifest)
        for container in (spec or {}).get("containers", []) + (spec or {}).get("initContainers", []):
            if container["image"].split(":")[0].split("@")[0] == image["name"]:
                name = image.get("newName", image["name"])
                container["image"] = f"{name}:{image['newTag']}" if "newTag" in image else name
