"""A real browser opens a site served by Coffer's website endpoint. The site (pages in folders,
relative links, a stylesheet, an image, a custom 404 page, a routing rule) is uploaded with the
aws CLI's `s3 sync`, made a website with `aws s3 website` and public with the AWS docs'
public-read policy; headless Chromium, its resolver pointing the site's host names at the
website endpoint, then loads pages and the test checks what it rendered (the DOM after the
page's own checks ran) and keeps a screenshot.

Usage: e2e_website_browser.py S3_ENDPOINT WEBSITE_PORT WEBSITE_DOMAIN WORKDIR ARTIFACTS"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

ep, web_port, domain, work, artifacts = sys.argv[1:6]
bucket = "site-e2e"
host = f"{bucket}.s3-website.{domain}"
base = f"http://{host}:{web_port}"
aws = ["aws", "--endpoint-url", ep]


def png(width, height, rgb):
    """A solid-colour PNG."""
    raw = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# A page's own checks: did its stylesheet apply, did its image load? The verdict goes into
# the DOM, which the browser dumps.
checks = """<script>
window.addEventListener("load", () => {
  const h1 = getComputedStyle(document.querySelector("h1")).color;
  const img = document.querySelector("img");
  document.getElementById("verdict").textContent = JSON.stringify({
    title: document.title, h1color: h1,
    image: img ? img.naturalWidth + "x" + img.naturalHeight : "none",
    links: [...document.querySelectorAll("a")].map(a => a.href)});
});
</script><pre id="verdict">pending</pre>"""

site = os.path.join(work, "website")
shutil.rmtree(site, ignore_errors=True)
for d in ["", "about", "img", "new"]:
    os.makedirs(os.path.join(site, d), exist_ok=True)
files = {
    "index.html": f"""<!doctype html><html><head><title>Coffer site</title>
<link rel="stylesheet" href="style.css"></head><body><h1>Welcome</h1>
<img src="img/logo.png" alt="logo"><a href="about/">About</a>{checks}</body></html>""",
    "about/index.html": f"""<!doctype html><html><head><title>About</title>
<link rel="stylesheet" href="../style.css"></head><body><h1>About us</h1>
<a href="../index.html">Home</a>{checks}</body></html>""",
    "new/page.html": """<!doctype html><html><head><title>Moved page</title></head>
<body><h1>The new page</h1></body></html>""",
    "error.html": """<!doctype html><html><head><title>Not here</title></head>
<body><h1>Custom 404</h1></body></html>""",
    "style.css": "h1 { color: rgb(200, 30, 40); }\n",
}
for name, text in files.items():
    with open(os.path.join(site, name), "w") as f:
        f.write(text)
with open(os.path.join(site, "img", "logo.png"), "wb") as f:
    f.write(png(40, 20, (10, 120, 200)))


def run(*args):
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


run(*aws, "s3", "mb", f"s3://{bucket}")
run(*aws, "s3", "sync", site, f"s3://{bucket}")
run(*aws, "s3", "website", f"s3://{bucket}", "--index-document", "index.html",
    "--error-document", "error.html")
policy = {"Version": "2012-10-17", "Statement": [{
    "Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*",
    "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]}]}
run(*aws, "s3api", "put-bucket-policy", "--bucket", bucket, "--policy", json.dumps(policy))
# A routing rule (the old folder moved) on top of what `s3 website` set.
conf = json.loads(run(*aws, "s3api", "get-bucket-website", "--bucket", bucket))
conf.pop("ResponseMetadata", None)
conf["RoutingRules"] = [{"Condition": {"KeyPrefixEquals": "old/"},
                         "Redirect": {"ReplaceKeyPrefixWith": "new/", "HttpRedirectCode": "302"}}]
run(*aws, "s3api", "put-bucket-website", "--bucket", bucket,
    "--website-configuration", json.dumps(conf))

chromium = shutil.which("chromium") or shutil.which("chromium-browser")
assert chromium, "chromium is not installed (scripts/install-deps.sh test installs it)"
os.makedirs(artifacts, exist_ok=True)


def browse(path, screenshot=None):
    """The DOM Chromium rendered for `path` of the site."""
    args = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            f"--user-data-dir={work}/chromium-website",
            f"--host-resolver-rules=MAP *.{domain} 127.0.0.1",
            "--virtual-time-budget=10000", "--window-size=800,600"]
    if screenshot:
        args.append(f"--screenshot={screenshot}")
    else:
        args.append("--dump-dom")
    return subprocess.run(args + [base + path], capture_output=True, text=True,
                          timeout=120).stdout


def verdict(dom):
    m = re.search(r'<pre id="verdict">(.*?)</pre>', dom, re.S)
    assert m, dom[-2000:]
    text = m.group(1).replace("&quot;", '"').replace("&amp;", "&")
    assert text.startswith("{"), text
    return json.loads(text)


home = browse("/")
with open(os.path.join(artifacts, "website-home.html"), "w") as f:
    f.write(home)
v = verdict(home)
assert v["title"] == "Coffer site", v
assert v["h1color"] == "rgb(200, 30, 40)", v  # the stylesheet applied
assert v["image"] == "40x20", v  # the image loaded
assert f"{base}/about/" in v["links"], v
# A folder without its slash: redirected to the folder, whose relative links resolve.
about = verdict(browse("/about"))
assert about["title"] == "About" and about["h1color"] == "rgb(200, 30, 40)", about
assert f"{base}/index.html" in about["links"], about
# The custom 404 page, and the routing rule.
missing = browse("/no/such/page.html")
assert "Custom 404" in missing, missing[-1000:]
moved = browse("/old/page.html")
assert "The new page" in moved, moved[-1000:]
shot = os.path.join(artifacts, "website-home.png")
browse("/", screenshot=shot)
assert os.path.getsize(shot) > 1000, "no screenshot"
print(f"browser rendered {base}/: title {v['title']!r}, h1 {v['h1color']}, image {v['image']}; "
      f"/about → About, 404 page, routing rule; screenshot {shot}")
