"""A stand-in for the Kubernetes API, just enough for Helm's own engine (helm-sdkpy) to install
and upgrade the chart here, where no Kubernetes runs: discovery, and create/get/list/patch/
delete of the kinds the chart makes, kept in memory. Objects Helm creates come back to its
`lookup` calls, so `helm upgrade` sees what `helm install` made (the generated Secret).
Nothing is validated here: kubernetes-validate does that on the rendered manifests."""

import datetime
import http.server
import json
import re
import threading
import urllib.parse
import uuid

RESOURCES = {
    ("", "v1"): [
        ("configmaps", "ConfigMap", True), ("secrets", "Secret", True),
        ("services", "Service", True), ("serviceaccounts", "ServiceAccount", True),
        ("persistentvolumeclaims", "PersistentVolumeClaim", True), ("pods", "Pod", True),
        ("namespaces", "Namespace", False), ("nodes", "Node", False),
    ],
    ("apps", "v1"): [("statefulsets", "StatefulSet", True), ("deployments", "Deployment", True)],
    ("policy", "v1"): [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    ("autoscaling", "v2"): [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)],
    ("networking.k8s.io", "v1"): [("ingresses", "Ingress", True)],
    ("rbac.authorization.k8s.io", "v1"): [
        ("clusterroles", "ClusterRole", False), ("clusterrolebindings", "ClusterRoleBinding", False),
        ("roles", "Role", True), ("rolebindings", "RoleBinding", True),
    ],
    ("monitoring.coreos.com", "v1"): [("servicemonitors", "ServiceMonitor", True)],
}

OBJECT = re.compile(
    r"/(?:api/(v1)|apis/([^/]+)/([^/]+))(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+))?")


def merge(into, patch):
    """A JSON merge patch (strategic merge patches of what Helm sends are the same here)."""
    for k, v in patch.items():
        if v is None:
            into.pop(k, None)
        elif isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = v


class ApiServer:
    """Serves on 127.0.0.1 (or `host`), over TLS when given `tls` = (certificate file, key
    file), as the real one does for pods."""

    def __init__(self, host="127.0.0.1", tls=None):
        self.objects = {}  # (group, version, resource, namespace) -> {name: object}
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def answer(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server.lock:
                    code, out = server.serve(self.command, self.path, body)
                self.answer(code, out)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.port = self.httpd.server_address[1]
        scheme = "http"
        if tls:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://{host}:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()

    def kubeconfig(self, path, namespace):
        with open(path, "w") as f:
            json.dump({
                "apiVersion": "v1", "kind": "Config", "current-context": "here",
                "clusters": [{"name": "here", "cluster": {"server": self.url}}],
                "users": [{"name": "here", "user": {"token": "none"}}],
                "contexts": [{"name": "here", "context": {
                    "cluster": "here", "user": "here", "namespace": namespace}}],
            }, f)

    def put(self, resource, obj, group="", version="v1", namespace=None):
        """Store an object as if it had been created (e.g. the cluster's Nodes)."""
        with self.lock:
            self.objects.setdefault((group, version, resource, namespace), {})[
                obj["metadata"]["name"]] = obj

    def get(self, kind, namespace, name):
        for (g, v), kinds in RESOURCES.items():
            for resource, k, _ in kinds:
                if k == kind:
                    ns = namespace if _ else None
                    return self.objects.get((g, v, resource, ns), {}).get(name)
        return None

    def serve(self, method, path, body):
        url = urllib.parse.urlparse(path)
        p = url.path.rstrip("/")
        query = urllib.parse.parse_qs(url.query)
        if p == "/version":
            return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0",
                         "platform": "linux/amd64"}
        if p == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": []}
        if p == "/apis":
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v}],
                 "preferredVersion": {"groupVersion": f"{g}/{v}", "version": v}}
                for (g, v) in RESOURCES if g]}
        m = re.fullmatch(r"/api/(v1)|/apis/([^/]+)/([^/]+)", p)
        if m:
            gv = ("", "v1") if m.group(1) else (m.group(2), m.group(3))
            if gv not in RESOURCES:
                return 404, not_found(p)
            return 200, {"kind": "APIResourceList", "apiVersion": "v1",
                         "groupVersion": "/".join(x for x in gv if x),
                         "resources": [{"name": r, "singularName": k.lower(), "namespaced": ns,
                                        "kind": k, "verbs": ["create", "delete", "get", "list",
                                                             "patch", "update", "watch"]}
                                       for (r, k, ns) in RESOURCES[gv]]}
        m = OBJECT.fullmatch(p)
        if not m:
            return 404, not_found(p)
        g, v = ("", "v1") if m.group(1) else (m.group(2), m.group(3))
        namespace, resource, name = m.group(4), m.group(5), m.group(6)
        kinds = {r: k for (r, k, _) in RESOURCES.get((g, v), [])}
        if resource not in kinds:
            return 404, not_found(p)
        objects = self.objects.setdefault((g, v, resource, namespace), {})
        if method == "GET" and name is None:
            items = list(objects.values())
            for term in filter(None, query.get("labelSelector", [""])[0].split(",")):
                k, _, want = term.partition("=")
                items = [o for o in items if o["metadata"].get("labels", {}).get(k) == want]
            return 200, {"kind": kinds[resource] + "List", "apiVersion": "/".join(x for x in (g, v) if x),
                         "metadata": {"resourceVersion": "1"}, "items": items}
        if method == "GET":
            return (200, objects[name]) if name in objects else (404, not_found(name))
        if method in ("POST", "PUT"):
            obj = json.loads(body)
            meta = obj.setdefault("metadata", {})
            if method == "POST" and meta["name"] in objects:
                return 409, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                             "reason": "AlreadyExists", "code": 409}
            if namespace:
                meta["namespace"] = namespace
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp",
                            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
            meta["resourceVersion"] = str(uuid.uuid4().int % 10**9)
            objects[meta["name"]] = obj
            return (201 if method == "POST" else 200), obj
        if method == "PATCH":
            if name not in objects:
                return 404, not_found(name)
            merge(objects[name], json.loads(body))
            return 200, objects[name]
        if method == "DELETE":
            objects.pop(name, None)
            return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}
        return 405, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 405}


def not_found(what):
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
            "code": 404, "message": f"{what} not found"}
