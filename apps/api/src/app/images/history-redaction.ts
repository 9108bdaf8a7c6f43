import type { ImageLayer } from '@drydock/docker';

export const REDACTED = '<redacted>';

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
/** A RUN step made with build args: `|2 A=1 B=2 /bin/sh -c ...` (legacy builder), `RUN |2 ...` (BuildKit). */
const RUN_WITH_ARGS = /^((?:RUN )?\|)(\d+) /;
/** An ARG step with a default: `/bin/sh -c #(nop)  ARG A=1` (legacy builder), `ARG A=1` (BuildKit). */
const ARG_STEP = /^((?:\/bin\/sh -c #\(nop\)\s+)?ARG\s+)(.*)$/s;
const NEXT_PAIR = new RegExp(` ${NAME}=`, 'g');

/**
 * A history step's createdBy with every build arg's value replaced, its name
 * kept. The engine joins `NAME=value` pairs with spaces, so a value with a
 * space is ambiguous: a pair runs to the next ` NAME=`, the last to the
 * command (its first ` /`, the shell's path) or else its first space.
 */
export function redactBuildArgs(createdBy: string): string {
  const run = RUN_WITH_ARGS.exec(createdBy);
  if (run) {
    const count = Number(run[2]);
    let rest = createdBy.slice(run[0].length);
    const pairs: string[] = [];
    for (let i = 0; i < count; i++) {
      const name = new RegExp(`^${NAME}(?==)`).exec(rest)?.[0];
      if (name === undefined) break;
      const valueStart = name.length + 1;
      let end: number;
      if (i < count - 1) {
        NEXT_PAIR.lastIndex = valueStart;
        end = NEXT_PAIR.exec(rest)?.index ?? rest.length;
      } else {
        const command = rest.indexOf(' /', valueStart);
        const space = rest.indexOf(' ', valueStart);
        end = command >= 0 ? command : space >= 0 ? space : rest.length;
      }
      pairs.push(`${name}=${REDACTED}`);
      rest = rest.slice(end).replace(/^ /, '');
    }
    return `${run[1]}${run[2]} ${pairs.join(' ')}${rest ? ` ${rest}` : ''}`;
  }
  const arg = ARG_STEP.exec(createdBy);
  if (arg) return `${arg[1]}${(arg[2] as string).replace(new RegExp(`(${NAME})=("[^"]*"|'[^']*'|\\S*)`, 'g'), `$1=${REDACTED}`)}`;
  return createdBy;
}

/**
 * The history as `owns` allows it to be read. A step belongs to the nearest
 * image at or above it in the history that carries tags (a base image's
 * steps are its own, not the child's), else to the image itself; the values
 * of build args are shown only in steps of images whose every name `owns`.
 */
export function redactHistory(layers: ImageLayer[], imageNames: string[], owns: (names: string[]) => boolean): ImageLayer[] {
  let owner = imageNames;
  return layers.map((layer) => {
    if (layer.tags.length) owner = layer.tags;
    if (owner.length && owns(owner)) return layer;
    const createdBy = redactBuildArgs(layer.createdBy);
    return createdBy === layer.createdBy ? layer : { ...layer, createdBy };
  });
}
