import type { FastifyRequest } from 'fastify';

/** What a refused upload may still send after its answer, read and dropped, before the connection is cut. */
const LINGER_BYTES = 16 * 1024 ** 2;
const LINGER_MS = 5_000;

/**
 * A refusal answered mid-upload (past the cap, not a tar) closes the connection, and Node closes
 * it at once once the answer is written. Bytes the client is still sending then arrive at a closed
 * socket, the kernel answers them with a reset, and a reset makes the client's kernel drop what it
 * had not read yet: the answer. So, as a web server's lingering close does, this sends the FIN
 * after the answer and goes on reading (and dropping) what comes, until the client stops, or for
 * a few seconds and megabytes at most: a client that never stops costs no more than that.
 */
export function lingerOnClose(request: FastifyRequest): void {
  const body = request.raw;
  const socket = body.socket;
  // The hook Node's HTTP server calls once the answer of a response that closes the connection is written.
  socket.destroySoon = () => {
    socket.end();
    const close = (): void => void socket.destroy();
    const timer = setTimeout(close, LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    let read = 0;
    body.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > LINGER_BYTES) close();
    });
    body.once('end', close);
    body.once('error', close);
    body.resume();
  };
}
