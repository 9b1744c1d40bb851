#!/usr/bin/env python3
"""Validates manifests rendered from helm/sfmc-relay (run by check-deploy).

usage: check_manifests.py SCHEMA_DIR MANIFEST.yaml...

Every document is checked against a schema, offline:
- core kinds with kubernetes-validate (the Kubernetes OpenAPI schemas it
  bundles, strict: unknown fields are errors), for each version in
  K8S_VERSIONS;
- ScaledObject (keda.sh/v1alpha1), ServiceMonitor and PrometheusRule
  (monitoring.coreos.com/v1) with the cloudcoil models generated from the KEDA
  and Prometheus Operator CRDs: the document must parse and survive a round trip unchanged (a field
  the CRD does not know, or a value of the wrong type, changes it);
- a kind with no schema is an error.
Then what the chart promises is checked (probes, security context, grace
period, config checksum, admin.listen, the config against
schemas/config.schema.json, the dashboard ConfigMap and the PrometheusRule
carrying helm/sfmc-relay/files/ as they are, ...).
"""

import hashlib
import json
import os
import sys

import jsonschema
import kubernetes_validate
import yaml
from cloudcoil.models.keda.v1alpha1 import ScaledObject
from cloudcoil.models.prometheus_operator.v1 import PrometheusRule, ServiceMonitor
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

K8S_VERSIONS = os.environ.get("K8S_VERSIONS", "1.25.0 1.37.0").split()
CRD_MODELS = {
    ("keda.sh/v1alpha1", "ScaledObject"): ScaledObject,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): ServiceMonitor,
    ("monitoring.coreos.com/v1", "PrometheusRule"): PrometheusRule,
}
CHART_FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "helm", "sfmc-relay", "files")

failures = []


def fail(where, message):
    failures.append(f"{where}: {message}")


