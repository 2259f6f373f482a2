// A deliberately small formula evaluator: arithmetic, comparison and `&` over numbers, strings,
// booleans and cell references (same or other sheet), plus a handful of cheap functions.
// Anything else evaluates to #NAME? (unknown function) or #ERROR! (unparsable), which is what
// Sheets shows for those cases, so code reading values sees an error value rather than a guess.

import { lettersToColumn, splitSheet } from "./a1.js";
import type { NumberFormat } from "./dates.js";

export class CellError {
  /** `message` is the explanation Sheets attaches (ErrorValue.message), where the emulator knows it. */
  constructor(
    readonly code: string,
    readonly message?: string,
  ) {}
}

export type Scalar = number | string | boolean | CellError;
/** null stands for an empty cell. */
export type Value = Scalar | null;

export interface Evaluated {
  value: Scalar;
  format?: NumberFormat;
}

export interface FormulaContext {
  /** Reads a cell's effective value; sheet undefined means the formula's own sheet. */
  cell(sheet: string | undefined, row: number, col: number): Evaluated | null | CellError;
  /** Current time as a serial number in the spreadsheet's zone. */
  nowSerial(): number;
}

type Token =
  | { t: "num"; v: number }
  | { t: "str"; v: string }
  | { t: "ref"; sheet: string | undefined; text: string }
  | { t: "fn"; name: string }
  | { t: "op"; v: string }
  | { t: "bool"; v: boolean }
  | { t: "err"; code: string };

class ParseError extends Error {}

const ERROR_LITERAL_MESSAGES: Record<string, string> = {
  "#REF!": "Reference does not exist.",
};

const FUNCTIONS = new Set([
  "SUM",
  "AVERAGE",
  "MIN",
  "MAX",
  "COUNT",
  "NOW",
  "TODAY",
  "IF",
  "CONCATENATE",
]);

