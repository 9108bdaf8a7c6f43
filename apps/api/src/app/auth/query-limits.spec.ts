import { buildSchema, getIntrospectionQuery, parse, specifiedRules, validate, type OperationDefinitionNode } from 'graphql';
import { fragmentsOf, queryLimitsRule, rootFieldCount } from './query-limits';

const schema = buildSchema(`
  type Node { id: ID!, name: String, child: Node, children: [Node!]! }
  type Query { node: Node, nodes: [Node!]! }
`);

function errors(query: string, limits = { maxDepth: 5, maxFields: 50 }): string[] {
  return validate(schema, parse(query), [...specifiedRules, queryLimitsRule(limits)]).map((error) => error.message);
}

function nested(depth: number): string {
  return `{ node ${'{ child '.repeat(depth - 2)}{ id }${' }'.repeat(depth - 2)} }`;
}

describe('queryLimitsRule', () => {
  it('lets a query at the depth limit through and refuses one level more', () => {
    expect(errors(nested(5))).toEqual([]);
    expect(errors(nested(6))).toEqual(['operation is nested deeper than the limit of 5 levels']);
  });

  it('counts depth through fragments and inline fragments', () => {
    const query = `
      query Deep { node { ...A } }
      fragment A on Node { child { ... on Node { child { ...B } } } }
      fragment B on Node { child { child { id } } }`;
    expect(errors(query)).toEqual(['operation Deep is nested deeper than the limit of 5 levels']);
  });

  it('bounds alias fan-out', () => {
    const wide = `{ ${Array.from({ length: 60 }, (_, i) => `a${i}: node { id }`).join(' ')} }`;
    expect(errors(wide)[0]).toMatch(/more than the limit of 50 selections/);
  });

  it('bounds a fragment that doubles at every level, without expanding it', () => {
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1 ? `fragment F${i} on Query { node { id } }` : `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`,
    );
    const started = Date.now();
    expect(errors(`{ ...F0 } ${fragments.join(' ')}`, { maxDepth: 10, maxFields: 1000 })[0]).toMatch(/more than the limit of 1000/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('survives a fragment cycle (the specified rule reports it)', () => {
    const messages = errors('{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { ...A }');
    expect(messages.some((message) => /Cannot spread fragment "A" within itself/.test(message))).toBe(true);
  });

  it('lets the standard introspection query through at the default limits', () => {
    expect(errors(getIntrospectionQuery(), { maxDepth: 15, maxFields: 1000 })).toEqual([]);
  });
});

describe('the mutation cap', () => {
  const withMutations = buildSchema(`
    type Query { ok: Boolean }
    type Mutation { tag(to: String!): Boolean }
  `);
  const limits = { maxDepth: 5, maxFields: 500, maxMutations: 3 };
  const mutationErrors = (query: string) =>
    validate(withMutations, parse(query), [...specifiedRules, queryLimitsRule(limits)]).map((error) => error.message);
  const aliased = (n: number) => `mutation M { ${Array.from({ length: n }, (_, i) => `t${i}: tag(to: "x${i}")`).join(' ')} }`;

  it('lets as many mutations as the cap through and refuses one more, counting every alias', () => {
    expect(mutationErrors(aliased(3))).toEqual([]);
    expect(mutationErrors(aliased(4))).toEqual(['operation M runs 4 mutations; the limit is 3 per operation (aliases count)']);
  });

  it('counts mutations hidden in fragments and inline fragments', () => {
    const query = `
      mutation M { ...Two ... on Mutation { c: tag(to: "c") } }
      fragment Two on Mutation { a: tag(to: "a") b: tag(to: "b") ...One }
      fragment One on Mutation { d: tag(to: "d") }`;
    const operation = parse(query).definitions[0] as OperationDefinitionNode;
    expect(rootFieldCount(operation, fragmentsOf(parse(query).definitions))).toBe(4);
    expect(mutationErrors(query)).toEqual(['operation M runs 4 mutations; the limit is 3 per operation (aliases count)']);
  });

  it('does not count __typename, and does not cap queries', () => {
    expect(mutationErrors(`mutation { __typename a: tag(to: "a") b: tag(to: "b") c: tag(to: "c") }`)).toEqual([]);
    expect(mutationErrors(`{ a: ok b: ok c: ok d: ok e: ok }`)).toEqual([]);
  });
});
