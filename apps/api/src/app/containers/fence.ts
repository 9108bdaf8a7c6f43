/**
 * The fence around containers. A container API on a shared Docker socket is
 * root on the host unless what a request may ask for is fenced; this file
 * decides all of it, and nothing else makes a RunJobData.
 *
 * - A run request has exactly five fields (RUN_FIELDS): the image, and the
 *   command, environment, working directory and user inside the container.
 *   Anything else (privileged, binds, hostConfig, capAdd, networkMode,
 *   devices, pidMode, ...) is refused: by the DTO (the global ValidationPipe
 *   forbids unknown properties), by the GraphQL schema (RunContainerInput has
 *   no such field), and again by checkRunRequest, which does not trust either.
 * - The values are checked too (checkRunRequest): bounded, NUL-free, `KEY=value`
 *   env, an absolute working directory, a plain `user[:group]`.
 * - The limits (memory, CPU, processes) come from configuration, never from the request (fenceRun).
 * - What no request can change at all (no privileged mode, dropped
 *   capabilities, no-new-privileges, network none, no mounts, devices, ports or
 *   host namespaces, the Drydock label) is the engine half:
 *   `containerCreateBody` in libs/docker, whose ContainerSpec has no field to
 *   express any of it. fence.spec.ts follows a request through fenceRun,
 *   runContainerSpec and containerCreateBody to the body the engine receives.
 * - A commit's `changes` are Dockerfile instructions; only those that edit
 *   image metadata are let through (checkCommitChanges).
 */
import { DrydockError, ErrorCode } from '@drydock/core';
import type { RunJobData } from '@drydock/jobs';

/** The only fields a run request has. */
export const RUN_FIELDS = ['image', 'cmd', 'env', 'workingDir', 'user'] as const;

export const RUN_BOUNDS = {
  imageMaxLength: 512,
  cmdMaxItems: 256,
  argMaxLength: 32 * 1024,
  cmdMaxBytes: 256 * 1024,
  envMaxItems: 256,
  envEntryMaxLength: 32 * 1024,
  workingDirMaxLength: 1024,
  userMaxLength: 65,
} as const;

/** `KEY=value`: a portable variable name, then anything but NUL (newlines are legal in a value). */
export const ENV_ENTRY = /^[A-Za-z_][A-Za-z0-9_]*=[^\0]*$/;
/** `name`, `uid`, `name:group` or `uid:gid`, as `docker run --user`. */
export const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$/;
/** An absolute path inside the container. */
export const ABSOLUTE_PATH = /^\/[^\0]*$/;
/**
 * A container id, id prefix or name, as the engine accepts them. Strict on
 * purpose: the engine adapter puts it into a URL path unencoded, so a `/` or
 * `..` would reach another engine endpoint.
 */
export const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface RunRequest {
  image: string;
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
}

/** What configuration (never the request) decides about every container. */
export interface RunLimits {
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
}

/** Processes per run container. */
export const RUN_PIDS_LIMIT = 512;

