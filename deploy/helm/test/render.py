"""Install and upgrade the chart with Helm's own engine (the Helm library that PyPI's
helm-sdkpy ships) against the in-memory API of apiserver.py, and hand back the manifests Helm
rendered, parsed. Helm keeps its releases in memory (HELM_DRIVER=memory), so one Chart can be
installed, then upgraded."""

import asyncio
import os
import sys
import tempfile

import yaml

# The Helm library reads the environment the process started with, not later changes.
if os.environ.get("HELM_DRIVER") != "memory":
    os.environ["HELM_DRIVER"] = "memory"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import helm_sdkpy  # noqa: E402

from apiserver import ApiServer  # noqa: E402

CHART = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "coffer")
NAMESPACE = "store"


class Chart:
    """One fake cluster with the chart installed in it as release `release`."""

    def __init__(self, release="coffer", namespace=NAMESPACE):
        self.api = ApiServer()
        self.dir = tempfile.mkdtemp()
        kubeconfig = os.path.join(self.dir, "kubeconfig")
        self.api.kubeconfig(kubeconfig, namespace)
        self.config = helm_sdkpy.Configuration(namespace=namespace, kubeconfig=kubeconfig)
        self.release = release
        self.namespace = namespace

    def install(self, values=None):
        return self._run(helm_sdkpy.Install, values)

    def upgrade(self, values=None):
        return self._run(helm_sdkpy.Upgrade, values)

    def _run(self, action, values):
        result = asyncio.run(action(self.config).run(
            self.release, CHART, values=values or {}, wait=False, timeout=30))
        return Rendered(result["manifest"], result.get("info", {}).get("notes", ""))

    def close(self):
        self.api.close()


class Rendered:
    def __init__(self, manifest, notes):
        self.text = manifest
        self.notes = notes
        self.docs = [d for d in yaml.safe_load_all(manifest) if d]

    def of(self, kind, name=None):
        found = [d for d in self.docs
                 if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
        return found

    def one(self, kind, suffix=""):
        found = [d for d in self.of(kind) if d["metadata"]["name"].endswith(suffix)]
        assert len(found) == 1, f"{len(found)} {kind} named *{suffix}"
        return found[0]


def lint():
    """Helm's lint of the chart (it renders every template with the default values)."""
    return asyncio.run(helm_sdkpy.Lint(helm_sdkpy.Configuration()).run(CHART))


def render(values=None, release="coffer"):
    chart = Chart(release)
    try:
        return chart.install(values)
    finally:
        chart.close()
