#!/usr/bin/env python3
"""table.py A.json B.json ...: the issue's figures side by side, with the median per group."""
import json, sys, statistics
rows = [("rclone_put_4x256MiB", "MiB_per_s", "server_cpu_ms_per_MiB", "client_cpu_s"),
        ("rclone_get_4x256MiB", "MiB_per_s", "server_cpu_ms_per_MiB", "client_cpu_s"),
        ("awscli_cp_put_1024MiB", "MiB_per_s", None, "client_cpu_s"),
        ("awscli_cp_get_1024MiB", "MiB_per_s", None, "client_cpu_s"),
        ("awscli_sync_up_2000x4KiB", "value", None, "client_cpu_s"),
        ("awscli_sync_again_2000x4KiB", "value", None, "client_cpu_s"),
        ("wrk_presigned_4KiB_get_c256", "value", "server_cpu_us_per_op", None),
        ("wrk_presigned_4KiB_get_c16", "p50_ms", None, None),
        ("wrk_presigned_4KiB_put_c16", "value", "server_cpu_us_per_op", None)]
runs = [(f, {r["name"]: r for r in json.load(open(f))["results"]}) for f in sys.argv[1:]]
print("| step | " + " | ".join(f.rsplit('/',1)[-1].removesuffix('.json') for f, _ in runs) + " |")
print("|---" * (len(runs) + 1) + "|")
for name, main, cost, cli in rows:
    cells = []
    for _, r in runs:
        x = r.get(name, {})
        c = f"{x.get(main)}"
        if cost and x.get(cost) is not None: c += f" @ {x.get(cost)}"
        if cli and x.get(cli) is not None: c += f" (cli {x.get(cli)})"
        cells.append(c)
    print(f"| {name} | " + " | ".join(cells) + " |")
for f, _ in runs:
    d = json.load(open(f))
    s = d["summary"]
    print(f, "md5sum", s.get("md5sum_1core"), "sha256sum", s.get("sha256sum_1core"), "fio write", s.get("disk_seq_write_buffered_fsync"), "O_DIRECT read", s.get("disk_seq_read_direct_qd16"))
