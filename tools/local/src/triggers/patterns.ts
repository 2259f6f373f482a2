/**
 * Eventarc document path patterns as Firestore triggers use them
 * (https://cloud.google.com/eventarc/docs/path-patterns): literal segments,
 * `{name}` / `*` (one segment) and `{name=**}` / `**` (zero or more segments).
 */

type Segment =
  | { kind: "literal"; value: string }
  | { kind: "one"; name?: string }
  | { kind: "many"; name?: string };

export interface PathPattern {
  readonly raw: string;
  /** The captured params when `path` (relative, e.g. "rows/r1") matches, otherwise null. */
  match(path: string): Record<string, string> | null;
}

function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s.length > 0);
}

function parseSegment(part: string): Segment {
  const capture = /^\{([^/{}=]+)(?:=(\*\*?))?\}$/.exec(part);
  if (capture) {
    return capture[2] === "**"
      ? { kind: "many", name: capture[1] }
      : { kind: "one", name: capture[1] };
  }
  if (part === "**") return { kind: "many" };
  if (part === "*") return { kind: "one" };
  return { kind: "literal", value: part };
}

export function compilePattern(raw: string): PathPattern {
  const segments = splitPath(raw).map(parseSegment);
  const manyAt = segments.findIndex((s) => s.kind === "many");
  if (manyAt !== -1 && segments.slice(manyAt + 1).some((s) => s.kind === "many")) {
    throw new Error(`path pattern ${raw}: only one multi-segment wildcard is allowed`);
  }
  return {
    raw,
    match(path) {
      const parts = splitPath(path);
      const params: Record<string, string> = {};
      const fixed = segments.length - (manyAt === -1 ? 0 : 1);
      if (manyAt === -1 ? parts.length !== fixed : parts.length < fixed) return null;
      // Segments after the `**` are matched against the end of the path.
      const tail = manyAt === -1 ? 0 : segments.length - 1 - manyAt;
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i]!;
        if (seg.kind === "many") {
          const taken = parts.slice(i, parts.length - tail);
          if (seg.name) params[seg.name] = taken.join("/");
          continue;
        }
        const at = manyAt !== -1 && i > manyAt ? parts.length - (segments.length - i) : i;
        const part = parts[at]!;
        if (seg.kind === "literal") {
          if (seg.value !== part) return null;
        } else if (seg.name) {
          params[seg.name] = part;
        }
      }
      return params;
    },
  };
}
