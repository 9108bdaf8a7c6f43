import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  type ASTVisitor,
  type DefinitionNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

export interface QueryLimits {
  /** Deepest field nesting an operation may have (`{ a { b } }` is 2). */
  maxDepth: number;
  /** Most selections (fields and fragment spreads) an operation may make, fragments expanded: bounds alias and fragment fan-out. */
  maxFields: number;
  /** Most mutation fields (aliases each count, fragments expanded) one operation may run; unset: no cap. */
  maxMutations?: number;
}

interface Cost {
  depth: number;
  fields: number;
}

/**
 * A validation rule that refuses operations nested deeper than maxDepth or
 * selecting more than maxFields fields. It runs beside the specified rules, so
 * it cannot count on NoFragmentCycles having refused a cycle: it guards
 * against one itself, and stops counting once a limit is passed.
 */
export function queryLimitsRule(limits: QueryLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context.getDocument().definitions);
    return {
      OperationDefinition(operation: OperationDefinitionNode) {
        const cost: Cost = { depth: 0, fields: 0 };
        measure(operation.selectionSet, 0, new Set(), fragments, cost, limits);
        const name = operation.name ? ` ${operation.name.value}` : '';
        if (cost.depth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(`operation${name} is nested deeper than the limit of ${limits.maxDepth} levels`, { nodes: [operation] }),
          );
        } else if (cost.fields > limits.maxFields) {
          context.reportError(
            new GraphQLError(`operation${name} makes more than the limit of ${limits.maxFields} selections (fields, fragments expanded)`, { nodes: [operation] }),
          );
        } else if (limits.maxMutations !== undefined && operation.operation === OperationTypeNode.MUTATION) {
          const mutations = rootFieldCount(operation, fragments);
          if (mutations > limits.maxMutations) {
            context.reportError(
              new GraphQLError(`operation${name} runs ${mutations} mutations; the limit is ${limits.maxMutations} per operation (aliases count)`, { nodes: [operation] }),
            );
          }
        }
      },
    };
  };
}

/**
 * The fields an operation selects at its root, each alias once, fragments
 * expanded: for a mutation, how many mutations it runs. A fragment cycle
 * counts once (the specified rules refuse it anyway).
 */
export function rootFieldCount(
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): number {
  const count = (selectionSet: SelectionSetNode, visiting: Set<string>): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) total += selection.name.value.startsWith('__') ? 0 : 1;
      else if (selection.kind === Kind.INLINE_FRAGMENT) total += count(selection.selectionSet, visiting);
      else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || visiting.has(fragment.name.value)) continue;
        visiting.add(fragment.name.value);
        total += count(fragment.selectionSet, visiting);
        visiting.delete(fragment.name.value);
      }
    }
    return total;
  };
  return count(operation.selectionSet, new Set());
}

export function fragmentsOf(definitions: readonly DefinitionNode[]): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return fragments;
}

function measure(
  selectionSet: SelectionSetNode,
  depth: number,
  visiting: Set<string>,
  fragments: Map<string, FragmentDefinitionNode>,
  cost: Cost,
  limits: QueryLimits,
): void {
  for (const selection of selectionSet.selections) {
    if (cost.depth > limits.maxDepth || cost.fields > limits.maxFields) return;
    // Spreads count too: a chain of fragments that each spread the next twice costs work without selecting a field.
    cost.fields += 1;
    switch (selection.kind) {
      case Kind.FIELD:
        cost.depth = Math.max(cost.depth, depth + 1);
        if (selection.selectionSet) measure(selection.selectionSet, depth + 1, visiting, fragments, cost, limits);
        break;
      case Kind.INLINE_FRAGMENT:
        measure(selection.selectionSet, depth, visiting, fragments, cost, limits);
        break;
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // An unknown fragment or a cycle is for the specified rules to report.
        if (!fragment || visiting.has(name)) break;
        visiting.add(name);
        measure(fragment.selectionSet, depth, visiting, fragments, cost, limits);
        visiting.delete(name);
        break;
      }
    }
  }
}
