/**
 * What a Jinja expression can evaluate to, as far as the syntax tree tells: a number, a string, or
 * unknown. The chat-template check uses it to tell `messages[loop.index0 - 1]` (integer indexing of a
 * list, in Qwen's, GLM's and MiniMax's official templates) from `messages['__cla' ~ 'ss__']` (an
 * attribute name built at render time). Fail closed: anything that can produce a string — a string
 * literal, `~`, `+`/`*`/`%` without a number on the other side, a filter other than the numeric ones,
 * a call, a variable once set to a string — counts as a string.
 */
export type Node = { type?: string; [k: string]: unknown };
export type Kind = "num" | "str" | "any";

/** Filters whose result is always a number (or a boolean). */
const NUMERIC_FILTERS = new Set(["length", "count", "int", "float", "abs", "round", "wordcount"]);
const COMPARISONS = new Set(["==", "!=", "<", ">", "<=", ">=", "in", "not in", "is", "is not"]);

const join = (a: Kind, b: Kind): Kind => (a === "str" || b === "str" ? "str" : a === "num" && b === "num" ? "num" : "any");

/** A variable's name as the template writes it: `x`, or `ns.x` for a namespace attribute. */
export function varName(n: Node | undefined): string | undefined {
  if (n?.type === "Identifier") return n.value as string;
  if (n?.type === "MemberExpression" && !n.computed) {
    const obj = varName(n.object as Node);
    const prop = n.property as Node;
    return obj && prop?.type === "Identifier" ? `${obj}.${prop.value as string}` : undefined;
  }
  return undefined;
}

function filterName(n: Node): string | undefined {
  const f = n.filter as Node | undefined;
  return (f?.type === "Identifier" ? f.value : (f?.callee as Node | undefined)?.value) as string | undefined;
}

function binaryKind(n: Node, stringVars: ReadonlySet<string>, depth: number): Kind {
  const op = (n.operator as Node | undefined)?.value as string | undefined;
  const l = kindOf(n.left as Node, stringVars, depth + 1);
  const r = kindOf(n.right as Node, stringVars, depth + 1);
  if (op === "~") return "str";
  if (op === "-" || op === "/" || op === "//" || op === "**" || (op && COMPARISONS.has(op))) return "num";
  if (op === "+") return l === "num" || r === "num" ? "num" : "str";
  if (op === "*") return l === "str" || r === "str" ? "str" : l === "num" && r === "num" ? "num" : "str";
  if (op === "%") return l === "num" ? "num" : "str";
  return join(l, r); // and / or return one of their operands
}

export function kindOf(n: Node | undefined, stringVars: ReadonlySet<string>, depth = 0): Kind {
  if (!n || depth > 200) return "str";
  switch (n.type) {
    case "StringLiteral":
      return "str";
    case "IntegerLiteral":
    case "FloatLiteral":
    case "NumericLiteral":
    case "BooleanLiteral":
    case "SliceExpression":
    case "TestExpression":
      return "num";
    case "Identifier":
    case "MemberExpression": {
      const name = varName(n);
      return name !== undefined && stringVars.has(name) ? "str" : "any";
    }
    case "UnaryExpression":
      return "num";
    case "BinaryExpression":
      return binaryKind(n, stringVars, depth);
    case "FilterExpression":
      return NUMERIC_FILTERS.has(filterName(n) ?? "") ? "num" : "str";
    case "Ternary":
      return join(kindOf(n.trueExpr as Node, stringVars, depth + 1), kindOf(n.falseExpr as Node, stringVars, depth + 1));
    default:
      return "str";
  }
}

/** `namespace(k=v, …)`: its keyword arguments, which become the namespace's attributes. */
function namespaceArgs(value: Node | undefined): [string, Node][] | undefined {
  const callee = value?.type === "CallExpression" ? (value.callee as Node | undefined) : undefined;
  if (callee?.type !== "Identifier" || callee.value !== "namespace") return undefined;
  return ((value?.args as Node[] | undefined) ?? []).flatMap((a) =>
    a.type === "KeywordArgumentExpression" && (a.key as Node)?.type === "Identifier"
      ? [[(a.key as Node).value as string, a.value as Node] as [string, Node]]
      : [],
  );
}

