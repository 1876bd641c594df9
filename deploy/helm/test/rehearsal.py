"""A StatefulSet rehearsal on the Docker engine, for a machine with no Kubernetes: the chart is
rendered by Helm's own engine (render.py), and containers are started from the rendered pod
specs (image, args, env, ports, volumes, security context) with the StatefulSet's host names
and DNS (a network alias per pod, and the headless Service's name shared by every node), and
driven the way the StatefulSet controller and the kubelet would:

  1. three nodes started at once -> they form one cluster (node 0 bootstraps, the rest join);
  2. scaled to five under a continuous S3 load -> both join, the rebalance finishes, every
     object reads back;
  3. a pod deleted (preStop, SIGTERM) and started again on its volume -> the same member;
  4. one node's volume replaced by an empty one -> it rejoins and is healed;
  5. a rolling restart of every node, highest ordinal first, each waited for until ready;
  6. scaled in to four by the chart README's steps (drain, then lower the replicas).

The load generator (boto3 with the aws CLI's retry settings) counts failed requests and wrong
reads throughout: both must stay at zero. The nodes' zones come from their Kubernetes node's
label, served by a stand-in API server over TLS (apiserver.py), as the chart sets it up.

    python3 deploy/helm/test/rehearsal.py [--keep] [--report FILE]
        (needs the coffer:local image: deploy/docker/build-image.sh)
"""

import argparse
import base64
import concurrent.futures
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402  (re-executes this script with HELM_DRIVER=memory)
from apiserver import ApiServer  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

NS = "store"
ZONES = ["zone-a", "zone-b", "zone-c"]
VALUES = {
    "image": {"repository": "coffer", "tag": "local"},
    # One drive per node, the chart's default: shrinking five nodes to four leaves 3+2 blobs
    # with two shards on one drive.
    "nodes": {"replicas": 3, "drives": {"count": 1, "size": "1Gi"},
              "terminationGracePeriodSeconds": 30},
    "gateways": {"replicas": 1, "drainSeconds": 1},
    # The chart's defaults for scrubbing (a pass at start, which is what heals a node) and
    # rebalancing; the move's pace can be changed with --rebalance-rate and --rebalance-duty.
    "config": {"rebalance_rate": 64, "rebalance_duty": 25},
}
# The load's requests per second: about a third of what three nodes answer on two cores, so the
# latency it sees is the cluster's and not that of a queue the load itself built.
LOAD_RATE = 40.0


def sh(*args, check=True, capture=True):
    out = subprocess.run(args, capture_output=capture, text=True)
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {out.stderr.strip()[-800:]}")
    return out.stdout


