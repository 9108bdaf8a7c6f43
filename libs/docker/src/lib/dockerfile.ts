import { DockerfileParser } from 'dockerfile-ast';
import { DrydockError, ErrorCode } from './errors';
import { parseReference } from './reference';

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
  stages: string[];
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
      const image = (parts[0] ?? '').replace(/\$\{?(\w+)\}?/g, (_, name: string) => args.get(name) ?? buildArgs[name] ?? '');
      if (!image) throw invalid(line, 'FROM names no image');
      const alias = parts[1]?.toUpperCase() === 'AS' ? (parts[2] ?? '') : '';
      if (image !== 'scratch' && !stages.includes(image)) {
        try {
          baseImages.push(parseReference(image).repository);
        } catch (error) {
          throw invalid(line, (error as Error).message);
        }
      }
      stages.push(alias || `#${stages.length}`);
      finalLayers = 0;
      continue;
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
    stages,
  };
}
