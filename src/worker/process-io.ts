/**
 * The I/O thread of a stage's child process. It owns the frame channel (fd 3): reads
 * frames with `onread` straight into recycled slabs and posts them to the stage thread,
 * and writes the frames the stage thread posts back. Because it never runs stage code,
 * the next batch streams in and the last result streams out while a synchronous stage
 * computes — the socket buffer (~200 KiB) alone could not hold a batch in flight.
 */
import net from 'node:net';
import { parentPort } from 'node:worker_threads';
import { FrameDecoder } from '../batch/framing';
import { SLAB_HEADER, SlabArena } from '../batch/slab';
import { DATA_FD, type IoToStage, type SharedBytes, type StageToIo } from '../protocol/process';

const port = parentPort!;
const arena = new SlabArena();
const post = (message: IoToStage) => port.postMessage(message);

const frames = new FrameDecoder(
  ({ header, payload }) => {
    const shared: SharedBytes | null = payload.byteLength
      ? { buffer: payload.buffer as SharedArrayBuffer, byteOffset: payload.byteOffset, byteLength: payload.byteLength }
      : null;
    post({ type: 'frame', header, payload: shared });
  },
  { allocate: (bytes) => new Uint8Array(arena.acquire(bytes), SLAB_HEADER, bytes) },
);

// A corrupt stream throws in the onread callback, uncaught: the stage thread sees this
// worker's 'error' and the child dies with the reason on stderr; main reports it.
// (`onread` is accepted by the constructor since Node 12; the typings list it for connect().)
const channel = new net.Socket({
  fd: DATA_FD,
  readable: true,
  writable: true,
  onread: { buffer: () => frames.readTarget(), callback: (n: number) => (frames.commitRead(n), true) },
} as net.SocketConstructorOpts & net.ConnectOpts);

let closed = false;
const close = () => {
  if (closed) return;
  closed = true;
  post({ type: 'closed' });
};
channel.on('end', close);
channel.on('close', close);
channel.on('error', close); // EPIPE / ECONNRESET: main is gone

port.on('message', (message: StageToIo) => {
  if (message.type === 'finish') {
    channel.end(close);
    return;
  }
  const { id, chunks } = message;
  if (chunks.length === 0 || channel.destroyed) {
    post({ type: 'written', id });
    return;
  }
  // One writev for the whole frame; 'written' once the kernel has the last byte.
  channel.cork();
  chunks.forEach((c, i) => {
    const last = i === chunks.length - 1;
    channel.write(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), last ? () => post({ type: 'written', id }) : undefined);
  });
  channel.uncork();
});
