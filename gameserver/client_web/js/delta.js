// State deltas of protocol version 2 (docs/protocol.md, "Deltas"): the document a
// participant holds, and applying a delta's ops to it exactly as the server's
// gameserver/protocol/delta.py does. No DOM, no connection: pure data in, data out.
//
// An op is an array: a path of non-negative integers, then one value. A step into an
// array is the element's index; a step into a map is the index of the key among the
// map's keys sorted by code point (every key a view uses is ASCII, where the plain
// string sort below is code-point order). [...path, value] replaces the element at the
// path; [...path, -1, items] appends items to the array at the path; [...path, -2, n]
// drops its first n elements; [...path, -3, n] keeps only its first n.

export const APPEND = -1;
export const DROP_FRONT = -2;
export const KEEP_FRONT = -3;

/** The keys of a document, in the order paths number them (0-5). */
export const DOCUMENT_KEYS = ["clock", "legal", "outcome", "seats", "to_act", "view"];

/** Ops that do not fit the document they were applied to: ask for a full state. */
export class DeltaError extends Error {}

/** The document a full `state` push starts (`legal` is empty while the seat may not
 *  act: a full state resets what the server holds for this client to the same). */
export function documentOf(state) {
  return {
    clock: state.clock ?? null,
    legal: state.legal_moves ?? [],
    outcome: state.outcome ?? null,
    seats: state.seats,
    to_act: state.to_act,
    view: state.view,
  };
}

/** The `legal_moves` a full state shows for `seat`: the document's list while the seat
 *  may act, else null (always null for a spectator). */
export function legalMovesOf(document, seat) {
  if (seat === null || seat === undefined || !document.to_act.includes(seat)) return null;
  return document.legal.slice();
}

/** The document `ops` turn `document` into; `document` itself is not changed (only the
 *  containers along each op's path are copied). Throws DeltaError when an op does not
 *  fit: the caller must drop what it holds and ask for a full state (`sync`). */
export function applyOps(document, ops) {
  if (!Array.isArray(ops)) throw new DeltaError("ops must be an array");
  const result = { ...document };
  for (const op of ops) applyOp(result, op);
  return result;
}

function applyOp(root, op) {
  if (!Array.isArray(op) || op.length < 2) throw new DeltaError("an op is an array of a path and a value");
  const path = op.slice(0, -1);
  const value = op[op.length - 1];
  let kind = 0;
  const last = path[path.length - 1];
  if (path.length >= 2 && Number.isInteger(last) && last < 0) kind = path.pop();
  let parent = root;
  for (let depth = 0; depth < path.length; depth += 1) {
    if (depth === path.length - 1 && kind === 0) {
      parent[keyAt(parent, path[depth])] = value;
      return;
    }
    parent = copyChild(parent, path[depth]);
  }
  changeArray(parent, kind, value);
}

function isMap(value) {
  return value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype;
}

function keyAt(container, step) {
  if (!Number.isInteger(step) || step < 0) throw new DeltaError(`a path step must be a non-negative integer, not ${step}`);
  if (isMap(container)) {
    const keys = Object.keys(container).sort();
    if (step >= keys.length) throw new DeltaError(`no key number ${step} in a map of ${keys.length}`);
    return keys[step];
  }
  if (Array.isArray(container)) {
    if (step >= container.length) throw new DeltaError(`no element ${step} in an array of ${container.length}`);
    return step;
  }
  throw new DeltaError("a path goes through a value that is neither a map nor an array");
}

// Replace the child at `step` by a shallow copy (so the caller's document stays as it
// was) and return the copy.
function copyChild(container, step) {
  const key = keyAt(container, step);
  const child = container[key];
  let copy;
  if (isMap(child)) copy = { ...child };
  else if (Array.isArray(child)) copy = child.slice();
  else throw new DeltaError("a path goes through a value that is neither a map nor an array");
  container[key] = copy;
  return copy;
}

function changeArray(array, kind, value) {
  if (!Array.isArray(array)) throw new DeltaError("an array op names a value that is not an array");
  if (kind === APPEND) {
    if (!Array.isArray(value)) throw new DeltaError("an append op carries an array of items");
    for (const item of value) array.push(item);
    return;
  }
  if (!Number.isInteger(value) || value < 0 || value > array.length) {
    throw new DeltaError(`an array op's count must be 0-${array.length}, not ${value}`);
  }
  if (kind === DROP_FRONT) array.splice(0, value);
  else if (kind === KEEP_FRONT) array.splice(value);
  else throw new DeltaError(`unknown array op ${kind}`);
}