function refuse(message: string): never {
  throw new DrydockError(ErrorCode.VALIDATION_FAILED, message);
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function checkText(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string') refuse(`${field} must be a string`);
  if (value.length > maxLength) refuse(`${field} must be at most ${maxLength} characters`);
  if (value.includes('\0')) refuse(`${field} must not contain NUL characters`);
  return value;
}

function checkList(value: unknown, field: string, maxItems: number): unknown[] {
  if (!Array.isArray(value)) refuse(`${field} must be an array of strings`);
  if (value.length > maxItems) refuse(`${field} must have at most ${maxItems} entries`);
  return value;
}

/**
 * Checks a run request, whatever arrived it through (REST body, GraphQL input,
 * or a caller inside the app). Throws VALIDATION_FAILED naming the field; null
 * counts as absent (GraphQL sends it for omitted optional fields).
 */
export function checkRunRequest(input: unknown): RunRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) refuse('a run request must be an object');
  const fields = input as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => present(fields[key]) && !(RUN_FIELDS as readonly string[]).includes(key));
  if (unknown.length) {
    refuse(`${unknown.map((key) => `property ${key.slice(0, 64)}`).join(', ')} should not exist: a run request takes only ${RUN_FIELDS.join(', ')}`);
  }

  const image = checkText(fields['image'], 'image', RUN_BOUNDS.imageMaxLength);
  if (image === '') refuse('image must not be empty');
  const request: RunRequest = { image };

  if (present(fields['cmd'])) {
    const cmd = checkList(fields['cmd'], 'cmd', RUN_BOUNDS.cmdMaxItems).map((arg, i) => checkText(arg, `cmd[${i}]`, RUN_BOUNDS.argMaxLength));
    if (cmd.length === 0) refuse('cmd must have at least one entry (leave it out to run the image\'s own command)');
    const bytes = cmd.reduce((sum, arg) => sum + Buffer.byteLength(arg, 'utf8'), 0);
    if (bytes > RUN_BOUNDS.cmdMaxBytes) refuse(`cmd must be at most ${RUN_BOUNDS.cmdMaxBytes} bytes in all`);
    request.cmd = cmd;
  }
  if (present(fields['env'])) {
    request.env = checkList(fields['env'], 'env', RUN_BOUNDS.envMaxItems).map((entry, i) => {
      const text = checkText(entry, `env[${i}]`, RUN_BOUNDS.envEntryMaxLength);
      if (!ENV_ENTRY.test(text)) refuse(`env[${i}] must be KEY=value with KEY a letter or _ followed by letters, digits or _`);
      return text;
    });
  }
  if (present(fields['workingDir'])) {
    const workingDir = checkText(fields['workingDir'], 'workingDir', RUN_BOUNDS.workingDirMaxLength);
    if (!ABSOLUTE_PATH.test(workingDir)) refuse('workingDir must be an absolute path');
    request.workingDir = workingDir;
  }
  if (present(fields['user'])) {
    const user = checkText(fields['user'], 'user', RUN_BOUNDS.userMaxLength);
    if (!USER.test(user)) refuse('user must be name, uid, name:group or uid:gid');
    request.user = user;
  }
  return request;
}

/**
 * The job data of a checked request: `image` as the engine should resolve it
 * (the caller has checked it exists), the limits from configuration, and who
 * asked. The only maker of RunJobData.
 */
export function fenceRun(
  request: RunRequest,
  image: string,
  limits: RunLimits,
  requester: { team: string | null; owner: string | null },
  deployment: string,
): RunJobData {
  return {
    image,
    ...(request.cmd ? { cmd: [...request.cmd] } : {}),
    ...(request.env ? { env: [...request.env] } : {}),
    ...(request.workingDir ? { workingDir: request.workingDir } : {}),
    ...(request.user ? { user: request.user } : {}),
    team: requester.team,
    owner: requester.owner,
    memoryBytes: limits.memoryBytes,
    nanoCpus: limits.nanoCpus,
    pidsLimit: limits.pidsLimit,
    deployment,
  };
}

/** Checks a container id, prefix or name before it goes near the engine. */
export function checkContainerId(id: string): string {
  if (!CONTAINER_ID.test(id)) {
    refuse(`container id ${JSON.stringify(id.slice(0, 140))} must be an id, id prefix or name: letters, digits, "_", "." and "-"`);
  }
  return id;
}

// ---------------------------------------------------------------------------
// Commit changes (`docker commit --change`)

/**
 * Instructions a commit may apply: those that only edit the image's config.
 * The engine itself would also take ONBUILD and HEALTHCHECK. ONBUILD is
 * refused: it plants instructions that run later, in someone else's build,
 * where no Dockerfile check of ours sees them. HEALTHCHECK is left out to keep
 * a commit to what `docker commit` users reach for; nothing needs it here.
 */
export const COMMIT_INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'] as const;
export type CommitInstruction = (typeof COMMIT_INSTRUCTIONS)[number];

export const COMMIT_BOUNDS = {
  changesMaxItems: 64,
  changeMaxLength: 4096,
  messageMaxLength: 8192,
  authorMaxLength: 512,
} as const;

const REFUSED_BECAUSE: Readonly<Record<string, string>> = {
  ONBUILD: 'it plants instructions that run in a later build',
  RUN: 'a commit records the container as it is; run the command in the container first',
  FROM: 'a commit starts from the container, not from another image',
  ADD: 'a commit cannot add files; put them in the container first',
  COPY: 'a commit cannot add files; put them in the container first',
};