class Rehearsal:
    def __init__(self, keep):
        self.keep = keep
        self.tag = f"rh{os.getpid()}"
        self.dir = tempfile.mkdtemp(prefix="coffer-rehearsal-")
        self.network = f"{self.tag}-net"
        self.figures = {}
        self.passed = 0
        self.failed = 0
        self.containers = set()

    # ---- the Kubernetes side -------------------------------------------------------------

    def setup(self):
        self.chart = render.Chart(namespace=NS)
        self.manifests = self.chart.install(VALUES)
        self.sts = self.manifests.one("StatefulSet", "-node")
        self.dep = self.manifests.one("Deployment", "-gateway")
        secret = self.manifests.one("Secret", "-auth")
        self.secret = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
        config = self.manifests.one("ConfigMap", "-config")
        self.config_dir = os.path.join(self.dir, "config")
        os.makedirs(self.config_dir)
        for name, text in config["data"].items():
            with open(os.path.join(self.config_dir, name), "w") as f:
                f.write(text)
        sh("docker", "network", "create", self.network)
        gateway_ip = json.loads(sh("docker", "network", "inspect", self.network))[0][
            "IPAM"]["Config"][0]["Gateway"]
        # The API server the pods reach, with the cluster's CA and a service account token.
        account = os.path.join(self.dir, "serviceaccount")
        os.makedirs(account)
        ca, key = os.path.join(self.dir, "ca.pem"), os.path.join(self.dir, "ca.key")
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
           "-subj", "/CN=rehearsal-ca", "-keyout", key, "-out", ca)
        skey, csr, cert = (os.path.join(self.dir, n) for n in ("api.key", "api.csr", "api.pem"))
        sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver",
           "-keyout", skey, "-out", csr)
        ext = os.path.join(self.dir, "ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:kubernetes.default.svc\n")
        sh("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", key, "-CAcreateserial",
           "-days", "2", "-extfile", ext, "-out", cert)
        shutil.copy(ca, os.path.join(account, "ca.crt"))
        with open(os.path.join(account, "token"), "w") as f:
            f.write("rehearsal-token")
        for d in (self.dir, account, self.config_dir):
            os.chmod(d, 0o755)
        for p in (os.path.join(account, "ca.crt"), os.path.join(account, "token")):
            os.chmod(p, 0o644)
        self.account = account
        self.api = ApiServer(host=gateway_ip, tls=(cert, skey))
        for host in range(8):
            self.api.put("nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {
                "name": f"host-{host}",
                "labels": {"kubernetes.io/hostname": f"host-{host}",
                           "topology.kubernetes.io/zone": ZONES[host % len(ZONES)]}}})
        self.api_host, self.api_port = gateway_ip, self.api.port

    def headless(self):
        return f"{self.sts['spec']['serviceName']}.{NS}.svc.cluster.local"

    def pod_env(self, spec, pod, node_name):
        env = {}
        for e in spec["containers"][0].get("env", []):
            if "value" in e:
                env[e["name"]] = expand(e["value"], env)
                continue
            src = e["valueFrom"]
            if "fieldRef" in src:
                path = src["fieldRef"]["fieldPath"]
                env[e["name"]] = {"metadata.name": pod, "metadata.namespace": NS,
                                  "spec.nodeName": node_name}[path]
            elif "secretKeyRef" in src:
                env[e["name"]] = self.secret[src["secretKeyRef"]["key"]]
        env["KUBERNETES_SERVICE_HOST"] = self.api_host
        env["KUBERNETES_SERVICE_PORT"] = str(self.api_port)
        return env

    def run_pod(self, template, pod, aliases, node_name, claims, publish=()):
        """docker run a pod of `template` (a Deployment's or StatefulSet's) named `pod`."""
        spec = template["spec"]["template"]["spec"]
        [c] = spec["containers"]
        env = self.pod_env(spec, pod, node_name)
        args = [expand(a, env) for a in c["args"]]
        sec, psec = c["securityContext"], spec["securityContext"]
        cmd = ["docker", "run", "-d", "--name", f"{self.tag}-{pod}", "--hostname", pod,
               "--network", self.network, "--user", f"{psec['runAsUser']}:{psec['runAsGroup']}",
               "--stop-timeout", str(spec["terminationGracePeriodSeconds"])]
        for a in aliases:
            cmd += ["--network-alias", a]
        if sec.get("readOnlyRootFilesystem"):
            cmd.append("--read-only")
        if "ALL" in sec.get("capabilities", {}).get("drop", []):
            cmd += ["--cap-drop", "ALL"]
        if sec.get("allowPrivilegeEscalation") is False:
            cmd += ["--security-opt", "no-new-privileges"]
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for m in c.get("volumeMounts", []):
            v = volumes.get(m["name"])
            if v is None:  # a volumeClaimTemplate: the pod's claim, a folder here
                vol = self.claim(claims[m["name"]], psec["fsGroup"])
                cmd += ["--mount", f"type=bind,src={vol},dst={m['mountPath']}"]
            elif "configMap" in v:
                cmd += ["--mount", f"type=bind,src={self.config_dir},dst={m['mountPath']},readonly"]
            elif "emptyDir" in v:
                cmd += ["--mount", f"type=tmpfs,dst={m['mountPath']},tmpfs-mode=1777"]
        if spec.get("serviceAccountName"):
            cmd += ["--mount", f"type=bind,src={self.account},"
                               "dst=/var/run/secrets/kubernetes.io/serviceaccount,readonly"]
        for host_port, port in publish:
            cmd += ["-p", f"127.0.0.1:{host_port}:{port}"]
        for k, v in env.items():
            cmd += ["-e", f"{k}={v}"]
        cmd += [c["image"], *args]
        sh(*cmd)
        self.containers.add(f"{self.tag}-{pod}")

    def claim(self, name, group):
        """A claim's volume: a folder, given to the pod's fsGroup as the kubelet does."""
        path = os.path.join(self.dir, "claims", name)
        if not os.path.isdir(path):
            os.makedirs(path)
            os.chown(path, group, group)
            os.chmod(path, 0o770)
        return path

    def shard_files(self, i, generation=0):
        """Shard files on node i's drives (its claims' folders)."""
        total = 0
        for name in self.claims(i, generation).values():
            for _, _, files in os.walk(os.path.join(self.dir, "claims", name, "shards")):
                total += len(files)
        return total

    def delete_claim(self, name):
        shutil.rmtree(os.path.join(self.dir, "claims", name))

    # ---- the StatefulSet controller ------------------------------------------------------

    def node_pod(self, i):
        return f"{self.sts['metadata']['name']}-{i}"

    def claims(self, i, generation=0):
        pod = self.node_pod(i)
        suffix = f"-g{generation}" if generation else ""
        return {t["metadata"]["name"]: f"{self.tag}-{t['metadata']['name']}-{pod}{suffix}"
                for t in self.sts["spec"]["volumeClaimTemplates"]}

    def start_node(self, i, generation=0):
        pod = self.node_pod(i)
        self.run_pod(self.sts, pod, [f"{pod}.{self.headless()}", self.headless()],
                     f"host-{i}", self.claims(i, generation))

    def delete_node_pod(self, i):
        """What deleting a pod does: preStop, SIGTERM, the grace period, then removal."""
        name = f"{self.tag}-{self.node_pod(i)}"
        pre = self.sts["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"]
        subprocess.run(["docker", "exec", name, *pre["exec"]["command"]], capture_output=True)
        sh("docker", "stop", name)
        sh("docker", "rm", "-v", name)
        self.containers.discard(name)

    def ip(self, pod):
        info = json.loads(sh("docker", "inspect", f"{self.tag}-{pod}"))[0]
        return info["NetworkSettings"]["Networks"][self.network]["IPAddress"]

    def ready(self, i):
        try:
            with urllib.request.urlopen(f"http://{self.ip(self.node_pod(i))}:9200/ready",
                                        timeout=2) as r:
                return r.status == 200
        except Exception:
            return False

    def wait_ready(self, nodes, limit=120):
        deadline = time.time() + limit
        while time.time() < deadline:
            if all(self.ready(i) for i in nodes):
                return True
            time.sleep(0.5)
        return False

    def metric(self, i, name):
        """A counter or gauge of node i's /metrics (None while it does not answer)."""
        try:
            with urllib.request.urlopen(f"http://{self.ip(self.node_pod(i))}:9200/metrics",
                                        timeout=2) as r:
                for line in r.read().decode().splitlines():
                    if line.startswith(name + " "):
                        return float(line.split()[1])
        except Exception:
            return None
        return None

    def admin(self, i, *args):
        out = sh("docker", "exec", f"{self.tag}-{self.node_pod(i)}", "/usr/local/bin/coffer",
                 "admin", "--json", *args)
        return json.loads(out)

    def start_gateway(self):
        self.s3_port = free_port()
        pod = f"{self.dep['metadata']['name']}-0"
        self.run_pod(self.dep, pod, [], "host-0", {}, publish=[(self.s3_port, 9000)])
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"

    # ---- checks --------------------------------------------------------------------------

    def check(self, name, fn):
        try:
            detail = fn()
            print(f"ok   {name}" + (f": {detail}" if detail else ""), flush=True)
            self.passed += 1
            return True
        except Exception as e:  # noqa: BLE001  (any failure is reported and counted)
            print(f"FAIL {name}: {e}", flush=True)
            for c in sorted(self.containers):
                log = subprocess.run(["docker", "logs", "--tail", "15", c], capture_output=True,
                                     text=True)
                lines = (log.stdout + log.stderr).strip().splitlines()[-15:]
                print(f"     -- {c}\n" + "\n".join("     | " + l[:220] for l in lines))
            self.failed += 1
            return False

    def cleanup(self):
        if self.keep:
            print(f"kept: containers {sorted(self.containers)}, network {self.network}")
            return
        for c in self.containers:
            subprocess.run(["docker", "rm", "-f", "-v", c], capture_output=True)
        subprocess.run(["docker", "network", "rm", self.network], capture_output=True)
        if hasattr(self, "api"):
            self.api.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def container_log(r, i):
    out = subprocess.run(["docker", "logs", f"{r.tag}-{r.node_pod(i)}"], capture_output=True,
                         text=True)
    return out.stdout + out.stderr


