import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';

/**
 * The hostile corpus: one entry per way a tenant or a flaky network was found
 * (or imagined) to hurt Drydock. Every entry runs against one Drydock process,
 * one after the other; after each the process must still be alive and answer,
 * and its peak RSS over the whole corpus must stay under the budget.
 */
export interface HostileCase {
  /** The defect it guards against, e.g. `#8.1 cut-short upload` (issue 8, item 1). */
  defect: string;
  name: string;
  /** Does the attack and checks the answer; throws when Drydock answered wrongly. */
  run(target: Target): Promise<void>;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Who attacks: tokens of two teams, each with a builder and a viewer, and an admin. */
export interface Tokens {
  admin: string;
  builderA: string;
  viewerA: string;
  builderB: string;
}

export interface Target {
  url: string;
  port: number;
  tokens: Tokens;
  /** The directory build contexts are spooled to: what a cut upload must not leave behind. */
  spoolDir: string;
  registry: string;
  fixture: string;
  /** Team A's writable repository prefix (`localhost:5001/hostile-a`); team B's likewise. */
  namespaceA: string;
  namespaceB: string;
  /** Limits the process was started with, so a case can aim just past them. */
  limits: { contextBytes: number; jsonBytes: number };
  request(method: string, path: string, token: string, init?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<Answer>;
  graphql(token: string, query: string, variables?: Record<string, unknown>): Promise<Answer>;
}

/** A problem+json answer with this status and code, or an Error saying what came instead. */
export function expectProblem(answer: Answer, status: number, code?: string): void {
  let parsed: { code?: string } = {};
  try {
    parsed = JSON.parse(answer.body) as { code?: string };
  } catch {
    // Not JSON: the status check below reports it.
  }
  if (answer.status !== status || (code !== undefined && parsed.code !== code)) {
    throw new Error(`expected ${status} ${code ?? ''}, got ${answer.status}: ${answer.body.slice(0, 300)}`);
  }
}

/** Any 4xx refusal (several checks may rightly refuse first); never a 5xx, never a 2xx. */
export function expectRefused(answer: Answer): void {
  if (answer.status < 400 || answer.status > 499) {
    throw new Error(`expected a 4xx refusal, got ${answer.status}: ${answer.body.slice(0, 300)}`);
  }
}

export function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

export async function fetchAnswer(url: string, init: RequestInit & { timeoutMs?: number }): Promise<Answer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 30_000) });
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
}

/**
 * Sends a request's head and `sent` bytes of its body (announcing `declared`),
 * then cuts the connection: what a client that loses its network does.
 */
export function cutUpload(port: number, head: string, sent: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      socket.write(head);
      socket.write(sent, () => {
        // Let the server start reading the body before the cut, so the cut lands mid-stream.
        setImmediate(() => {
          socket.destroy();
          resolve();
        });
      });
    });
  });
}

/** Opens a socket, sends a raw request and never reads the answer: a slow or stuck client. */
export function stuckClient(port: number, request: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      socket.write(request);
      socket.pause();
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** A raw WebSocket on /graphql with the graphql-ws subprotocol; resolves with its close code. */
export function wsSendAndClose(wsUrl: string, message: string | Buffer, deadlineMs = 15_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`the server kept the socket open ${deadlineMs} ms after a hostile message`));
    }, deadlineMs);
    socket.on('open', () => socket.send(message));
    socket.on('error', () => undefined);
    socket.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** The process's peak resident set (VmHWM), in bytes: no sampling can miss a spike. */
export function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmHWM for process ${pid}`);
  return Number(kb) * 1024;
}
