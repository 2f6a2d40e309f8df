#!/usr/bin/python3
"""Checks the Helm chart in deploy/helm/quiver against what quiverd and Kubernetes need.

Usage: check_chart.py RENDERED_DEFAULT RENDERED_CUSTOM NOTES_DEFAULT

RENDERED_* are the outputs of helmrender with the default values and with
tests/packaging/values-custom.yaml (release "quiver", namespace "default").
Prints one "PASS name" / "FAIL name: why" line per check; exits 1 if any failed.
"""
import copy
import json
import os
import re
import sys

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CHART = os.path.join(ROOT, "deploy", "helm", "quiver")
RELEASE = "quiver"
STANDARD_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance",
                   "app.kubernetes.io/version", "app.kubernetes.io/managed-by")
# Environment variables quiverd reads (src/server/main.cc: every flag's envname).
QUIVERD_ENV = {"QUIVER_ADDRESS", "QUIVER_PORT", "QUIVER_DATA_DIR", "QUIVER_THREADS",
               "QUIVER_DURABILITY", "QUIVER_LOG_LEVEL", "QUIVER_MAX_BODY_BYTES",
               "QUIVER_SEAL_THRESHOLD", "QUIVER_BUILD_THREADS"}

results = []


def check(name, ok, why=""):
    results.append(bool(ok))
    print(f"PASS {name}" if ok else f"FAIL {name}: {why}")


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def merge(base, override):
    """Helm's coalescing of a -f file over values.yaml: maps deeply, null deletes."""
    out = copy.deepcopy(base)
    for k, v in override.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def parse_rendered(path, label):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        check(f"{label}: rendered YAML parses", False, str(e))
        return []
    check(f"{label}: rendered YAML parses ({len(docs)} objects)", len(docs) > 0, "no objects")
    return docs


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def one(docs, kind, label, name=None):
    found = [d for d in by_kind(docs, kind)
             if name is None or d.get("metadata", {}).get("name") == name]
    check(f"{label}: exactly one {kind}{' ' + name if name else ''}", len(found) == 1,
          f"found {len(found)}")
    return found[0] if found else None


def subset(small, big):
    return bool(small) and all(big.get(k) == v for k, v in small.items())