def expand(s, env):
    """Kubernetes' $(VAR) expansion of args and env values."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), s)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Load:
    """Clients PUTting and GETting objects through the gateway, as the aws CLI retries (three
    attempts): every request that still fails is counted, and every read is checked.

    With a rate, the load is open: requests are due on a fixed schedule (rate per second in all,
    spread over the workers) whatever the cluster does, and a request's latency counts from when
    it was due, so time spent waiting behind a slow request is counted too. Without one, every
    worker sends its next request as soon as the last one is answered (a closed, saturating
    load, whose latency mostly measures how busy the cores are)."""

    def __init__(self, endpoint, key, secret, workers=8, rate=None):
        self.s3 = boto3.client(
            "s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"},
                          retries={"mode": "standard", "max_attempts": 3},
                          connect_timeout=5, read_timeout=30, max_pool_connections=16))
        self.acked = {}
        self.lock = threading.Lock()
        self.failures = []
        self.wrong = []
        self.samples = []  # (time, seconds, op)
        self.stop = threading.Event()
        self.workers = workers
        self.rate = rate
        self.n = 0

    def start(self, bucket):
        self.bucket = bucket
        self.threads = [threading.Thread(target=self.run, args=(w,), daemon=True)
                        for w in range(self.workers)]
        for t in self.threads:
            t.start()

    def run(self, w):
        rng = random.Random(w)
        every = self.workers / self.rate if self.rate else 0
        due = time.time() + w * every / self.workers
        while not self.stop.is_set():
            if every:
                wait = due - time.time()
                if wait > 0:
                    time.sleep(wait)
                t_due = due
                due += every
            with self.lock:
                self.n += 1
                n = self.n
            if n % 3 or not self.acked:
                size = rng.choice([4096, 200_000, 1 << 20])
                key = f"load/{w}/{n:06}"
                body = rng.randbytes(size)
                t0 = t_due if every else time.time()
                try:
                    self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
                    with self.lock:
                        self.acked[key] = hashlib.sha256(body).hexdigest()
                        self.samples.append((t0, time.time() - t0, "put"))
                except Exception as e:  # noqa: BLE001
                    self.failures.append((time.time(), "PUT", key, str(e)[:200]))
            else:
                with self.lock:
                    key = rng.choice(list(self.acked))
                    want = self.acked[key]
                t0 = t_due if every else time.time()
                try:
                    got = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                    with self.lock:
                        self.samples.append((t0, time.time() - t0, "get"))
                    if hashlib.sha256(got).hexdigest() != want:
                        self.wrong.append(key)
                except Exception as e:  # noqa: BLE001
                    self.failures.append((time.time(), "GET", key, str(e)[:200]))

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()

    def count(self, start, end):
        return sum(1 for t, _, _ in self.samples if start <= t < end)

    def p99(self, start, end, op=None):
        lat = sorted(s for t, s, o in self.samples if start <= t < end and op in (None, o))
        if not lat:
            return None
        return lat[min(len(lat) - 1, int(len(lat) * 0.99))]

    def verify(self):
        bad = []

        def one(item):
            key, want = item
            got = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            if hashlib.sha256(got).hexdigest() != want:
                bad.append(key)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(one, list(self.acked.items())))
        return bad


class Cpu:
    """The machine's busy share of its cores, sampled every half second from /proc/stat, to
    tell a slowdown for want of CPU from one that waits on something else."""

    def __init__(self):
        self.samples = []  # (time, busy share since the last sample)
        self.stop = threading.Event()
        threading.Thread(target=self.run, daemon=True).start()

    @staticmethod
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + v[4]
        return sum(v) - idle, sum(v)

    def run(self):
        busy0, all0 = self.read()
        while not self.stop.wait(0.5):
            busy, total = self.read()
            if total > all0:
                self.samples.append((time.time(), (busy - busy0) / (total - all0)))
            busy0, all0 = busy, total

    def busy(self, start, end):
        s = [b for t, b in self.samples if start <= t < end]
        return round(100 * sum(s) / len(s)) if s else None


CPU = None
SAMPLES = None


def main():
    global LOAD_RATE, CPU, SAMPLES
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", action="store_true", help="leave the containers running")
    ap.add_argument("--report", help="write the figures as JSON here")
    ap.add_argument("--rebalance-rate", type=int, default=VALUES["config"]["rebalance_rate"],
                    help="the chart's config.rebalance_rate, MiB/s per node (0: unlimited)")
    ap.add_argument("--rebalance-duty", type=int, default=VALUES["config"]["rebalance_duty"],
                    help="the chart's config.rebalance_duty, percent of the time (1-100)")
    ap.add_argument("--load-rate", type=float, default=LOAD_RATE,
                    help="requests per second the load sends on a fixed schedule (0: as fast as "
                         "answers come, a saturating load)")
    ap.add_argument("--samples", help="write every request's (due time, seconds, op), the "
                    "machine's CPU samples and the scale-out's moments here, as JSON")
    opts = ap.parse_args()
    LOAD_RATE = opts.load_rate
    SAMPLES = opts.samples
    CPU = Cpu()
    VALUES["config"]["rebalance_rate"] = opts.rebalance_rate
    VALUES["config"]["rebalance_duty"] = opts.rebalance_duty
    r = Rehearsal(opts.keep)
    try:
        rehearse(r)
    finally:
        r.cleanup()
    if opts.report:
        with open(opts.report, "w") as f:
            json.dump(r.figures, f, indent=2)
    print(f"rehearsal: {r.passed} passed, {r.failed} failed")
    print(json.dumps(r.figures, indent=2))
    sys.exit(1 if r.failed else 0)


def rehearse(r):
    r.setup()
    key, secret = r.secret["access-key-id"], r.secret["secret-access-key"]

    # 1. Three pods at once.
    t0 = time.time()
    for i in range(3):
        r.start_node(i)

    def formed():
        assert r.wait_ready([0, 1, 2]), "not every node became ready"
        s = r.admin(0, "cluster", "status")
        roles = sorted((n["id"], n["role"], n["zone"]) for n in s["nodes"])
        assert roles == [(0, "voter", "zone-a"), (1, "voter", "zone-b"), (2, "voter", "zone-c")], roles
        assert all(r.admin(i, "cluster", "status")["leader"] == s["leader"] for i in (1, 2))
        r.figures["formed_seconds"] = round(time.time() - t0, 1)
        return f"one cluster of 3 voters in {r.figures['formed_seconds']} s, zones from the API"
    if not r.check("three pods started at once form one cluster", formed):
        return
    r.start_gateway()
    s3 = boto3.client("s3", endpoint_url=r.endpoint, aws_access_key_id=key,
                      aws_secret_access_key=secret, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    deadline = time.time() + 60
    while True:
        try:
            s3.create_bucket(Bucket="rehearsal")
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    # A body of data for the rebalance to move.
    base = {}
    for n in range(40):
        body = random.randbytes(2 << 20)
        s3.put_object(Bucket="rehearsal", Key=f"base/{n:03}", Body=body)
        base[f"base/{n:03}"] = hashlib.sha256(body).hexdigest()
    load = Load(r.endpoint, key, secret, rate=LOAD_RATE or None)
    load.start("rehearsal")
    time.sleep(20)
    quiet = (time.time() - 20, time.time())

    # 2. Scale out to five.
    moved_before = r.admin(0, "rebalance", "status")["bytes_moved"]
    t_scale = time.time()
    for i in (3, 4):
        r.start_node(i)

    def scaled():
        assert r.wait_ready(range(5), 180), "the new nodes did not become ready"
        joined = time.time() - t_scale
        t_move = time.time()
        deadline = time.time() + 300
        while True:
            st = r.admin(0, "rebalance", "status")
            per = {p["id"]: p for p in st["per_node"]}
            done = (st["nodes_answered"] == 5 and st["misplaced"] == 0
                    and all(p["passes"] > 0 and p["balanced_over"] == 5 for p in per.values()))
            if done:
                break
            assert time.time() < deadline, f"rebalance not done: {st}"
            time.sleep(1)
        took = time.time() - t_scale
        t_done = time.time()
        moved = st["bytes_moved"] - moved_before
        # The same load on the five balanced nodes, with nothing moving: how much of the
        # slowdown is the move's, and how much that of five nodes on the same cores.
        time.sleep(20)
        s = r.admin(0, "cluster", "status")
        roles = sorted(n["role"] for n in s["nodes"])
        assert roles == ["voter"] * 5, roles
        r.figures.update({
            "scale_out_join_seconds": round(joined, 1),
            "scale_out_rebalanced_seconds": round(took, 1),
            "rebalance_moved_mib": round(moved / 2**20, 1),
            "rebalance_mib_per_s_per_new_node": round(moved / 2**20 / took / 2, 1),
            "load_p99_before_ms": round(1000 * (load.p99(*quiet) or 0), 1),
            "load_p99_while_joining_ms": round(1000 * (load.p99(t_scale, t_move) or 0), 1),
            "load_p99_during_move_ms": round(1000 * (load.p99(t_move, t_done) or 0), 1),
            "load_p99_during_move_get_ms": round(1000 * (load.p99(t_move, t_done, "get") or 0), 1),
            "load_p99_during_move_put_ms": round(1000 * (load.p99(t_move, t_done, "put") or 0), 1),
            "load_p99_before_get_ms": round(1000 * (load.p99(*quiet, "get") or 0), 1),
            "load_p99_before_put_ms": round(1000 * (load.p99(*quiet, "put") or 0), 1),
            "load_p99_scale_out_ms": round(1000 * (load.p99(t_scale, t_done) or 0), 1),
            "load_p99_after_ms": round(1000 * (load.p99(t_done, time.time()) or 0), 1),
            "load_requests_per_s_before": round(load.count(*quiet) / (quiet[1] - quiet[0])),
            "load_requests_per_s_scale_out": round(load.count(t_scale, t_done) / took),
            "load_requests_per_s_after": round(load.count(t_done, time.time()) / (time.time() - t_done)),
            "rebalance_rate_mib_per_s": VALUES["config"]["rebalance_rate"],
            "rebalance_duty_percent": VALUES["config"]["rebalance_duty"],
            "load_rate_per_s": LOAD_RATE or "saturating",
            "cpu_busy_percent_before": CPU.busy(*quiet),
            "cpu_busy_percent_during_move": CPU.busy(t_move, t_done),
            "cpu_busy_percent_after": CPU.busy(t_done, time.time()),
        })
        if SAMPLES:
            with open(SAMPLES, "w") as f:
                json.dump({"quiet": quiet, "scale": t_scale, "move": t_move, "done": t_done,
                           "requests": load.samples, "cpu": CPU.samples}, f)
        return (f"joined in {joined:.1f} s, balanced in {took:.1f} s, {moved / 2**20:.1f} MiB "
                f"moved; load p99 {r.figures['load_p99_before_ms']} ms before, "
                f"{r.figures['load_p99_while_joining_ms']} ms while they joined, "
                f"{r.figures['load_p99_during_move_ms']} ms during the move "
                f"({r.figures['load_p99_scale_out_ms']} ms from the scale-out to the end), "
                f"{r.figures['load_p99_after_ms']} ms after it on five nodes")
    r.check("scaled to five under load: both join and the rebalance finishes", scaled)

    def base_reads():
        for k, h in base.items():
            got = s3.get_object(Bucket="rehearsal", Key=k)["Body"].read()
            assert hashlib.sha256(got).hexdigest() == h, k
        return f"{len(base)} objects"
    r.check("every object reads back after the rebalance", base_reads)

    # 3. A pod deleted and started again on its volume.
    def same_member():
        before = {n["id"]: n["rpc_addr"] for n in r.admin(0, "cluster", "status")["nodes"]}
        r.delete_node_pod(2)
        r.start_node(2)
        assert r.wait_ready(range(5)), "node 2 did not come back"
        after = {n["id"]: n["rpc_addr"] for n in r.admin(0, "cluster", "status")["nodes"]}
        assert after == before, (before, after)
        log = container_log(r, 2)
        assert "joined the cluster" not in log and "bootstrapping a new cluster" not in log, "it rejoined"
        return f"node 2 back as {after[2]}"
    r.check("a deleted pod comes back as the same member", same_member)

    # 4. A node's volumes replaced by empty ones.
    def healed():
        t = time.time()
        before = r.shard_files(1)
        r.delete_node_pod(1)
        r.start_node(1, generation=1)
        assert r.wait_ready(range(5), 300), "node 1 did not come back and heal"
        log = container_log(r, 1)
        assert "joined the cluster" in log and "bootstrapping a new cluster" not in log, (
            "it did not rejoin:\n" + "\n".join(l for l in log.splitlines() if "openraft" not in l)[-3000:])
        # Ready only once healed: a whole scrub pass of the new process (which rebuilds every
        # shard the node lacks) ended with nothing it could not rebuild. Until then an object
        # with a shard here survives one node fewer down, and the rolling restart that follows
        # must not begin (the StatefulSet controller waits for readiness).
        assert r.metric(1, "coffer_node_healing") == 0, "node 1 ready while healing"
        assert (r.metric(1, "coffer_heal_scrub_passes_total") or 0) >= 1, "ready before a scrub pass"
        repaired = r.metric(1, "coffer_heal_shards_repaired_total")
        now = r.shard_files(1, generation=1)
        assert now >= before, f"node 1 holds {now} of {before} shard files"
        r.figures["heal_seconds"] = round(time.time() - t, 1)
        return (f"{int(repaired)} shards rebuilt in {r.figures['heal_seconds']} s; node 1 holds "
                f"{now} shard files (it had {before})")
    r.check("a node whose volumes were replaced rejoins and is healed", healed)

    # 5. Rolling restart, highest ordinal first, as the StatefulSet controller does.
    def rolled():
        t = time.time()
        for i in reversed(range(5)):
            r.delete_node_pod(i)
            r.start_node(i, generation=1 if i == 1 else 0)
            assert r.wait_ready(range(5), 180), f"node {i} not ready after its restart"
        r.figures["rolling_restart_5_nodes_seconds"] = round(time.time() - t, 1)
        s = r.admin(0, "cluster", "status")
        assert sorted(n["id"] for n in s["nodes"]) == [0, 1, 2, 3, 4]
        return f"{r.figures['rolling_restart_5_nodes_seconds']} s"
    r.check("rolling restart of all five nodes under load", rolled)

    # 6. Scale in to four: drain node 4, then lower the replicas (its claim is deleted).
    def scaled_in():
        t = time.time()
        out = subprocess.run(["docker", "exec", f"{r.tag}-{r.node_pod(0)}", "/usr/local/bin/coffer",
                              "admin", "node", "remove", "4", "--wait"],
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0 and "has left the cluster" in out.stdout, out.stdout + out.stderr
        r.delete_node_pod(4)
        for vol in r.claims(4).values():
            r.delete_claim(vol)
        s = r.admin(0, "cluster", "status")
        assert sorted(n["id"] for n in s["nodes"]) == [0, 1, 2, 3], s
        r.figures["scale_in_seconds"] = round(time.time() - t, 1)
        return f"node 4 drained and removed in {r.figures['scale_in_seconds']} s"
    r.check("scaled in to four by the documented steps", scaled_in)

    time.sleep(3)
    load.finish()

    def clean_load():
        r.figures.update({"load_requests": len(load.samples) + len(load.failures),
                          "load_failed": len(load.failures), "load_wrong": len(load.wrong),
                          "load_acked_puts": len(load.acked)})
        assert not load.wrong, load.wrong[:5]
        if load.failures:
            # What the gateway said about it.
            log = subprocess.run(["docker", "logs", "-t", f"{r.tag}-{r.dep['metadata']['name']}-0"],
                                 capture_output=True, text=True)
            lines = [l for l in (log.stdout + log.stderr).splitlines() if "WARN" in l or "ERROR" in l]
            for when, *_ in load.failures[:3]:
                stamp = time.strftime("%H:%M:%S", time.gmtime(when))
                print(f"     gateway around {stamp}:")
                for l in lines:
                    if stamp[:7] in l[:40]:
                        print("     | " + l[:300])
        assert not load.failures, load.failures[:5]
        bad = load.verify()
        assert not bad, bad[:5]
        return (f"{len(load.samples)} requests, 0 failed, 0 wrong; all {len(load.acked)} "
                "acknowledged objects read back")
    r.check("the load saw no failed request and no wrong read", clean_load)
    r.check("every base object still reads back", base_reads)


if __name__ == "__main__":
    main()
