import re,glob,statistics as st
def parse(path):
    out={}
    for l in open(path):
        m=re.match(r'^(\S+)\s+([\d.]+)\s+(MiB/s|ops/s|s|keys/s)\s',l)
        if m: out[m.group(1)]=(float(m.group(2)),m.group(3))
        m=re.match(r'^server memory \(MiB\): \{"\d+": \{"VmHWM": (\d+)',l)
        if m: out['server_peak_rss_MiB']=(float(m.group(1)),'MiB')
    return out
runs={'before':[],'after':[]}
for side in runs:
    for f in sorted(glob.glob(f'./{side}-*.txt')):
        runs[side].append(parse(f))
keys=[k for k in runs['before'][0] if not k.startswith(('disk_','md5','sha','b2','openssl'))]
print(f"{'test':32} {'before (2 runs)':>26} {'after (2 runs)':>26}  verdict")
for k in keys:
    b=[r[k][0] for r in runs['before'] if k in r]; a=[r[k][0] for r in runs['after'] if k in r]
    if not b or not a: continue
    unit=runs['before'][0][k][1]
    lower_better = unit in ('s','MiB')
    spread=max(max(b)-min(b), max(a)-min(a))
    mb,ma=st.mean(b),st.mean(a)
    worse = (ma-mb if lower_better else mb-ma)
    verdict = 'worse beyond spread' if worse > spread else 'within spread' if worse>0 else 'same or better'
    fmt=lambda xs: '/'.join(f'{x:g}' for x in xs)
    print(f"{k:32} {fmt(b):>26} {fmt(a):>26}  {unit:6} mean {mb:.1f} -> {ma:.1f}, spread {spread:.1f}: {verdict}")