def check_render(docs, values, chart, label, expect_ingress):
    app_version = str(chart["appVersion"])
    for d in docs:
        kind = d.get("kind", "?")
        meta = d.get("metadata") or {}
        oname = f"{kind}/{meta.get('name', '?')}"
        check(f"{label}: {oname} has apiVersion, kind, metadata.name",
              d.get("apiVersion") and d.get("kind") and meta.get("name"), "missing field")
        labels = meta.get("labels") or {}
        missing = [k for k in STANDARD_LABELS if k not in labels]
        check(f"{label}: {oname} has the standard app.kubernetes.io labels", not missing,
              f"missing {missing}")
        check(f"{label}: {oname} labels carry name/instance/version/managed-by values",
              labels.get("app.kubernetes.io/name") == "quiver"
              and labels.get("app.kubernetes.io/instance") == RELEASE
              and labels.get("app.kubernetes.io/version") == app_version
              and labels.get("app.kubernetes.io/managed-by") == "Helm", str(labels))

    sts = one(docs, "StatefulSet", label)
    svc = one(docs, "Service", label, RELEASE)
    headless = one(docs, "Service", label, f"{RELEASE}-headless")
    pdb = one(docs, "PodDisruptionBudget", label)
    cm = one(docs, "ConfigMap", label)
    if not (sts and svc and headless and pdb and cm):
        return
    check(f"{label}: StatefulSet is apps/v1, PDB policy/v1",
          sts["apiVersion"] == "apps/v1" and pdb["apiVersion"] == "policy/v1",
          f"{sts['apiVersion']} {pdb['apiVersion']}")

    spec = sts["spec"]
    pod = spec["template"]
    pod_labels = pod["metadata"]["labels"]
    check(f"{label}: StatefulSet selector matches the pod template labels",
          subset(spec["selector"]["matchLabels"], pod_labels), str(spec["selector"]))
    check(f"{label}: Service selector matches the pod template labels",
          subset(svc["spec"]["selector"], pod_labels), str(svc["spec"]["selector"]))
    check(f"{label}: headless Service selector matches the pod template labels",
          subset(headless["spec"]["selector"], pod_labels), str(headless["spec"]["selector"]))
    check(f"{label}: PDB selector matches the pod template labels",
          subset(pdb["spec"]["selector"]["matchLabels"], pod_labels), str(pdb["spec"]))
    check(f"{label}: Service is ClusterIP, headless Service has clusterIP None",
          svc["spec"].get("type", "ClusterIP") == values["service"]["type"] == "ClusterIP"
          and headless["spec"].get("clusterIP") == "None", "")
    check(f"{label}: StatefulSet serviceName is the headless Service",
          spec.get("serviceName") == headless["metadata"]["name"], spec.get("serviceName"))
    check(f"{label}: replicas follow values.replicaCount",
          spec.get("replicas") == values["replicaCount"],
          f"{spec.get('replicas')} != {values['replicaCount']}")

    # The container, its settings and probes.
    containers = pod["spec"]["containers"]
    check(f"{label}: one container", len(containers) == 1, str(len(containers)))
    c = containers[0]
    env = cm["data"]
    check(f"{label}: ConfigMap values are all strings",
          all(isinstance(v, str) for v in env.values()), str(env))
    unknown = set(env) - QUIVERD_ENV - set(values["config"].get("extraEnv", {}))
    check(f"{label}: ConfigMap holds only variables quiverd reads", not unknown, str(unknown))
    check(f"{label}: quiverd listens on all interfaces with data in /data",
          env.get("QUIVER_ADDRESS") == "0.0.0.0" and env.get("QUIVER_DATA_DIR") == "/data", "")
    check(f"{label}: QUIVER_PORT follows values.config.port",
          env.get("QUIVER_PORT") == str(values["config"]["port"]), env.get("QUIVER_PORT"))
    check(f"{label}: QUIVER_MAX_BODY_BYTES is a plain integer (no float formatting)",
          env.get("QUIVER_MAX_BODY_BYTES") == str(values["config"]["maxBodyBytes"]),
          env.get("QUIVER_MAX_BODY_BYTES"))
    extra = {k: str(v) for k, v in values["config"].get("extraEnv", {}).items()}
    check(f"{label}: config.extraEnv reaches the ConfigMap verbatim",
          all(env.get(k) == v for k, v in extra.items()), f"{extra} vs {env}")
    check(f"{label}: QUIVER_DURABILITY and QUIVER_LOG_LEVEL follow values",
          env.get("QUIVER_DURABILITY") == values["config"]["durability"]
          and env.get("QUIVER_LOG_LEVEL") == values["config"]["logLevel"], "")
    check(f"{label}: the container reads the ConfigMap through envFrom",
          any(e.get("configMapRef", {}).get("name") == cm["metadata"]["name"]
              for e in c.get("envFrom", [])), str(c.get("envFrom")))
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    check(f"{label}: container port equals QUIVER_PORT",
          str(ports.get("http")) == env.get("QUIVER_PORT"), f"{ports} vs {env.get('QUIVER_PORT')}")

    def resolve(port):
        return ports.get(port) if isinstance(port, str) else port

    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"),
                        ("startupProbe", "/readyz")):
        p = c.get(probe, {}).get("httpGet", {})
        check(f"{label}: {probe} GETs {path} on the server port",
              p.get("path") == path and str(resolve(p.get("port"))) == env.get("QUIVER_PORT"),
              str(p))
    sp = c.get("startupProbe", {})
    check(f"{label}: startup probe allows >= 10 minutes for recovery",
          sp.get("failureThreshold", 0) * sp.get("periodSeconds", 10) >= 600, str(sp))
    check(f"{label}: Service and headless Service target the named container port",
          all(str(resolve(p["targetPort"])) == env.get("QUIVER_PORT")
              for s in (svc, headless) for p in s["spec"]["ports"]), "")
    check(f"{label}: Service port follows values.service.port",
          svc["spec"]["ports"][0]["port"] == values["service"]["port"], "")

    image = c["image"]
    repo, _, tag = image.rpartition(":")
    check(f"{label}: image tag equals Chart appVersion", tag == app_version, image)
    check(f"{label}: image repository follows values", repo == values["image"]["repository"],
          image)
    check(f"{label}: resources set", c.get("resources", {}).get("limits", {}).get("memory"),
          str(c.get("resources")))

    # Security: what the Dockerfile's user and the read-only root need.
    psc = pod["spec"].get("securityContext", {})
    sc = c.get("securityContext", {})
    check(f"{label}: pod runs as non-root uid 10001 with fsGroup 10001",
          psc.get("runAsNonRoot") is True and psc.get("runAsUser") == 10001
          and psc.get("fsGroup") == 10001, str(psc))
    check(f"{label}: container securityContext is locked down",
          sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 10001
          and sc.get("readOnlyRootFilesystem") is True
          and sc.get("allowPrivilegeEscalation") is False
          and sc.get("capabilities", {}).get("drop") == ["ALL"]
          and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", str(sc))
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod["spec"].get("volumes", [])}
    vcts = {v["metadata"]["name"]: v for v in spec.get("volumeClaimTemplates", [])}
    check(f"{label}: /data is the per-pod volumeClaimTemplate",
          mounts.get("/data") in vcts and mounts.get("/data") not in vols, str(mounts))
    check(f"{label}: /tmp is an emptyDir", "emptyDir" in vols.get(mounts.get("/tmp"), {}),
          str(mounts))
    vct = vcts.get(mounts.get("/data"), {}).get("spec", {})
    want_class = values["persistence"].get("storageClass", "")
    got_class = vct.get("storageClassName")
    check(f"{label}: storage class follows values.persistence.storageClass",
          got_class == want_class if want_class else got_class is None,
          f"{got_class!r} vs {want_class!r}")
    check(f"{label}: volume size follows values.persistence.size",
          vct.get("resources", {}).get("requests", {}).get("storage")
          == values["persistence"]["size"], str(vct))
    check(f"{label}: config checksum annotation restarts pods on config change",
          re.fullmatch(r"[0-9a-f]{64}",
                       str(pod["metadata"].get("annotations", {}).get("checksum/config", ""))),
          str(pod["metadata"].get("annotations")))

    ingresses = by_kind(docs, "Ingress")
    check(f"{label}: Ingress {'present' if expect_ingress else 'absent'}",
          len(ingresses) == (1 if expect_ingress else 0), str(len(ingresses)))
    if expect_ingress and ingresses:
        ing = ingresses[0]
        check(f"{label}: Ingress is networking.k8s.io/v1",
              ing["apiVersion"] == "networking.k8s.io/v1", ing["apiVersion"])
        backends = [p["backend"]["service"] for r in ing["spec"]["rules"]
                    for p in r["http"]["paths"]]
        check(f"{label}: Ingress routes to the Service port",
              backends and all(b["name"] == svc["metadata"]["name"]
                               and b["port"]["number"] == svc["spec"]["ports"][0]["port"]
                               for b in backends), str(backends))
        hosts = [r["host"] for r in ing["spec"]["rules"]]
        check(f"{label}: Ingress host templates are expanded (tpl)",
              all("{{" not in h for h in hosts) and "quiver.default.example.com" in hosts,
              str(hosts))
        check(f"{label}: Ingress class follows values",
              ing["spec"].get("ingressClassName") == values["ingress"]["className"], "")


