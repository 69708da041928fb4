/**
 * Calls between models (a pipeline calls the models its steps name) form a graph that must have no
 * cycle: a pipeline whose call comes back to it waits on its own concurrency slots, which it holds
 * while it waits, and deadlocks them forever. Triton refuses circular ensembles at load for the
 * same reason ("circular dependency between ensembles").
 */

/** Model name → the models it calls. */
export type CallEdges = (model: string) => Iterable<string>;

/**
 * A path of calls from `start` back to `start` (`[a, b, a]`; `[a, a]` for a self-call), or
 * undefined. Depth-first, each model visited once: linear in the size of the graph.
 */
export function findCycle(start: string, edges: CallEdges): string[] | undefined {
  const visited = new Set<string>();
  const path: string[] = [start];
  // Iterative, so that a long chain of pipelines cannot exhaust the stack.
  const stack: Array<Iterator<string>> = [edges(start)[Symbol.iterator]()];
  visited.add(start);
  while (stack.length > 0) {
    const next = stack.at(-1)!.next();
    if (next.done) {
      stack.pop();
      path.pop();
      continue;
    }
    const model = next.value;
    if (model === start) return [...path, start];
    if (visited.has(model)) continue;
    visited.add(model);
    path.push(model);
    stack.push(edges(model)[Symbol.iterator]());
  }
  return undefined;
}

/** The reason a model in a cycle is UNAVAILABLE, naming the cycle. */
export function cycleReason(cycle: readonly string[]): string {
  return `circular dependency: ${cycle.join(' → ')} (a pipeline may not call itself, directly or through other models)`;
}
