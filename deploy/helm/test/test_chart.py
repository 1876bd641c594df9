"""The Helm chart (deploy/helm/coffer), linted and rendered by Helm's own engine (render.py),
every manifest validated against the Kubernetes schemas (kubernetes-validate --strict), and
the properties the chart promises asserted on what it renders.

    python3 deploy/helm/test/test_chart.py     (needs helm-sdkpy and kubernetes-validate)
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import tomllib
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402  (re-executes this script with HELM_DRIVER=memory)

HERE = os.path.dirname(os.path.abspath(__file__))


def read(path):
    with open(path) as f:
        return f.read()


MULTIZONE = yaml.safe_load(read(os.path.join(HERE, "values-multizone.yaml")))
# The oldest Kubernetes the chart supports (Chart.yaml's kubeVersion) and the newest schemas.
VERSIONS = ["1.30.0", "1.37.0"]


def pod_spec(doc):
    return doc["spec"]["template"]["spec"]


def container(doc):
    [c] = pod_spec(doc)["containers"]
    return c


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


class Chart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.default = render.render()
        cls.multizone = render.render(MULTIZONE)

    def test_lint_finds_no_problem(self):
        result = render.lint()
        serious = [m for m in result["Messages"] if m["Severity"] >= 2]
        self.assertEqual(serious, [], result)
        self.assertFalse(result["Errors"], result)

    def test_every_manifest_validates_strictly(self):
        for values, r in [("default", self.default), ("multizone", self.multizone)]:
            with tempfile.TemporaryDirectory() as d:
                files = []
                for i, doc in enumerate(r.docs):
                    if doc["kind"] == "ServiceMonitor":
                        continue  # a CRD: no schema in Kubernetes' own
                    path = os.path.join(d, f"{i}-{doc['kind']}.yaml")
                    with open(path, "w") as f:
                        yaml.safe_dump(doc, f)
                    files.append(path)
                for version in VERSIONS:
                    out = subprocess.run(
                        [sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet",
                         "-k", version, *files], capture_output=True, text=True)
                    self.assertEqual(out.returncode, 0, f"{values} on {version}:\n{out.stdout}{out.stderr}")
        kinds = {d["kind"] for d in self.multizone.docs}
        self.assertTrue({"StatefulSet", "Deployment", "Service", "PodDisruptionBudget", "Secret",
                         "ConfigMap", "Ingress", "HorizontalPodAutoscaler", "ServiceMonitor",
                         "ClusterRole", "ClusterRoleBinding", "ServiceAccount"} <= kinds, kinds)

    def test_selectors_match_the_pods(self):
        for r in (self.default, self.multizone):
            sts = r.one("StatefulSet", "-node")
            dep = r.one("Deployment", "-gateway")
            node_labels = sts["spec"]["template"]["metadata"]["labels"]
            gw_labels = dep["spec"]["template"]["metadata"]["labels"]
            self.assertTrue(selects(sts["spec"]["selector"]["matchLabels"], node_labels))
            self.assertTrue(selects(dep["spec"]["selector"]["matchLabels"], gw_labels))
            node_pdb = r.one("PodDisruptionBudget", "-node")["spec"]["selector"]["matchLabels"]
            gw_pdb = r.one("PodDisruptionBudget", "-gateway")["spec"]["selector"]["matchLabels"]
            self.assertTrue(selects(node_pdb, node_labels) and not selects(node_pdb, gw_labels))
            self.assertTrue(selects(gw_pdb, gw_labels) and not selects(gw_pdb, node_labels))
            headless = r.one("Service", "-node-headless")
            self.assertEqual(headless["spec"]["clusterIP"], "None")
            self.assertTrue(headless["spec"]["publishNotReadyAddresses"])
            self.assertTrue(selects(headless["spec"]["selector"], node_labels))
            self.assertEqual(sts["spec"]["serviceName"], headless["metadata"]["name"])
            self.assertEqual(sts["spec"]["podManagementPolicy"], "Parallel")
            s3 = [s for s in r.of("Service") if s is not headless]
            self.assertEqual(len(s3), 1)
            self.assertTrue(selects(s3[0]["spec"]["selector"], gw_labels))
            self.assertFalse(selects(s3[0]["spec"]["selector"], node_labels))
            # Every label selector of the anti-affinity and spread rules picks the node pods.
            spec = pod_spec(sts)
            for c in spec["topologySpreadConstraints"]:
                self.assertTrue(selects(c["labelSelector"]["matchLabels"], node_labels))

    def test_probes_differ_and_liveness_is_local(self):
        c = container(self.default.one("StatefulSet", "-node"))
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/health")
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/ready")
        self.assertEqual(c["startupProbe"]["httpGet"]["path"], "/health")
        g = container(self.default.one("Deployment", "-gateway"))
        self.assertNotEqual(g["livenessProbe"], g["readinessProbe"])
        self.assertEqual(g["readinessProbe"]["httpGet"]["path"], "/_coffer/health")

    def test_pods_run_unprivileged_on_a_read_only_root(self):
        for r in (self.default, self.multizone):
            for doc in (r.one("StatefulSet", "-node"), r.one("Deployment", "-gateway")):
                pod = pod_spec(doc)["securityContext"]
                self.assertTrue(pod["runAsNonRoot"])
                self.assertNotEqual(pod["runAsUser"], 0)
                sc = container(doc)["securityContext"]
                self.assertTrue(sc["readOnlyRootFilesystem"])
                self.assertFalse(sc["allowPrivilegeEscalation"])
                self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
                self.assertNotIn("add", sc["capabilities"])

    def test_secrets_stay_in_the_secret(self):
        secret = self.default.one("Secret", "-auth")
        values = [base64.b64decode(v).decode() for v in secret["data"].values()]
        self.assertEqual(len(values), 3)
        self.assertGreaterEqual(len(values[0]), 16)
        elsewhere = [d for d in self.default.docs if d["kind"] != "Secret"]
        text = yaml.safe_dump_all(elsewhere) + self.default.notes
        for v in values:
            self.assertNotIn(v, text)
        for doc in (self.default.one("StatefulSet", "-node"), self.default.one("Deployment", "-gateway")):
            env = {e["name"]: e for e in container(doc)["env"]}
            ref = env["COFFER_CLUSTER_SECRET"]["valueFrom"]["secretKeyRef"]
            self.assertEqual(ref["name"], secret["metadata"]["name"])
            self.assertNotIn("value", env["COFFER_CLUSTER_SECRET"])
        self.assertEqual(secret["metadata"]["annotations"]["helm.sh/resource-policy"], "keep")

    def test_generated_secrets_are_kept_across_upgrades(self):
        chart = render.Chart()
        try:
            first = chart.install().one("Secret", "-auth")["data"]
            again = chart.upgrade({"nodes": {"replicas": 5}}).one("Secret", "-auth")["data"]
            self.assertEqual(first, again)
        finally:
            chart.close()
        other = render.render().one("Secret", "-auth")["data"]
        self.assertNotEqual(first, other, "two installs made the same secret")

    def test_an_existing_secret_is_used_as_it_is(self):
        r = render.render({"auth": {"existingSecret": "my-coffer-keys"}})
        self.assertEqual(r.of("Secret"), [])
        env = {e["name"]: e for e in container(r.one("Deployment", "-gateway"))["env"]}
        for name in ("COFFER_CLUSTER_SECRET", "COFFER_ACCESS_KEY_ID", "COFFER_SECRET_ACCESS_KEY"):
            self.assertEqual(env[name]["valueFrom"]["secretKeyRef"]["name"], "my-coffer-keys")

    def test_a_config_change_rolls_the_pods(self):
        def checksums(r):
            return [d["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
                    for d in (r.one("StatefulSet", "-node"), r.one("Deployment", "-gateway"))]
        same = render.render()
        changed = render.render({"config": {"scrub_rate": 16}})
        self.assertEqual(checksums(same), checksums(self.default))
        self.assertNotEqual(checksums(changed)[0], checksums(self.default)[0])
        cm = tomllib.loads(changed.one("ConfigMap", "-config")["data"]["coffer.toml"])
        self.assertEqual(cm["scrub_rate"], 16)
        self.assertIsInstance(cm["scrub_rate"], int)  # coffer refuses 16.0
        every = render.render({"config": {"scrub_interval": 5, "write_quorum": "k", "sse_c_over_http": True,
                                          "trusted_proxies": ["10.0.0.0/8"], "region": 'a"b'}})
        cm = tomllib.loads(every.one("ConfigMap", "-config")["data"]["coffer.toml"])
        self.assertEqual(cm, {"scrub_interval": 5, "write_quorum": "k", "sse_c_over_http": True,
                              "trusted_proxies": ["10.0.0.0/8"], "region": 'a"b', "scrub_rate": 64,
                              "rebalance_rate": 64, "rebalance_duty": 25,
                              "lifecycle_scan_rate": 100000,
                              "access_log_flush_seconds": 300})

    def test_nodes_find_each_other_by_stable_names(self):
        sts = self.default.one("StatefulSet", "-node")
        args = container(sts)["args"]
        arg = lambda flag: next(a.split("=", 1)[1] for a in args if a.startswith(flag + "="))
        self.assertEqual(arg("--node-id"), "auto")
        self.assertEqual(arg("--advertise"),
                         "$(POD_NAME).coffer-node-headless.store.svc.cluster.local:9100")
        join = arg("--join").split(",")
        self.assertEqual(join, ["coffer-node-0.coffer-node-headless.store.svc.cluster.local:9100",
                                "coffer-node-headless.store.svc.cluster.local:9100"])
        env = {e["name"]: e for e in container(sts)["env"]}
        self.assertEqual(env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name")
        pre = container(sts)["lifecycle"]["preStop"]["exec"]["command"]
        self.assertEqual(pre[-2:], ["node", "step-down"])
        gw = container(self.default.one("Deployment", "-gateway"))
        self.assertIn("--cluster=" + ",".join(join), gw["args"])
        self.assertEqual(gw["lifecycle"]["preStop"]["sleep"]["seconds"], 5)

    def test_drives_and_zones(self):
        sts = self.multizone.one("StatefulSet", "-node")
        self.assertEqual(sts["spec"]["replicas"], 6)
        claims = sts["spec"]["volumeClaimTemplates"]
        self.assertEqual([c["metadata"]["name"] for c in claims], ["drive0", "drive1", "drive2"])
        for c in claims:
            self.assertEqual(c["spec"]["resources"]["requests"]["storage"], "500Gi")
            self.assertEqual(c["spec"]["storageClassName"], "fast-ssd")
        c = container(sts)
        self.assertIn("--data=/data/drive0,/data/drive1,/data/drive2", c["args"])
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        for i in range(3):
            self.assertEqual(mounts[f"drive{i}"], f"/data/drive{i}")
        self.assertIn("--zone-from-node-label=topology.kubernetes.io/zone", c["args"])
        env = {e["name"]: e for e in c["env"]}
        self.assertEqual(env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName")
        spec = pod_spec(sts)
        keys = [(t["topologyKey"], t["whenUnsatisfiable"]) for t in spec["topologySpreadConstraints"]]
        self.assertEqual(keys, [("kubernetes.io/hostname", "DoNotSchedule"),
                                ("topology.kubernetes.io/zone", "DoNotSchedule")])
        self.assertIn("requiredDuringSchedulingIgnoredDuringExecution",
                      spec["affinity"]["podAntiAffinity"])
        self.assertEqual(spec["serviceAccountName"], "coffer-node")
        role = self.multizone.one("ClusterRole")
        self.assertEqual(role["rules"], [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}])
        # Without zones: no label lookups, no permissions, no token.
        plain = render.render({"nodes": {"zoneLabel": ""}})
        self.assertEqual(plain.of("ClusterRole"), [])
        self.assertFalse(pod_spec(plain.one("StatefulSet", "-node"))["automountServiceAccountToken"])
        self.assertFalse(any(a.startswith("--zone") for a in container(plain.one("StatefulSet", "-node"))["args"]))

    def test_the_node_pdb_allows_what_the_cluster_survives(self):
        def allowed(values):
            return render.render(values).one("PodDisruptionBudget", "-node")["spec"]["maxUnavailable"]
        self.assertEqual(self.default.one("PodDisruptionBudget", "-node")["spec"]["maxUnavailable"], 1)
        self.assertEqual(allowed({"nodes": {"replicas": 1}}), 0)
        self.assertEqual(allowed({"nodes": {"replicas": 2}}), 0)
        # Five nodes that may have grown from three hold 2+1 objects: one down at a time.
        self.assertEqual(allowed({"nodes": {"replicas": 5}}), 1)
        self.assertEqual(allowed({"nodes": {"replicas": 5, "firstReplicas": 5}}), 2)  # 3+2, five voters
        self.assertEqual(allowed({"nodes": {"replicas": 7, "firstReplicas": 4}}), 2)  # 2+2 and wider
        # Grown from one node of one drive: those objects have no parity at all.
        self.assertEqual(allowed({"nodes": {"replicas": 5, "firstReplicas": 1}}), 0)
        self.assertEqual(allowed({"nodes": {"replicas": 4}}), 1)  # 2+2, but three voters
        self.assertEqual(allowed({"nodes": {"replicas": 3, "drives": {"count": 2}}}), 1)  # 2+1 over nodes
        self.assertEqual(allowed({"nodes": {"replicas": 2, "drives": {"count": 3}}}), 0)
        self.assertEqual(allowed({"nodes": {"replicas": 5, "maxUnavailable": 1}}), 1)
        with self.assertRaises(Exception) as e:
            render.render({"nodes": {"replicas": 3, "maxUnavailable": 2}})
        self.assertIn("maxUnavailable", str(e.exception))
        warned = render.render({"nodes": {"replicas": 1}}).notes
        self.assertIn("WARNING", warned)
        self.assertNotIn("WARNING", self.default.notes)

    def test_gateway_options(self):
        r = self.multizone
        svc = [s for s in r.of("Service") if not s["metadata"]["name"].endswith("-headless")][0]
        self.assertEqual({p["name"]: p["port"] for p in svc["spec"]["ports"]}, {"s3": 9000, "website": 9080})
        dep = r.one("Deployment", "-gateway")
        self.assertNotIn("replicas", dep["spec"])  # the HPA decides
        hpa = r.one("HorizontalPodAutoscaler")
        self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"], dep["metadata"]["name"])
        self.assertEqual((hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]), (3, 12))
        args = container(dep)["args"]
        for a in ("--website-address=0.0.0.0:9080", "--website-domain=example.com", "--domain=s3.example.com"):
            self.assertIn(a, args)
        ing = r.one("Ingress")
        backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        self.assertEqual(backend["name"], svc["metadata"]["name"])
        monitor = r.one("ServiceMonitor")
        self.assertEqual([e["port"] for e in monitor["spec"]["endpoints"]], ["admin", "s3"])
        self.assertEqual(tomllib.loads(r.one("ConfigMap")["data"]["coffer.toml"])["region"], "eu-west-1")
        # The default: two gateways, no website, Ingress, HPA or ServiceMonitor.
        self.assertEqual(self.default.one("Deployment", "-gateway")["spec"]["replicas"], 2)
        for kind in ("Ingress", "HorizontalPodAutoscaler", "ServiceMonitor"):
            self.assertEqual(self.default.of(kind), [])


class Dashboard(unittest.TestCase):
    def test_every_metric_it_plots_is_one_coffer_exports(self):
        import re
        root = os.path.join(HERE, "..", "..", "..")
        dash = json.loads(read(os.path.join(root, "deploy", "grafana", "coffer.json")))
        exported = ""
        for path in ("node/src/http/mod.rs", "gateway/src/traffic.rs", "gateway/src/server.rs"):
            exported += read(os.path.join(root, path))
        names = set()
        for panel in dash["panels"]:
            for t in panel["targets"]:
                names |= set(re.findall(r"coffer_[a-z_]+", t["expr"]))
        self.assertGreater(len(names), 10)
        for name in names:
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            self.assertIn(f'"{base}', exported, f"{name} is plotted but not exported")
        titles = " ".join(p["title"] for p in dash["panels"]).lower()
        for topic in ("throughput", "latency", "error", "leader", "term", "lag", "heal",
                      "rebalance", "capacity"):
            self.assertIn(topic, titles)


if __name__ == "__main__":
    unittest.main(verbosity=2)
