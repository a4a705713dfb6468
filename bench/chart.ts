/** A small hand-written SVG: hand-off throughput (GB/s) by batch size, one line per transport. */
export function handoffChart(rows: { bytes: number; threadUs: number; processUs: number; cloneUs: number }[]): string {
  const W = 640;
  const H = 360;
  const pad = { l: 60, r: 150, t: 30, b: 50 };
  const series = [
    { name: 'thread (shared memory)', color: '#1b9e77', us: (r: (typeof rows)[0]) => r.threadUs },
    { name: 'process (Arrow IPC)', color: '#d95f02', us: (r: (typeof rows)[0]) => r.processUs },
    { name: 'piscina structured clone', color: '#7570b3', us: (r: (typeof rows)[0]) => r.cloneUs },
  ];
  const gb = (bytes: number, us: number) => (2 * bytes) / (us * 1000);
  const all = rows.flatMap((r) => series.map((s) => gb(r.bytes, s.us(r))));
  const yMax = Math.log10(Math.max(...all)) + 0.2;
  const yMin = Math.log10(Math.min(...all)) - 0.2;
  const x = (i: number) => pad.l + (i * (W - pad.l - pad.r)) / Math.max(1, rows.length - 1);
  const y = (v: number) => pad.t + ((yMax - Math.log10(v)) * (H - pad.t - pad.b)) / (yMax - yMin);
  const label = (b: number) => (b >= 1 << 20 ? `${b >> 20} MiB` : `${b >> 10} KiB`);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${pad.l}" y="18" font-size="14">Hand-off throughput by batch size (round trip, log scale)</text>`,
    `<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#333"/>`,
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#333"/>`,
    ...rows.map((r, i) => `<text x="${x(i)}" y="${H - pad.b + 18}" text-anchor="middle">${label(r.bytes)}</text>`),
    ...[0.001, 0.01, 0.1, 1, 10, 100, 1000]
      .filter((v) => Math.log10(v) >= yMin && Math.log10(v) <= yMax)
      .map((v) => `<text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text><line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`),
    `<text x="14" y="${pad.t + 120}" transform="rotate(-90 14 ${pad.t + 120})">GB/s</text>`,
    ...series.map((s, k) => {
      const pts = rows.map((r, i) => `${x(i).toFixed(1)},${y(gb(r.bytes, s.us(r))).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/><text x="${W - pad.r + 8}" y="${pad.t + 20 + 18 * k}" fill="${s.color}">${s.name}</text>`;
    }),
    `</svg>`,
  ];
  return parts.join('\n');
}