const REF_RE = /^\$?[A-Za-z]{1,4}\$?[0-9]+(?::\$?[A-Za-z]{1,4}\$?[0-9]+)?/;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const rest = src.slice(i);
    const ch = src[i] ?? "";
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    // Error literals, e.g. the `#REF!` a deleted row leaves in formulas that named it.
    const err = /^#(?:REF!|N\/A|NAME\?|DIV\/0!|VALUE!|NUM!|NULL!|ERROR!)/i.exec(rest);
    if (err) {
      out.push({ t: "err", code: err[0].toUpperCase() });
      i += err[0].length;
      continue;
    }
    const num = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(rest);
    if (num) {
      out.push({ t: "num", v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      let s = "";
      for (;;) {
        if (j >= src.length) throw new ParseError("unterminated string");
        if (src[j] === '"') {
          if (src[j + 1] === '"') {
            s += '"';
            j += 2;
            continue;
          }
          break;
        }
        s += src[j];
        j += 1;
      }
      out.push({ t: "str", v: s });
      i = j + 1;
      continue;
    }
    // Sheet-qualified reference: 'My Sheet'!A1 or Data!A1:B2.
    const qualified = /^('(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!/.exec(rest);
    if (qualified) {
      const split = splitSheet(qualified[0].slice(0, -1));
      const ref = REF_RE.exec(rest.slice(qualified[0].length));
      if (!split || !ref) throw new ParseError("bad reference");
      out.push({ t: "ref", sheet: split.sheet ?? split.cells, text: ref[0] });
      i += qualified[0].length + ref[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(rest);
    if (ident) {
      const after = src.slice(i + ident[0].length).trimStart();
      if (after.startsWith("(")) {
        out.push({ t: "fn", name: ident[0].toUpperCase() });
        i += ident[0].length;
        continue;
      }
      const ref = REF_RE.exec(rest);
      if (ref) {
        out.push({ t: "ref", sheet: undefined, text: ref[0] });
        i += ref[0].length;
        continue;
      }
      const upper = ident[0].toUpperCase();
      if (upper === "TRUE" || upper === "FALSE") {
        out.push({ t: "bool", v: upper === "TRUE" });
        i += ident[0].length;
        continue;
      }
      // A bare unknown name (a named range, a typo) is #NAME? in Sheets.
      out.push({ t: "fn", name: `#${upper}` });
      i += ident[0].length;
      continue;
    }
    const op = /^(?:<=|>=|<>|[-+*/^&=<>(),:%])/.exec(rest);
    if (op) {
      out.push({ t: "op", v: op[0] });
      i += op[0].length;
      continue;
    }
    throw new ParseError(`unexpected ${ch}`);
  }
  return out;
}

interface RangeValue {
  range: Value[];
}
type EV = { v: Value; format?: NumberFormat } | RangeValue;

const isRange = (e: EV): e is RangeValue => "range" in e;

function parseRefText(text: string): { r0: number; r1: number; c0: number; c1: number } {
  const parts = text.replace(/\$/g, "").split(":");
  const cell = (s: string) => {
    const m = /^([A-Za-z]+)([0-9]+)$/.exec(s);
    if (!m) throw new ParseError("bad ref");
    return { c: lettersToColumn(m[1] ?? "A"), r: Number(m[2]) - 1 };
  };
  const a = cell(parts[0] ?? "");
  const b = parts[1] === undefined ? a : cell(parts[1]);
  return {
    r0: Math.min(a.r, b.r),
    r1: Math.max(a.r, b.r),
    c0: Math.min(a.c, b.c),
    c1: Math.max(a.c, b.c),
  };
}

/** `fn` and `param` name the operator in Sheets' message (`Function MULTIPLY parameter 1 …`). */
function toNumber(v: Value, fn?: string, param = 1): number | CellError {
  if (v === null) return 0;
  if (v instanceof CellError) return v;
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return new CellError(
    "#VALUE!",
    fn &&
      `Function ${fn} parameter ${param} expects number values. But '${v}' is a text and cannot be coerced to a number.`,
  );
}

function toText(v: Value): string | CellError {
  if (v === null) return "";
  if (v instanceof CellError) return v;
  if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
  return String(v);
}

const isTemporal = (f: NumberFormat | undefined) =>
  f !== undefined && (f.type === "DATE" || f.type === "DATE_TIME" || f.type === "TIME");

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly ctx: FormulaContext,
  ) {}

  private peekOp(...ops: string[]): string | undefined {
    const tok = this.tokens[this.pos];
    return tok && tok.t === "op" && ops.includes(tok.v) ? tok.v : undefined;
  }

  private expect(op: string): void {
    if (!this.peekOp(op)) throw new ParseError(`expected ${op}`);
    this.pos += 1;
  }

  parseAll(): EV {
    const v = this.comparison();
    if (this.pos !== this.tokens.length) throw new ParseError("trailing input");
    return v;
  }

  private scalar(e: EV): { v: Value; format?: NumberFormat } {
    // A multi-cell range used as a scalar is #VALUE! (no implicit intersection here).
    if (isRange(e))
      return e.range.length === 1 ? { v: e.range[0] ?? null } : { v: new CellError("#VALUE!") };
    return e;
  }

  private comparison(): EV {
    let left = this.concat();
    for (
      let op = this.peekOp("=", "<>", "<", ">", "<=", ">=");
      op;
      op = this.peekOp("=", "<>", "<", ">", "<=", ">=")
    ) {
      this.pos += 1;
      const a = this.scalar(left).v;
      const b = this.scalar(this.concat()).v;
      if (a instanceof CellError) return { v: a };
      if (b instanceof CellError) return { v: b };
      const norm = (x: Value) => (typeof x === "string" ? x.toLowerCase() : (x ?? 0));
      const [x, y] = [norm(a), norm(b)];
      const cmp = x < y ? -1 : x > y ? 1 : 0;
      const result = {
        "=": cmp === 0,
        "<>": cmp !== 0,
        "<": cmp < 0,
        ">": cmp > 0,
        "<=": cmp <= 0,
        ">=": cmp >= 0,
      }[op];
      left = { v: result ?? false };
    }
    return left;
  }

  private concat(): EV {
    let left = this.additive();
    while (this.peekOp("&")) {
      this.pos += 1;
      const a = toText(this.scalar(left).v);
      const b = toText(this.scalar(this.additive()).v);
      left = { v: a instanceof CellError ? a : b instanceof CellError ? b : a + b };
    }
    return left;
  }

  private additive(): EV {
    let left = this.multiplicative();
    for (let op = this.peekOp("+", "-"); op; op = this.peekOp("+", "-")) {
      this.pos += 1;
      const l = this.scalar(left);
      const r = this.scalar(this.multiplicative());
      const fn = op === "+" ? "ADD" : "MINUS";
      const a = toNumber(l.v, fn, 1);
      const b = toNumber(r.v, fn, 2);
      if (a instanceof CellError) left = { v: a };
      else if (b instanceof CellError) left = { v: b };
      else {
        // date ± number stays a date; date - date is a plain number of days.
        const format =
          isTemporal(l.format) !== isTemporal(r.format) ? (l.format ?? r.format) : undefined;
        left = { v: op === "+" ? a + b : a - b, ...(format ? { format } : {}) };
      }
    }
    return left;
  }

  private multiplicative(): EV {
    let left = this.power();
    for (let op = this.peekOp("*", "/"); op; op = this.peekOp("*", "/")) {
      this.pos += 1;
      const fn = op === "*" ? "MULTIPLY" : "DIVIDE";
      const a = toNumber(this.scalar(left).v, fn, 1);
      const b = toNumber(this.scalar(this.power()).v, fn, 2);
      if (a instanceof CellError) left = { v: a };
      else if (b instanceof CellError) left = { v: b };
      else if (op === "/" && b === 0) {
        left = { v: new CellError("#DIV/0!", "Function DIVIDE parameter 2 cannot be zero.") };
      } else left = { v: op === "*" ? a * b : a / b };
    }
    return left;
  }

  private power(): EV {
    let left = this.unary();
    while (this.peekOp("^")) {
      this.pos += 1;
      const a = toNumber(this.scalar(left).v, "POW", 1);
      const b = toNumber(this.scalar(this.unary()).v, "POW", 2);
      left = { v: a instanceof CellError ? a : b instanceof CellError ? b : a ** b };
    }
    return left;
  }

  private unary(): EV {
    const op = this.peekOp("-", "+");
    if (op) {
      this.pos += 1;
      const inner = this.scalar(this.unary());
      const n = toNumber(inner.v, op === "-" ? "UMINUS" : "UPLUS");
      return { v: n instanceof CellError ? n : op === "-" ? -n : n };
    }
    const base = this.primary();
    if (this.peekOp("%")) {
      this.pos += 1;
      const n = toNumber(this.scalar(base).v, "UNARY_PERCENT");
      return { v: n instanceof CellError ? n : n / 100 };
    }
    return base;
  }

  private primary(): EV {
    const tok = this.tokens[this.pos];
    if (!tok) throw new ParseError("unexpected end");
    this.pos += 1;
    switch (tok.t) {
      case "num":
      case "str":
      case "bool":
        return { v: tok.v };
      case "err":
        return { v: new CellError(tok.code, ERROR_LITERAL_MESSAGES[tok.code]) };
      case "ref":
        return this.reference(tok.sheet, tok.text);
      case "fn":
        return this.call(tok.name);
      case "op":
        if (tok.v === "(") {
          const v = this.comparison();
          this.expect(")");
          return v;
        }
        throw new ParseError(`unexpected ${tok.v}`);
    }
  }

  private reference(sheet: string | undefined, text: string): EV {
    const { r0, r1, c0, c1 } = parseRefText(text);
    const read = (r: number, c: number): { v: Value; format?: NumberFormat } => {
      const got = this.ctx.cell(sheet, r, c);
      if (got === null) return { v: null };
      if (got instanceof CellError) return { v: got };
      return { v: got.value, ...(got.format ? { format: got.format } : {}) };
    };
    if (r0 === r1 && c0 === c1 && !text.includes(":")) return read(r0, c0);
    const range: Value[] = [];
    for (let r = r0; r <= r1; r += 1) for (let c = c0; c <= c1; c += 1) range.push(read(r, c).v);
    return { range };
  }

  private args(): EV[] {
    this.expect("(");
    const out: EV[] = [];
    if (this.peekOp(")")) {
      this.pos += 1;
      return out;
    }
    for (;;) {
      out.push(this.comparison());
      if (this.peekOp(",")) {
        this.pos += 1;
        continue;
      }
      this.expect(")");
      return out;
    }
  }

  private call(name: string): EV {
    if (name.startsWith("#")) {
      return { v: new CellError("#NAME?", `Unknown range name: '${name.slice(1)}'.`) };
    }
    const args = this.args();
    const valuesOf = (a: EV): Value[] =>
      isRange(a) ? a.range.filter((v) => typeof v === "number" || v instanceof CellError) : [a.v];
    const flat = (): Value[] => args.flatMap(valuesOf);
    const numbers = (): number[] | CellError => {
      const out: number[] = [];
      for (const [i, a] of args.entries()) {
        for (const v of valuesOf(a)) {
          const n = toNumber(v, name, i + 1);
          if (n instanceof CellError) return n;
          out.push(n);
        }
      }
      return out;
    };
    const numeric = (f: (ns: number[]) => number | CellError): EV => {
      const ns = numbers();
      return { v: ns instanceof CellError ? ns : f(ns) };
    };
    switch (name) {
      case "SUM":
        return numeric((ns) => ns.reduce((s, n) => s + n, 0));
      case "AVERAGE":
        return numeric((ns) =>
          ns.length
            ? ns.reduce((s, n) => s + n, 0) / ns.length
            : new CellError(
                "#DIV/0!",
                "Evaluation of function AVERAGE caused a divide by zero error.",
              ),
        );
      case "MIN":
        return numeric((ns) => (ns.length ? Math.min(...ns) : 0));
      case "MAX":
        return numeric((ns) => (ns.length ? Math.max(...ns) : 0));
      case "COUNT":
        return { v: flat().filter((v) => typeof v === "number").length };
      case "NOW":
        return {
          v: this.ctx.nowSerial(),
          format: { type: "DATE_TIME", pattern: "m/d/yyyy h:mm:ss" },
        };
      case "TODAY":
        return {
          v: Math.floor(this.ctx.nowSerial()),
          format: { type: "DATE", pattern: "m/d/yyyy" },
        };
      case "IF": {
        const cond = toNumber(this.scalar(args[0] ?? { v: null }).v);
        if (cond instanceof CellError) return { v: cond };
        const pick = cond !== 0 ? args[1] : args[2];
        return pick ? this.scalar(pick) : { v: cond !== 0 };
      }
      case "CONCATENATE": {
        let s = "";
        for (const v of args.flatMap((a) => (isRange(a) ? a.range : [a.v]))) {
          const t = toText(v);
          if (t instanceof CellError) return { v: t };
          s += t;
        }
        return { v: s };
      }
      default:
        return { v: new CellError("#NAME?") };
    }
  }
}

/** Evaluates `=…`; the result is what Sheets would show as the cell's effective value. */
export function evaluateFormula(formula: string, ctx: FormulaContext): Evaluated {
  try {
    const tokens = tokenize(formula.slice(1));
    // Sheets reports an unknown function as #NAME? whatever its arguments look like.
    const unknown = tokens.find((t) => t.t === "fn" && !FUNCTIONS.has(t.name));
    if (unknown?.t === "fn") {
      return {
        value: unknown.name.startsWith("#")
          ? new CellError("#NAME?", `Unknown range name: '${unknown.name.slice(1)}'.`)
          : new CellError("#NAME?", `Unknown function: '${unknown.name}'.`),
      };
    }
    const result = new Parser(tokens, ctx).parseAll();
    if ("range" in result) {
      // Sheets spills arrays; the emulator only keeps the top-left value.
      return { value: result.range[0] ?? "" };
    }
    // `=A9` on an empty cell shows as blank in Sheets.
    const value = result.v ?? "";
    return result.format ? { value, format: result.format } : { value };
  } catch (e) {
    if (e instanceof ParseError) return { value: new CellError("#ERROR!", "Formula parse error.") };
    throw e;
  }
}