const PORT = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(?:tcp|udp|sctp))?$/i;
const SIGNAL = /^(?:SIG)?[A-Z][A-Z0-9]*(?:[+-]\d+)?$|^\d{1,2}$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function jsonStrings(args: string, where: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    refuse(`${where}: the JSON form must be a JSON array of strings`);
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    refuse(`${where}: the JSON form must be a JSON array of strings`);
  }
  return parsed as string[];
}

function checkArguments(instruction: CommitInstruction, args: string, where: string): void {
  switch (instruction) {
    case 'CMD':
    case 'ENTRYPOINT':
      if (args.startsWith('[')) jsonStrings(args, where);
      return;
    case 'ENV': {
      // `ENV A=b C=d`, or the legacy `ENV A b`.
      const first = args.split(/[=\s]/, 1)[0] ?? '';
      if (!VARIABLE.test(first)) refuse(`${where}: ENV needs NAME=value, with NAME a letter or _ followed by letters, digits or _`);
      return;
    }
    case 'LABEL':
      if (!args.includes('=')) refuse(`${where}: LABEL needs key=value`);
      return;
    case 'EXPOSE':
      for (const port of args.split(/\s+/)) {
        const match = PORT.exec(port);
        const low = Number(match?.[1]);
        const high = match?.[2] === undefined ? low : Number(match[2]);
        if (!match || low < 1 || high > 65535 || high < low) refuse(`${where}: EXPOSE takes ports such as 80, 80/tcp or 8000-8010/udp, not ${JSON.stringify(port)}`);
      }
      return;
    case 'STOPSIGNAL':
      if (!SIGNAL.test(args)) refuse(`${where}: STOPSIGNAL takes a signal name (SIGTERM) or number`);
      return;
    case 'USER':
      if (!USER.test(args)) refuse(`${where}: USER takes name, uid, name:group or uid:gid`);
      return;
    case 'VOLUME': {
      const paths = args.startsWith('[') ? jsonStrings(args, where) : args.split(/\s+/);
      if (paths.length === 0 || !paths.every((path) => ABSOLUTE_PATH.test(path))) refuse(`${where}: VOLUME takes absolute paths`);
      return;
    }
    case 'WORKDIR':
      if (!ABSOLUTE_PATH.test(args)) refuse(`${where}: WORKDIR must be an absolute path`);
      return;
  }
}

/**
 * Checks `docker commit --change` instructions: one instruction per entry, on
 * one line (the engine joins the changes with newlines and parses them as a
 * Dockerfile, so a newline would smuggle in another instruction), from
 * COMMIT_INSTRUCTIONS, with arguments of the right shape. Answers them trimmed.
 */
export function checkCommitChanges(changes: unknown): string[] {
  if (!present(changes)) return [];
  const list = checkList(changes, 'changes', COMMIT_BOUNDS.changesMaxItems);
  return list.map((change, i) => {
    const where = `changes[${i}]`;
    const text = checkText(change, where, COMMIT_BOUNDS.changeMaxLength).trim();
    if (/[\r\n]/.test(text)) refuse(`${where}: one instruction per entry, on one line`);
    const match = /^([A-Za-z]+)(?:\s+(.*))?$/.exec(text);
    if (!match) refuse(`${where}: expected a Dockerfile instruction such as CMD ["/bin/sh"] or ENV A=b`);
    const keyword = (match[1] ?? '').toUpperCase();
    if (!(COMMIT_INSTRUCTIONS as readonly string[]).includes(keyword)) {
      const why = REFUSED_BECAUSE[keyword];
      refuse(
        `${where}: instruction ${keyword} is not allowed in a commit${why ? ` (${why})` : ''}; allowed: ${COMMIT_INSTRUCTIONS.join(', ')}`,
      );
    }
    const args = (match[2] ?? '').trim();
    if (args === '') refuse(`${where}: ${keyword} needs arguments`);
    if (args.endsWith('\\')) refuse(`${where}: no line continuations`);
    checkArguments(keyword as CommitInstruction, args, where);
    return text;
  });
}

/** Commit message (`-m`) and author (`-a`). */
export function checkCommitText(message: unknown, author: unknown): { message: string; author: string } {
  const m = present(message) ? checkText(message, 'message', COMMIT_BOUNDS.messageMaxLength) : '';
  const a = present(author) ? checkText(author, 'author', COMMIT_BOUNDS.authorMaxLength) : '';
  if (/[\r\n]/.test(a)) refuse('author must be one line');
  return { message: m, author: a };
}
