"""A browser uploads to Coffer from another origin. Headless Chromium loads a page served on
one port; the page sends a file to a bucket on the gateway's port twice: through POST Object
(a form that boto3's generate_presigned_post signed) and through a presigned PUT. The bucket's
CORS rules allow the page's origin; a bucket without them must be refused by the browser.
Both objects must arrive byte for byte. Usage: e2e_browser.py ENDPOINT WORKDIR"""
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading

import boto3
from botocore.client import Config

ep, work = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=ep, config=Config(s3={"addressing_style": "path"},
                                                       signature_version="s3v4"))
size = 300_000
data = bytes((i * 31 + 7) & 255 for i in range(size))

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
origin = "http://127.0.0.1:%d" % server.server_address[1]
bucket, closed = "e2e-browser", "e2e-browser-closed"
for b in (bucket, closed):
    s3.create_bucket(Bucket=b)
s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
    "AllowedOrigins": [origin], "AllowedMethods": ["PUT", "POST", "GET"],
    "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 60}]})

post = s3.generate_presigned_post(
    bucket, "form/${filename}", Fields={"success_action_status": "201"},
    Conditions=[{"success_action_status": "201"}, ["content-length-range", 1, 1 << 20]],
    ExpiresIn=300)
closed_post = s3.generate_presigned_post(closed, "x", ExpiresIn=300)
put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "presigned.bin"},
                                    ExpiresIn=300)

page = """<!doctype html><html><body><pre id="out">running</pre><script>
const size = %(size)d;
const bytes = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 255);
const file = new Blob([bytes], {type: "application/octet-stream"});
function form(p) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(p.fields)) fd.append(k, v);
  fd.append("file", file, "upload.bin");
  return fd;
}
async function run() {
  const out = {};
  const r1 = await fetch(%(post_url)s, {method: "POST", body: form(%(post)s)});
  out.post = r1.status;
  out.post_body = await r1.text();
  const r2 = await fetch(%(put_url)s, {method: "PUT", body: file});
  out.put = r2.status;
  out.put_etag = r2.headers.get("ETag");
  try {
    await fetch(%(closed_url)s, {method: "POST", body: form(%(closed)s)});
    out.closed = "readable";
  } catch (e) {
    out.closed = "blocked";
  }
  return out;
}
run().then(o => { document.getElementById("out").textContent = JSON.stringify(o); },
           e => { document.getElementById("out").textContent = "error " + e; });
</script></body></html>
""" % {"size": size, "post_url": json.dumps(post["url"]), "post": json.dumps(post),
       "put_url": json.dumps(put_url), "closed_url": json.dumps(closed_post["url"]),
       "closed": json.dumps(closed_post)}

site = "%s/site" % work
shutil.rmtree(site, ignore_errors=True)
subprocess.run(["mkdir", "-p", site], check=True)
with open("%s/upload.html" % site, "w") as f:
    f.write(page)


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=site, **k)

    def log_message(self, *a):
        pass


server.RequestHandlerClass = Handler
threading.Thread(target=server.serve_forever, daemon=True).start()

chromium = shutil.which("chromium") or shutil.which("chromium-browser")
assert chromium, "chromium is not installed (scripts/install-deps.sh test installs it)"
dom = subprocess.run(
    [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
     "--user-data-dir=%s/chromium-profile" % work, "--virtual-time-budget=30000",
     "--dump-dom", "%s/upload.html" % origin],
    capture_output=True, text=True, timeout=120).stdout
server.shutdown()
m = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S)
assert m, dom[-2000:]
text = m.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
assert text.startswith("{"), text
out = json.loads(text)
assert out["post"] == 201, out
assert "<Key>form/upload.bin</Key>" in out["post_body"], out
assert out["put"] == 200 and out["put_etag"], out
assert out["closed"] == "blocked", out
for key in ("form/upload.bin", "presigned.bin"):
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert got == data, (key, len(got))
for b in (bucket, closed):
    for o in s3.list_objects_v2(Bucket=b).get("Contents", []):
        s3.delete_object(Bucket=b, Key=o["Key"])
    s3.delete_bucket(Bucket=b)
print("browser uploads from %s: POST Object %d, presigned PUT %d, no-CORS bucket %s"
      % (origin, out["post"], out["put"], out["closed"]))
