"""
Overhead of unit commits (resumable runs, io/units) on the nightly job without its aggregate
(a stage with flush() is refused in resumable runs): CPU seconds (user + sys of the whole
process tree) and wall, off vs on, interleaved, n runs each. Then the cost of resume: a run
killed after unit K is recorded, resumed; the time from the resumed process's start to its
first newly committed unit (from its debug log).

  python3 bench/units-overhead.py [n] [files] [--no-resume] [--aggregate]

--aggregate: the whole nightly job (its aggregate runs again over the staged units at the commit).
"""
import json, os, resource, shutil, signal, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
args = [a for a in sys.argv[1:] if not a.startswith('--')]
N = int(args[0]) if len(args) > 0 else 5
FILES = int(args[1]) if len(args) > 1 else 20
AGGREGATE = '--aggregate' in sys.argv
work = tempfile.mkdtemp(prefix='sluice-units-bench-')
os.makedirs(f'{work}/in')
for i in range(FILES):
    shutil.copy(f'{REPO}/data/transactions.csv', f'{work}/in/t{i:03d}.csv')
config = f'{work}/nightly.config.ts'
with open(config, 'w') as f:
    f.write(f"""import {{ definePipeline }} from 'sluice';
export default definePipeline({{
  name: 'bench-units',
  source: {{ format: 'csv', path: 'in/*.csv', batchRows: 65_536, schema: {{ customer_id: 'utf8' }} }},
  stages: [
    {{ name: 'clean', module: '{REPO}/stages/clean.ts', mode: 'inline' }},
    {{ name: 'pseudonymise', module: '{REPO}/stages/pseudonymise.ts', mode: 'thread', concurrency: 2,
      options: {{ salt: 'bench-salt', columns: ['customer_id'], drop: ['email'], algorithm: 'salted-sha256' }} }},
    {"{{ name: 'aggregate', module: '" + REPO + "/stages/aggregate.ts', mode: 'process', concurrency: 1 }}," if AGGREGATE else ''}
  ],
  sink: {{ format: 'parquet', path: 'out/clean.parquet' }},
}});
""")
BIN = f'{REPO}/bin/sluice'

def run(args, env=None):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run([BIN, 'run', config, '--quiet', *args], cwd=work, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f'run failed: {r.stderr}')
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), r

res = {'off': [], 'on': []}
for i in range(N):
    for mode in (['off', 'on'] if i % 2 == 0 else ['on', 'off']):
        wall, cpu, _ = run(['--resume'] if mode == 'on' else [])
        res[mode].append((wall, cpu))
def med(xs): xs = sorted(xs); return xs[len(xs) // 2]
for mode in ('off', 'on'):
    print(f'{mode:3}: wall median {med([w for w, _ in res[mode]]):.2f} s  cpu median {med([c for _, c in res[mode]]):.2f} s  (all cpu: {", ".join(f"{c:.2f}" for _, c in res[mode])})')
print(f'overhead: cpu {100 * (med([c for _, c in res["on"]]) / med([c for _, c in res["off"]]) - 1):+.1f} %, wall {100 * (med([w for w, _ in res["on"]]) / med([w for w, _ in res["off"]]) - 1):+.1f} %')

# Resume: killed once half the units are recorded, then resumed.
K = FILES // 2
for i in range(0 if '--no-resume' in sys.argv else 3):
    p = subprocess.Popen([BIN, 'run', config, '--quiet', '--resume'], cwd=work, env={**os.environ, 'SLUICE_TEST_STOP_AT': f'unit-{K}'}, stderr=subprocess.DEVNULL)
    while True:
        with open(f'/proc/{p.pid}/stat') as f:
            st = f.read()
        if st[st.rindex(')') + 2] == 'T':
            break
        time.sleep(0.02)
    kids = subprocess.run(['pgrep', '-P', str(p.pid)], capture_output=True, text=True).stdout.split()
    for pid in [p.pid, *map(int, kids)]:
        try: os.kill(pid, signal.SIGKILL)
        except ProcessLookupError: pass
    p.wait()
    t0 = time.time()
    wall, cpu, r = run(['--resume', '--log-level', 'debug'])
    logs = [json.loads(l) for l in r.stderr.splitlines() if l.startswith('{')]
    first = min(l['time'] for l in logs if l.get('msg') == 'unit committed') / 1000
    started = min(l['time'] for l in logs if l.get('msg') == 'run started') / 1000
    print(f'resume after unit {K}/{FILES}: first new unit committed {first - t0:.2f} s after the process started ({first - started:.2f} s after "run started"); whole resumed run {wall:.2f} s wall, {cpu:.2f} s cpu')
shutil.rmtree(work)