def differences(expected, actual, path=""):
    """Paths where two JSON values differ (what a model dropped or coerced)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                out.append(f"{path}/{key}: not in the CRD schema (dropped)")
            elif key not in expected:
                out.append(f"{path}/{key}: added by the model")
            else:
                out += differences(expected[key], actual[key], f"{path}/{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        out = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            out += differences(e, a, f"{path}/{i}")
        return out
    if expected != actual or type(expected) is not type(actual):
        return [f"{path}: {expected!r} became {actual!r} (wrong type or format)"]
    return []


def check_schema(where, doc):
    key = (doc.get("apiVersion"), doc.get("kind"))
    model = CRD_MODELS.get(key)
    if model is not None:
        try:
            parsed = model.model_validate(doc)
        except Exception as e:  # pydantic.ValidationError
            fail(where, f"{key[1]} does not match its CRD schema: {e}")
            return
        round_trip = json.loads(parsed.model_dump_json(by_alias=True, exclude_unset=True))
        for d in differences(json.loads(json.dumps(doc)), round_trip):
            fail(where, f"{key[1]} {d}")
        return
    for version in K8S_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            fail(where, f"invalid against Kubernetes {version}: {path}: {e.message}")
        except SchemaNotFoundError as e:
            fail(where, e.message)


def container_of(deployment):
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "sfmc-relay")


def check_chart(name, docs, config_schema):
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    where = name

    # The relay's configuration, and perhaps the dashboard's ConfigMap.
    configs = [c for c in by_kind.get("ConfigMap", []) if "config.json" in c.get("data", {})]
    dashboards = [c for c in by_kind.get("ConfigMap", []) if c not in configs]
    missing = [(kind, len(found)) for kind, found in (("Deployment", by_kind.get("Deployment", [])),
                                                       ("ConfigMap with config.json", configs)) if len(found) != 1]
    for kind, count in missing:
        fail(where, f"expected one {kind}, found {count}")
    if missing:
        return
    deployment = by_kind["Deployment"][0]
    configmap = configs[0]
    pod = deployment["spec"]["template"]
    spec = pod["spec"]
    container = container_of(deployment)

    # The configuration: valid for the daemon, admin endpoint reachable.
    text = configmap["data"]["config.json"]
    config = json.loads(text)
    try:
        jsonschema.Draft7Validator(config_schema).validate(config)
    except jsonschema.ValidationError as e:
        fail(where, f"config.json is not valid against config.schema.json: /{'/'.join(map(str, e.path))}: {e.message}")
    if config.get("admin", {}).get("listen") != f"0.0.0.0:{container['ports'][0]['containerPort']}":
        fail(where, f"admin.listen is {config.get('admin')}, not 0.0.0.0:<container port>")
    checksum = pod["metadata"].get("annotations", {}).get("checksum/config")
    if checksum != hashlib.sha256(text.rstrip("\n").encode()).hexdigest():
        fail(where, "checksum/config does not match the rendered config.json")

    if container.get("args") != ["run", "--config", "/etc/sfmc-relay/config.json"]:
        fail(where, f"container args are {container.get('args')}")
    mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
    if "/etc/sfmc-relay" not in mounts:
        fail(where, "the ConfigMap is not mounted at /etc/sfmc-relay")

    # Probes on the admin port.
    for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") != "http-metrics":
            fail(where, f"{probe} is {container.get(probe)}, expected GET {path} on http-metrics")

    # Grace period above the drain timeout.
    drain_s = -(-config.get("pipeline", {}).get("drain_timeout_ms", 30000) // 1000)
    if spec.get("terminationGracePeriodSeconds", 30) <= drain_s:
        fail(where, f"terminationGracePeriodSeconds {spec.get('terminationGracePeriodSeconds')} <= drain {drain_s} s")

    # Hardening.
    psc, csc = spec.get("securityContext", {}), container.get("securityContext", {})
    expectations = [
        (psc.get("runAsNonRoot") or csc.get("runAsNonRoot"), "runAsNonRoot"),
        (csc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem"),
        (csc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false"),
        ("ALL" in csc.get("capabilities", {}).get("drop", []), "capabilities drop ALL"),
        ((csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault",
         "seccompProfile RuntimeDefault"),
        ("requests" in container.get("resources", {}) and "limits" in container.get("resources", {}),
         "resources requests and limits"),
    ]
    for ok, what in expectations:
        if not ok:
            fail(where, f"container lacks {what}")

    # Secrets: files, never environment variables. The chart's Secret
    # (rendered) or the existing one (not rendered) is mounted read-only
    # where CREDENTIALS_DIRECTORY points, readable by the pod's group only.
    if container.get("envFrom"):
        fail(where, f"secrets must be files, not envFrom: {container['envFrom']}")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"].get("volumes", [])}
    mounts = {m["name"]: m for m in container.get("volumeMounts", [])}
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    secret_volume = (volumes.get("secrets") or {}).get("secret") or {}
    secrets = {s["metadata"]["name"] for s in by_kind.get("Secret", [])}
    if not secret_volume:
        fail(where, "no Secret volume named secrets")
    elif secrets and secret_volume.get("secretName") not in secrets:
        fail(where, f"the secrets volume names Secret {secret_volume.get('secretName')}, rendered: {sorted(secrets)}")
    elif secret_volume.get("defaultMode") != 0o440:
        fail(where, f"secret files have mode {oct(secret_volume.get('defaultMode') or 0)}, not 0440")
    mount = mounts.get("secrets") or {}
    if not mount.get("readOnly") or mount.get("mountPath") != env.get("CREDENTIALS_DIRECTORY"):
        fail(where, f"secrets mounted at {mount.get('mountPath')} (read-only: {mount.get('readOnly')}), "
                    f"CREDENTIALS_DIRECTORY {env.get('CREDENTIALS_DIRECTORY')}")

    # Metrics: Service port http-metrics, ServiceMonitor scraping it; the
    # ENS receiver's Service (its own) on the container's http-ens port,
    # where config.ens listens, and its Ingress to that Service and path.
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for service in by_kind.get("Service", []):
        names = [p["name"] for p in service["spec"]["ports"]]
        if names not in (["http-metrics"], ["http-ens"]):
            fail(where, f"Service ports are {names}, not http-metrics (or http-ens for the ENS receiver's)")
        if names == ["http-ens"] and config.get("ens", {}).get("listen") != f"0.0.0.0:{ports.get('http-ens')}":
            fail(where, f"config.ens.listen is {config.get('ens', {}).get('listen')}, the http-ens port "
                        f"{ports.get('http-ens')}")
        if service["spec"]["selector"] != deployment["spec"]["selector"]["matchLabels"]:
            fail(where, "Service selector differs from the Deployment's")
    for ingress in by_kind.get("Ingress", []):
        ens_services = [s["metadata"]["name"] for s in by_kind.get("Service", [])
                        if [p["name"] for p in s["spec"]["ports"]] == ["http-ens"]]
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                if backend["name"] not in ens_services or backend["port"].get("name") != "http-ens" or \
                        path["path"] != config.get("ens", {}).get("path"):
                    fail(where, f"the Ingress sends {path['path']} to {backend}, not config.ens.path to the "
                                f"ENS Service's http-ens")
        if not ingress["spec"].get("tls"):
            fail(where, "the ENS Ingress ends no TLS (ENS calls https only)")
    for monitor in by_kind.get("ServiceMonitor", []):
        if [e.get("port") for e in monitor["spec"]["endpoints"]] != ["http-metrics"]:
            fail(where, "ServiceMonitor does not scrape port http-metrics")

    # Monitoring: the dashboard as files/ has it, for Grafana's sidecar; the
    # rules as files/ has them (check-deploy compares the groups exactly).
    with open(os.path.join(CHART_FILES, "grafana-dashboard.json")) as f:
        dashboard = json.load(f)
    for cm in dashboards:
        files = cm.get("data", {})
        if list(files) != ["sfmc-relay.json"] or json.loads(files["sfmc-relay.json"]) != dashboard:
            fail(where, f"ConfigMap {cm['metadata']['name']} is not the dashboard of files/grafana-dashboard.json")
        if not any(k.startswith("grafana") for k in cm["metadata"].get("labels", {})):
            fail(where, f"dashboard ConfigMap has no label for Grafana's sidecar: {cm['metadata'].get('labels')}")
    for rule in by_kind.get("PrometheusRule", []):
        alerts = [r.get("alert") for g in rule["spec"]["groups"] for r in g["rules"]]
        if not alerts or not all(alerts):
            fail(where, f"PrometheusRule has rules other than alerts, or none: {alerts}")

    # Autoscaling: at most one autoscaler; then the Deployment leaves replicas to it.
    scalers = by_kind.get("HorizontalPodAutoscaler", []) + by_kind.get("ScaledObject", [])
    if len(scalers) > 1:
        fail(where, "both an HPA and a KEDA ScaledObject")
    if scalers and "replicas" in deployment["spec"]:
        fail(where, "Deployment sets replicas although an autoscaler manages them")
    for scaled in by_kind.get("ScaledObject", []):
        kafka = config["kafka"]
        topics = [t["metadata"].get("topic") for t in scaled["spec"]["triggers"] if t["type"] == "kafka"]
        if sorted(topics) != sorted(kafka["input_topics"]):
            fail(where, f"ScaledObject triggers cover {topics}, inputs are {kafka['input_topics']}")
        for trigger in scaled["spec"]["triggers"]:
            if trigger["metadata"].get("consumerGroup") != kafka.get("group_id", "sfmc-relay"):
                fail(where, "ScaledObject trigger watches another consumer group")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        if pdb["spec"]["selector"]["matchLabels"] != deployment["spec"]["selector"]["matchLabels"]:
            fail(where, "PodDisruptionBudget selector differs from the Deployment's")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    with open(os.path.join(sys.argv[1], "config.schema.json")) as f:
        config_schema = json.load(f)
    for path in sys.argv[2:]:
        name = os.path.basename(path)
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        if not docs:
            fail(name, "no documents rendered")
            continue
        before = len(failures)
        for doc in docs:
            check_schema(f"{name}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}", doc)
        check_chart(name, docs, config_schema)
        kinds = ", ".join(sorted(d["kind"] for d in docs))
        status = "ok" if len(failures) == before else "FAILED"
        print(f"{name}: {len(docs)} documents ({kinds}): {status}")
    for line in failures:
        print(f"  {line}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
