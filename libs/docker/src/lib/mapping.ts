import type { Image, ImageConfig, Label, RepoDigest, RepoTag } from './types';

/** 'localhost:5000/a/b:v1' -> { repository: 'localhost:5000/a/b', tag: 'v1' }; the engine's '<none>:<none>' -> null. */
export function splitRepoTag(value: string): RepoTag | null {
  if (value === '<none>:<none>') return null;
  const colon = value.lastIndexOf(':');
  // A colon before the last slash belongs to a registry port, not a tag.
  if (colon < 0 || colon < value.lastIndexOf('/')) return { repository: value, tag: 'latest' };
  return { repository: value.slice(0, colon), tag: value.slice(colon + 1) };
}

export function splitRepoDigest(value: string): RepoDigest | null {
  const at = value.indexOf('@');
  if (at < 0 || value === '<none>@<none>') return null;
  return { repository: value.slice(0, at), digest: value.slice(at + 1) };
}

export function repoTags(values: readonly string[] | null | undefined): RepoTag[] {
  return (values ?? []).map(splitRepoTag).filter((t): t is RepoTag => t !== null);
}

export function repoDigests(values: readonly string[] | null | undefined): RepoDigest[] {
  return (values ?? []).map(splitRepoDigest).filter((d): d is RepoDigest => d !== null);
}

export function labels(values: Record<string, string> | null | undefined): Label[] {
  return Object.entries(values ?? {})
    .map(([key, value]) => ({ key, value }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

export function isoFromUnix(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** The engine gives nanosecond RFC 3339 times; API.md wants ISO 8601 UTC. */
export function isoFromEngine(value: string | undefined): string {
  const date = value ? new Date(value) : new Date(0);
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
}

interface InspectLike {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created: string;
  Size: number;
  Architecture?: string;
  Os?: string;
  Author?: string;
  Comment?: string;
  Config?: {
    Cmd?: string[] | null;
    Entrypoint?: string[] | string | null;
    Env?: string[] | null;
    WorkingDir?: string;
    User?: string;
    ExposedPorts?: Record<string, unknown> | null;
    Labels?: Record<string, string> | null;
  } | null;
}

export function imageFromInspect(data: InspectLike, containers: number): Image {
  const config = data.Config ?? {};
  const entrypoint = typeof config.Entrypoint === 'string' ? [config.Entrypoint] : (config.Entrypoint ?? null);
  const imageConfig: ImageConfig = {
    cmd: config.Cmd ?? null,
    entrypoint,
    env: config.Env ?? [],
    workingDir: config.WorkingDir ?? '',
    user: config.User ?? '',
    exposedPorts: Object.keys(config.ExposedPorts ?? {}).sort(),
  };
  return {
    id: data.Id,
    shortId: shortId(data.Id),
    repoTags: repoTags(data.RepoTags),
    repoDigests: repoDigests(data.RepoDigests),
    created: isoFromEngine(data.Created),
    size: data.Size,
    labels: labels(config.Labels),
    architecture: data.Architecture ?? '',
    os: data.Os ?? '',
    author: data.Author ?? '',
    comment: data.Comment ?? '',
    config: imageConfig,
    containers,
  };
}