def check_values_comments():
    """Every top-level key, and every second-level key of the chart's own settings, has a
    comment in the group of lines right above it."""
    exempt_parents = {"podSecurityContext", "securityContext", "resources"}
    with open(os.path.join(CHART, "values.yaml"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    uncommented = []
    parent = None
    for i, line in enumerate(lines):
        m = re.match(r"^( *)([A-Za-z][A-Za-z0-9]*):", line)
        if not m:
            continue
        indent = len(m.group(1))
        if indent == 0:
            parent = m.group(2)
        if indent > 2 or (indent == 2 and parent in exempt_parents):
            continue
        j = i - 1
        ok = False
        while j >= 0 and lines[j].strip():
            lead = len(lines[j]) - len(lines[j].lstrip())
            if lines[j].lstrip().startswith("#") and lead == indent:
                ok = True
                break
            if lead < indent:
                break
            j -= 1
        if not ok:
            uncommented.append(f"{line.strip()} (line {i + 1})")
    check("values.yaml: every setting is commented", not uncommented, ", ".join(uncommented))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    rendered_default, rendered_custom, notes = sys.argv[1:]
    chart = load(os.path.join(CHART, "Chart.yaml"))
    defaults = load(os.path.join(CHART, "values.yaml"))
    custom = merge(defaults, load(os.path.join(HERE, "values-custom.yaml")))
    with open(os.path.join(CHART, "values.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)

    check("Chart.yaml: apiVersion v2, name quiver",
          chart.get("apiVersion") == "v2" and chart.get("name") == "quiver", str(chart))
    with open(os.path.join(ROOT, "Dockerfile"), encoding="utf-8") as f:
        docker_version = re.search(r"^ARG VERSION=(\S+)", f.read(), re.M)
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        project_version = re.search(r"project\(quiver VERSION (\S+)", f.read())
    check("Chart.yaml: appVersion = Dockerfile VERSION default = CMake project version",
          docker_version and project_version
          and str(chart.get("appVersion")) == docker_version.group(1) == project_version.group(1),
          f"{chart.get('appVersion')} {docker_version and docker_version.group(1)} "
          f"{project_version and project_version.group(1)}")
    check_values_comments()

    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    for label, vals in (("default values", defaults), ("custom values", custom)):
        errs = [e.message for e in validator.iter_errors(vals)]
        check(f"values.schema.json accepts the {label}", not errs, "; ".join(errs))
    with open(os.path.join(HERE, "values-bad.yaml"), encoding="utf-8") as f:
        bad_docs = [d for d in yaml.safe_load_all(f) if d]
    for bad in bad_docs:
        errs = list(validator.iter_errors(merge(defaults, bad)))
        check(f"values.schema.json rejects {json.dumps(bad)}", errs, "accepted")

    check_render(parse_rendered(rendered_default, "default"), defaults, chart, "default",
                 expect_ingress=False)
    check_render(parse_rendered(rendered_custom, "custom"), custom, chart, "custom",
                 expect_ingress=True)

    with open(notes, encoding="utf-8") as f:
        notes_text = f.read()
    check("NOTES.txt renders the port-forward command for svc/quiver",
          "port-forward svc/quiver 8080:8080" in notes_text, notes_text[:200])

    failed = results.count(False)
    print(f"check_chart: {len(results) - failed} passed, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
