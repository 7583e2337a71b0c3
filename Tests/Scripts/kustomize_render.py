#!/usr/bin/env python3
"""Renders a kustomization as `kubectl kustomize` would, for the subset deploy/kubernetes uses
(there is no kustomize in Debian): `resources` (files, and folders with a kustomization.yaml,
recursively), `configMapGenerator` (`name`, `files`) with `generatorOptions.disableNameSuffixHash`,
and `namespace` (set on every namespaced object). Any other key is refused, so the manifests
cannot come to depend on a feature this renderer would silently skip. Checks that what the
workloads refer to exists: ConfigMaps of volumes, the service account.

  kustomize_render.py DIR > rendered.yaml
"""
import os
import sys

import yaml

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
KNOWN = {"apiVersion", "kind", "resources", "configMapGenerator", "generatorOptions", "namespace"}


def render(directory):
    path = os.path.join(directory, "kustomization.yaml")
    with open(path) as stream:
        kustomization = yaml.safe_load(stream)
    unknown = set(kustomization) - KNOWN
    if unknown:
        sys.exit(f"{path}: keys this renderer does not support: {sorted(unknown)}")
    objects = []
    for resource in kustomization.get("resources", []):
        target = os.path.normpath(os.path.join(directory, resource))
        if os.path.isdir(target):
            objects += render(target)
        else:
            with open(target) as stream:
                objects += [item for item in yaml.safe_load_all(stream) if item]
    generators = kustomization.get("configMapGenerator", [])
    if generators and not kustomization.get("generatorOptions", {}).get("disableNameSuffixHash"):
        sys.exit(f"{path}: generated ConfigMaps need disableNameSuffixHash (their names are referenced as written)")
    for generator in generators:
        data = {}
        for name in generator["files"]:
            with open(os.path.join(directory, name)) as stream:
                data[os.path.basename(name)] = stream.read()
        objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]},
                        "data": data})
    namespace = kustomization.get("namespace")
    if namespace:
        for item in objects:
            if item["kind"] not in CLUSTER_SCOPED:
                item.setdefault("metadata", {})["namespace"] = namespace
    return objects


def check_references(objects):
    names = {(item["kind"], item["metadata"]["name"]) for item in objects}
    for item in objects:
        spec = item.get("spec", {}).get("template", {}).get("spec")
        if not spec:
            continue
        account = spec.get("serviceAccountName")
        if account and ("ServiceAccount", account) not in names:
            sys.exit(f"{item['metadata']['name']}: service account {account} is not in the rendering")
        for volume in spec.get("volumes", []):
            if "configMap" in volume and ("ConfigMap", volume["configMap"]["name"]) not in names:
                sys.exit(f"{item['metadata']['name']}: ConfigMap {volume['configMap']['name']} is not in the rendering")


objects = render(sys.argv[1])
check_references(objects)
yaml.safe_dump_all(objects, sys.stdout, sort_keys=False)
