#!/usr/bin/env python3
"""Retries and the watchdog, short (issue 26):
1. overhead when nothing fails: a process stage (2 copies) over 200k rows in 200 batches,
   `retries: 2, timeout: '30s'` against neither; CPU seconds (user+sys of the whole run, every
   child included) and wall, interleaved A/B, n runs each;
2. cost of one crash: the same run whose child SIGKILLs itself on batch #100 once, with
   retries: 2; the extra wall over the clean runs is the time to recover the lost batch
   (expected: a child's start-up plus the batch).
Usage: python3 bench/retries.py [n=5]"""
import json, os, resource, shutil, statistics, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGE = os.path.join(REPO, 'test/fixtures/stages/fault-once.ts')
N = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROWS, BATCH = 200_000, 1000
work = tempfile.mkdtemp(prefix='sluice-bench-retries-')
with open(os.path.join(work, 'in.csv'), 'w') as f:
    f.write('id,name,x\n')
    for i in range(ROWS):
        f.write(f'{i},n{i % 97},{i * 0.25:.2f}\n')

def config(name, recovery, fault):
    stage = {'name': 'flaky', 'module': STAGE, 'mode': 'process', 'concurrency': 2,
             'options': {'firstId': 100 * BATCH if fault else -1, 'how': 'sigkill', 'marker': os.path.join(work, f'{name}.marker')}}
    if recovery:
        stage.update({'retries': 2, 'timeout': '30s'})
    cfg = {'name': name, 'source': {'format': 'csv', 'path': 'in.csv', 'batchRows': BATCH}, 'stages': [stage],
           'sink': {'format': 'csv', 'path': f'out/{name}.csv'}}
    path = os.path.join(work, f'{name}.config.ts')
    with open(path, 'w') as f:
        f.write(f"import {{ definePipeline }} from 'sluice';\nexport default definePipeline({json.dumps(cfg)} as const);\n")
    return path

def run(name, recovery, fault=False):
    cfg = config(name, recovery, fault)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run([os.path.join(REPO, 'bin/sluice'), 'run', cfg, '--quiet'], cwd=work, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f'{name} failed: {r.stderr}')
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

res = {'off': [], 'on': [], 'crash': []}
for i in range(N):
    res['off'].append(run(f'off{i}', False))
    res['on'].append(run(f'on{i}', True))
    res['crash'].append(run(f'crash{i}', True, fault=True))
for k, v in res.items():
    walls, cpus = [w for w, _ in v], [c for _, c in v]
    print(f'{k:6} wall median {statistics.median(walls):6.2f} s (min {min(walls):.2f})  cpu median {statistics.median(cpus):6.2f} s (min {min(cpus):.2f})  n={len(v)}')
shutil.rmtree(work, ignore_errors=True)
