'use strict';
// The death watch's other half (see death-watch.ts): a tiny process that holds the last word
// of a `sluice run`. Lines on stdin: "+<id> <what>" (inline work started), "-<id>" (ended),
// "done" (the run's process is exiting by itself). If stdin closes without "done", the run's
// process died where no JavaScript could speak (out of memory, a native crash, SIGKILL):
// say what it was running, then exit at once. Plain CommonJS: it starts in ~30 ms.
const runPid = Number(process.argv[2]);
// Where `--report` goes, and the pipeline's name: a death still leaves a failed report.
const reportFile = process.argv[3] || undefined;
const pipeline = process.argv[4] || undefined;
// The run's params (JSON), recorded in that report as in any other.
const params = process.argv[5] ? JSON.parse(process.argv[5]) : {};
const running = new Map();
let done = false;
let rest = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text) => {
  const lines = (rest + text).split('\n');
  rest = lines.pop();
  for (const line of lines) {
    if (line === 'done') done = true;
    else if (line[0] === '+') {
      const space = line.indexOf(' ');
      running.set(line.slice(1, space), line.slice(space + 1));
    } else if (line[0] === '-') running.delete(line.slice(1));
  }
});
process.stdin.on('end', () => {
  if (!done) {
    const what = running.size ? [...running.values()].join('; ') : 'no stage code on the main thread';
    const message = `the run (pid ${runPid}) died without a word: out of memory, a native crash or a kill; it was running ${what}`;
    process.stderr.write(`sluice: ${message}. Nothing was committed; the next run on this sink path removes what it left.\n`);
    if (reportFile) {
      const report = { pipeline, ok: false, params, error: { code: 'SLUICE_RUN_DIED', message } };
      try {
        // An .html report stays a page (without charts: the run's numbers died with it).
        const esc = (t) => String(t).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
        const text = /\.html?$/i.test(reportFile)
          ? `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>✖ ${esc(pipeline)} — sluice run report</title></head><body data-rendered="died"><h1>✖ ${esc(pipeline)}</h1><p>${esc(`SLUICE_RUN_DIED: ${message}`)}</p></body></html>\n`
          : JSON.stringify(report, null, 2) + '\n';
        require('node:fs').writeFileSync(reportFile, text);
      } catch (err) {
        process.stderr.write(`sluice: cannot write the report ${reportFile}: ${err.message}\n`);
      }
    }
  }
  process.exit(0);
});
