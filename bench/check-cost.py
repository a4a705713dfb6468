#!/usr/bin/env python3
"""The cost of the CSV later-row text check (src/csv/strict.ts) on whole runs: the same build
with the check (A) and without it (B: SLUICE_TEST_SKIP_CSV_TEXT_CHECK=1, a benchmark hook, never
a user option), run in turn A B A B ... (the order flips every round), n rounds. Each run's CPU
seconds are the kernel's rusage of the command and every process it waited for (os.wait4):
robust on a shared machine where wall time is not. Prints each side's median, min and max, and
the ratio A/B taken pair by pair (median and range), as Markdown.

  python3 bench/check-cost.py --rounds 8 --input /tmp/transactions-2m.csv [--nightly]
(the input: npm run gen-data -- --rows 2000000 --out /tmp/transactions-2m.csv)
"""
import argparse, os, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(config, env):
    start = time.perf_counter()
    child = subprocess.Popen([os.path.join(ROOT, 'bin', 'sluice'), 'run', config, '--quiet'], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = child.stderr.read()
    _, status, ru = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f'{config} failed: {err.decode()[-2000:]}')
    # ru covers the child; its own children (stage processes, the watcher) are in its rusage only
    # once reaped by it, which sluice does before exiting.
    return ru.ru_utime + ru.ru_stime, wall


def summary(xs):
    return f'{statistics.median(xs):.2f} ({min(xs):.2f}–{max(xs):.2f})'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=8)
    ap.add_argument('--input', required=True)
    ap.add_argument('--nightly', action='store_true', help='the nightly job (bench/nightly.config.ts) instead of the plain conversion')
    a = ap.parse_args()
    config = os.path.join(ROOT, 'bench', 'nightly.config.ts' if a.nightly else 'plain.config.ts')
    base = {**os.environ, 'SLUICE_BENCH_INPUT': os.path.abspath(a.input), 'SLUICE_BENCH_OUTPUT': f'/tmp/sluice-check-cost-{os.getpid()}.parquet'}
    sides = {'A': base, 'B': {**base, 'SLUICE_TEST_SKIP_CSV_TEXT_CHECK': '1'}}
    run(config, sides['A'])  # warm-up (page cache, compiled stage modules), not counted
    cpu = {'A': [], 'B': []}
    wall = {'A': [], 'B': []}
    for r in range(a.rounds):
        for side in ('AB' if r % 2 == 0 else 'BA'):
            c, w = run(config, sides[side])
            cpu[side].append(c)
            wall[side].append(w)
            print(f'round {r + 1} {side}: {c:.2f} CPU-s, {w:.2f} s', file=sys.stderr)
    ratio = [x / y for x, y in zip(cpu['A'], cpu['B'])]
    wratio = [x / y for x, y in zip(wall['A'], wall['B'])]
    print(f'{"nightly job" if a.nightly else "plain CSV → Parquet"}, {a.rounds} interleaved rounds: median (min–max)\n')
    print('| | CPU-s | wall s |\n|---|---|---|')
    print(f'| with the check (A) | {summary(cpu["A"])} | {summary(wall["A"])} |')
    print(f'| without it (B) | {summary(cpu["B"])} | {summary(wall["B"])} |')
    print(f'| A/B, pair by pair | {summary(ratio)} | {summary(wratio)} |')
    os.remove(base['SLUICE_BENCH_OUTPUT']) if os.path.exists(base['SLUICE_BENCH_OUTPUT']) else None


if __name__ == '__main__':
    main()
