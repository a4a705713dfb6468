"""The same job the classic way: Python 3 stdlib only, multiprocessing.Pool(2): the parent
cuts the file into chunks of lines, each worker parses its chunk with the csv module, hashes
each route with hashlib and returns partial groups; the parent merges them. Writes CSV."""
import csv, hashlib, io, sys
from datetime import datetime
from multiprocessing import Pool

INPUT, OUTPUT = sys.argv[1:3]
CHUNK_LINES = 100_000


def chunks(path):
    with open(path, 'r', encoding='utf-8', newline='') as f:
        f.readline()  # header
        buf = []
        for line in f:
            buf.append(line)
            if len(buf) >= CHUNK_LINES:
                yield ''.join(buf)
                buf = []
        if buf:
            yield ''.join(buf)


def work(text):
    groups = {}
    for dep_time, dep_delay, _distance, origin, dest in csv.reader(io.StringIO(text, newline='')):
        day = datetime.fromisoformat(dep_time).date().isoformat()
        route = hashlib.sha256(f'{origin}-{dest}'.encode()).hexdigest()
        g = groups.get((day, origin))
        if g is None:
            g = groups[(day, origin)] = [0, 0.0, set()]
        g[0] += 1
        g[1] += float(dep_delay)
        g[2].add(route)
    return groups


if __name__ == '__main__':
    total = {}
    with Pool(2) as pool:
        for part in pool.imap_unordered(work, chunks(INPUT)):
            for key, g in part.items():
                t = total.get(key)
                if t is None:
                    total[key] = g
                else:
                    t[0] += g[0]
                    t[1] += g[1]
                    t[2] |= g[2]
    with open(OUTPUT, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['day', 'origin', 'flights', 'delay', 'routes'])
        for (day, origin), g in sorted(total.items()):
            w.writerow([day, origin, g[0], g[1], len(g[2])])
