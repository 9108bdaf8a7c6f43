import { DockerfileParser, type Flag, type Instruction } from 'dockerfile-ast';
import { DrydockError, ErrorCode } from '@drydock/core';
import { parseReference } from '@drydock/core';

/** The seed's rule: an image has at most 127 layers (the engine's limit on stacked filesystems). */
export const MAX_LAYERS = 127;

const INSTRUCTIONS = new Set([
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT',
  'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
]);
/** Instructions that add a filesystem layer with the legacy builder. */
const LAYER_INSTRUCTIONS = new Set(['RUN', 'COPY', 'ADD']);

export interface DockerfileSummary {
  /** Build steps as the legacy builder counts them (`Step i/N`). */
  steps: number;
  /** Layers the final stage adds on top of its base. */
  layers: number;
  /** Registry images the FROM lines name (stage names and `scratch` excluded), ARGs substituted. */
  baseImages: string[];
  /** Repositories named by `COPY --from=` and `RUN --mount=from=` that are not stages: the builder fetches those too. */
  copyFromImages: string[];
  /** Every image the build reads, FROM and --from alike, as the engine resolves it (`repo:tag` or `repo@digest`). */
  images: string[];
  stages: string[];
}

/** The `--from=` of COPY/ADD and the `from=` of each RUN `--mount=`: the sources a step may read from. */
function fromFlags(keyword: string, instruction: Instruction): string[] {
  const flags = (instruction as Partial<{ getFlags(): Flag[] }>).getFlags?.() ?? [];
  const values = (name: string) => flags.filter((flag) => flag.getName().toLowerCase() === name).map((flag) => flag.getValue() ?? '');
  if (keyword === 'COPY' || keyword === 'ADD') return values('from');
  if (keyword !== 'RUN') return [];
  return values('mount')
    .flatMap((mount) => mount.split(','))
    .filter((option) => /^from=/i.test(option))
    .map((option) => option.slice('from='.length));
}

function engineReference(image: string): { repository: string; engineName: string } {
  const ref = parseReference(image);
  return { repository: ref.repository, engineName: ref.digest ? `${ref.repository}@${ref.digest}` : `${ref.repository}:${ref.effectiveTag}` };
}

function invalid(line: number, message: string): DrydockError {
  return new DrydockError(ErrorCode.DOCKERFILE_INVALID, `Dockerfile line ${line + 1}: ${message}`);
}

/**
 * Checks a Dockerfile before any engine call, so a build that cannot work is a
 * 400 and not a queued job that fails later: no FROM, an unknown instruction,
 * a FROM that is not a valid reference, or more layers than the engine allows.
 */
export function checkDockerfile(text: string, buildArgs: Record<string, string> = {}, target?: string): DockerfileSummary {
  if (!text.trim()) throw new DrydockError(ErrorCode.DOCKERFILE_INVALID, 'the Dockerfile is empty');
  const dockerfile = DockerfileParser.parse(text);
  const instructions = dockerfile.getInstructions();

  const args = new Map<string, string>();
  const stages: string[] = [];
  const baseImages: string[] = [];
  const copyFromImages: string[] = [];
  const images: string[] = [];
  /** ARGs declared in the current stage: `--from=` values may use them as FROM lines use the global ones. */
  let stageArgs = new Map<string, string>();
  const substitute = (text: string) =>
    text.replace(/\$\{?(\w+)\}?/g, (_, name: string) => stageArgs.get(name) ?? args.get(name) ?? buildArgs[name] ?? '');
  const named = (image: string, line: number, into: string[]) => {
    try {
      const ref = engineReference(image);
      into.push(ref.repository);
      images.push(ref.engineName);
    } catch (error) {
      throw invalid(line, (error as Error).message);
    }
  };
  let seenFrom = false;
  let finalLayers = 0;

  for (const instruction of instructions) {
    const keyword = instruction.getKeyword().toUpperCase();
    const line = instruction.getRange().start.line;
    if (!INSTRUCTIONS.has(keyword)) throw invalid(line, `unknown instruction ${instruction.getKeyword()}`);
    if (keyword === 'ARG' && !seenFrom) {
      // ARGs before the first FROM parameterise FROM lines: their defaults give way to build args.
      const [name, value] = (instruction.getArgumentsContent() ?? '').split('=', 2);
      if (name) args.set(name.trim(), buildArgs[name.trim()] ?? value?.trim() ?? '');
      continue;
    }
    if (!seenFrom && keyword !== 'FROM') throw invalid(line, `${keyword} before the first FROM`);
    if (keyword === 'FROM') {
      seenFrom = true;
      if (stages.length && target && stages[stages.length - 1] === target) break;
      const parts = (instruction.getArgumentsContent() ?? '').split(/\s+/).filter((p) => !p.startsWith('--'));
      stageArgs = new Map();
      const image = substitute(parts[0] ?? '');
      if (!image) throw invalid(line, 'FROM names no image');
      const alias = parts[1]?.toUpperCase() === 'AS' ? (parts[2] ?? '').toLowerCase() : '';
      if (image !== 'scratch' && !stages.includes(image.toLowerCase())) named(image, line, baseImages);
      stages.push(alias || `#${stages.length}`);
      finalLayers = 0;
      continue;
    }
    if (keyword === 'ARG') {
      const [name, value] = (instruction.getArgumentsContent() ?? '').split('=', 2);
      if (name) stageArgs.set(name.trim(), buildArgs[name.trim()] ?? value?.trim() ?? args.get(name.trim()) ?? '');
    }
    for (const raw of fromFlags(keyword, instruction)) {
      const source = substitute(raw);
      if (!source) throw invalid(line, `${keyword} --from names no stage or image`);
      // A stage is named, or given by its index among the stages before this one.
      const isStage = stages.includes(source.toLowerCase()) || (/^\d+$/.test(source) && Number(source) < stages.length);
      if (!isStage) named(source, line, copyFromImages);
    }
    if (LAYER_INSTRUCTIONS.has(keyword)) finalLayers++;
  }
  if (!seenFrom) throw new DrydockError(ErrorCode.DOCKERFILE_INVALID, 'the Dockerfile has no FROM instruction');
  if (target && !stages.includes(target)) {
    throw new DrydockError(ErrorCode.DOCKERFILE_INVALID, `target stage "${target}" is not in the Dockerfile`);
  }
  if (finalLayers > MAX_LAYERS) {
    throw new DrydockError(
      ErrorCode.DOCKERFILE_INVALID,
      `the image would have ${finalLayers} layers from RUN, COPY and ADD; the engine allows at most ${MAX_LAYERS}`,
    );
  }
  return {
    steps: instructions.length,
    layers: finalLayers,
    baseImages: [...new Set(baseImages)],
    copyFromImages: [...new Set(copyFromImages)],
    images: [...new Set(images)],
    stages,
  };
}