/**
 * Variables (`x`, `ns.x`) the template sets to a string-valued expression anywhere, including the
 * attributes a `namespace(k=…)` starts with; the namespace itself is not a string.
 */
export function stringVariables(sets: readonly Node[], macros: readonly Node[] = [], calls: readonly Node[] = [], fors: readonly Node[] = []): Set<string> {
  const vars = new Set<string>();
  // Loop variables hold the elements of what is iterated (strings in a list, dict keys): strings,
  // unless the loop runs over range(…).
  for (const f of fors) {
    const it = f.iterable as Node | undefined;
    const callee = it?.type === "CallExpression" ? (it.callee as Node | undefined) : undefined;
    if (callee?.type === "Identifier" && callee.value === "range") continue;
    for (const n of boundNames(f.loopvar as Node | undefined)) vars.add(n);
  }
  // Twice, so a variable built from another string variable is seen whatever the order.
  for (let pass = 0; pass < 2; pass++) {
    for (const p of macroStringParams(macros, calls, vars)) vars.add(p);
    for (const s of sets) {
      const assignee = s.assignee as Node | undefined;
      if (assignee?.type === "TupleLiteral" || assignee?.type === "ArrayLiteral") {
        // {% set a, b = x, y %}: each name by the value at its place, a string when that is not known.
        const values = (s.value as Node | undefined)?.type === "TupleLiteral" ? ((s.value as Node).value as Node[]) : [];
        boundNames(assignee).forEach((n, i) => {
          if (values[i] === undefined || kindOf(values[i], vars) === "str") vars.add(n);
        });
        continue;
      }
      const name = varName(assignee);
      if (name === undefined) continue;
      const ns = namespaceArgs(s.value as Node | undefined);
      if (ns) {
        for (const [k, v] of ns) if (kindOf(v, vars) === "str") vars.add(`${name}.${k}`);
        continue;
      }
      // A block set ({% set x %}…{% endset %}) has no value: its result is the rendered text.
      if (!s.value || kindOf(s.value as Node, vars) === "str") vars.add(name);
    }
  }
  return vars;
}

/** Macro parameters that can hold a string: a string default, or a string passed at any call (by position or name). */
function macroStringParams(macros: readonly Node[], calls: readonly Node[], vars: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const m of macros) {
    const name = (m.name as Node | undefined)?.value;
    const params = ((m.args as Node[] | undefined) ?? []).map((a) => (a.type === "KeywordArgumentExpression" ? (a.key as Node) : a));
    const str = params.map((_, i) => {
      const d = (m.args as Node[])[i] as Node;
      return d.type === "KeywordArgumentExpression" && kindOf(d.value as Node, vars) === "str";
    });
    for (const c of calls) {
      if ((c.callee as Node | undefined)?.type !== "Identifier" || (c.callee as Node).value !== name) continue;
      ((c.args as Node[] | undefined) ?? []).forEach((a, i) => {
        const keyed = a.type === "KeywordArgumentExpression";
        const at = keyed ? params.findIndex((p) => p.value === (a.key as Node).value) : i;
        if (at >= 0 && at < str.length && kindOf(keyed ? (a.value as Node) : a, vars) === "str") str[at] = true;
      });
    }
    params.forEach((p, i) => {
      if (str[i] && typeof p.value === "string") out.push(p.value);
    });
  }
  return out;
}

/** The names a `for` or tuple `set` binds: `x`, or each of `k, v`. */
function boundNames(n: Node | undefined): string[] {
  if (n?.type === "Identifier") return [n.value as string];
  if (n?.type === "TupleLiteral" || n?.type === "ArrayLiteral") return ((n.value as Node[] | undefined) ?? []).flatMap(boundNames);
  return [];
}
