import { Transform } from 'class-transformer';

/** Query strings carry text: 'true'/'false' become booleans, anything else stays and fails @IsBoolean. */
export const QueryBoolean = () =>
  Transform(({ value }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value));

/** A query parameter given once is a string, given twice an array: always an array. */
export const QueryArray = () => Transform(({ value }) => (value === undefined ? undefined : Array.isArray(value) ? value : [value]));

/** A registry host as the engine names it: domain or IPv4/IPv6 literal, optional port. */
export const REGISTRY_HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/;

/** `os/arch[/variant]`, as the engine's platform parameter. */
export const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;

/** A team name, as the tokens file allows it. */
export const TEAM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const TEAM_MESSAGE = 'team must be 1-64 letters, digits, ".", "_" or "-"';
