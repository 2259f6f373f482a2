// Partial responses (`fields=`): Google's field-mask syntax, both dotted paths
// (`properties.timeZone,sheets.properties`) and sub-selections (`sheets(properties(sheetId,title))`).
// Without a schema, unknown names simply select nothing (Google would answer 400 for those).

export type FieldTree = Map<string, FieldTree | true>;

export function parseFields(text: string): FieldTree {
  let pos = 0;
  const name = (): string => {
    const m = /^[A-Za-z0-9_*@$]+/.exec(text.slice(pos));
    if (!m) throw new Error(`Invalid field selection ${text}`);
    pos += m[0].length;
    return m[0];
  };
  const merge = (tree: FieldTree, key: string, sub: FieldTree | true) => {
    const prev = tree.get(key);
    if (prev === true || sub === true) tree.set(key, true);
    else if (prev) for (const [k, v] of sub) merge(prev, k, v);
    else tree.set(key, sub);
  };
  const list = (): FieldTree => {
    const tree: FieldTree = new Map();
    for (;;) {
      const path = [name()];
      while (text[pos] === ".") {
        pos += 1;
        path.push(name());
      }
      let leaf: FieldTree | true = true;
      if (text[pos] === "(") {
        pos += 1;
        leaf = list();
        if (text[pos] !== ")") throw new Error(`Invalid field selection ${text}`);
        pos += 1;
      }
      const node = path.reduceRight<FieldTree | true>((acc, key) => new Map([[key, acc]]), leaf);
      if (node !== true) for (const [k, v] of node) merge(tree, k, v);
      if (text[pos] !== ",") return tree;
      pos += 1;
    }
  };
  const tree = list();
  if (pos !== text.length) throw new Error(`Invalid field selection ${text}`);
  return tree;
}

export function applyFields(value: unknown, tree: FieldTree | true): unknown {
  if (tree === true || tree.has("*")) return value;
  if (Array.isArray(value)) return value.map((v) => applyFields(v, tree));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of tree) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = applyFields(v, sub);
  }
  return out;
}

/** True when the mask selects `path` or anything inside it (e.g. `sheets.data` for grid data). */
export function selects(tree: FieldTree | true, path: string[]): boolean {
  let node: FieldTree | true = tree;
  for (const key of path) {
    if (node === true || node.has("*")) return true;
    const next: FieldTree | true | undefined = node.get(key);
    if (next === undefined) return false;
    node = next;
  }
  return true;
}
