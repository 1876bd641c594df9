import json, sys
d = json.load(open(sys.argv[1]))
reqs, cpu = d["requests"], d["cpu"]
q0 = d["quiet"][0]
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs)-1, int(p*len(xs)))] * 1000 if xs else 0
print(f"phases: quiet {d['quiet'][0]-q0:.1f}-{d['quiet'][1]-q0:.1f} scale {d['scale']-q0:.1f} move {d['move']-q0:.1f} done {d['done']-q0:.1f}")
t = q0
end = max(r[0] for r in reqs)
while t < min(end, d['done'] + 20):
    w = [r[1] for r in reqs if t <= r[0] < t+2]
    c = [b for (ts, b) in cpu if t <= ts < t+2]
    ph = "quiet" if t < d['scale'] else ("join " if t < d['move'] else ("MOVE " if t < d['done'] else "after"))
    print(f"{t-q0:6.1f} {ph} n={len(w):3d} p50={pct(w,.5):6.1f} p90={pct(w,.9):6.1f} max={max(w)*1000 if w else 0:6.1f} cpu={round(100*sum(c)/len(c)) if c else -1:3d}%")
    t += 2
