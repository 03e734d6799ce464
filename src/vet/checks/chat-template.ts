/**
 * Chat templates are Jinja run by the serving stack (transformers' sandboxed Jinja2, llama.cpp, vLLM).
 * A hostile template reaches Python internals through dunder attributes (`__class__`, `__mro__`,
 * `__subclasses__`, `__globals__`, …), Jinja globals that hold module references (`cycler`, `joiner`,
 * `lipsum`), the `attr` filter with a built name, or template imports. The template is parsed with
 * @huggingface/jinja and the syntax tree walked; the raw text is also searched, so a template the
 * parser rejects (or hides names in escapes) is still judged.
 */
import { createRequire } from "node:module";
import type { Issue } from "../types.js";
import { kindOf, type Node, stringVariables } from "./template-values.js";

const ESCAPE_ATTRS = new Set([
  "__class__",
  "__mro__",
  "__subclasses__",
  "__globals__",
  "__builtins__",
  "__init__",
  "__base__",
  "__bases__",
  "__import__",
  "__getattribute__",
  "__getattr__",
  "__dict__",
  "__code__",
  "__func__",
  "__self__",
  "__module__",
  "__reduce__",
  "__reduce_ex__",
  "__loader__",
  "__spec__",
  "__call__",
]);
const GADGETS = new Set(["cycler", "joiner", "lipsum", "self", "config", "request", "url_for", "get_flashed_messages", "g", "application"]);
const RAW_DUNDER = /__(class|mro|subclasses|globals|builtins|init|base|bases|import|getattribute|dict|code|func|loader|spec)__/;

/** Every node of a parsed template, depth first, each once (the tree is bounded to 500 levels). */
function eachNode(root: unknown, fn: (n: Node) => void): void {
  const seen = new Set<object>();
  const visit = (n: unknown, depth: number): void => {
    if (depth > 500 || n === null || typeof n !== "object" || seen.has(n)) return;
    seen.add(n);
    if (Array.isArray(n)) {
      for (const c of n) visit(c, depth + 1);
      return;
    }
    if (n instanceof Map) {
      for (const [k, v] of n) {
        visit(k, depth + 1);
        visit(v, depth + 1);
      }
      return;
    }
    fn(n as Node);
    for (const [k, v] of Object.entries(n)) if (k !== "type" && v && typeof v === "object") visit(v, depth + 1);
  };
  visit(root, 0);
}

/** Every identifier named anywhere in a node. */
const identifiers = (n: unknown): string[] => [...JSON.stringify(n ?? null).matchAll(/"type":"Identifier","value":"([^"]+)"/g)].map((m) => m[1] as string);

/**
 * `d[k]` inside `{% for k in d %}` reads an item of `d` by one of its own keys (qwen3-coder renders
 * JSON this way): getitem succeeds, so Jinja never falls back to an attribute. Only when `k` is bound
 * by that one loop alone and `d` is never re-set, so `d` at the read is the `d` iterated.
 */
function ownKeyReads(fors: readonly Node[], sets: readonly Node[]): (member: Node) => boolean {
  const bound = new Map<string, string[]>();
  const note = (name: string, what: string) => bound.set(name, [...(bound.get(name) ?? []), what]);
  for (const f of fors) {
    const v = f.loopvar as Node | undefined;
    // `for k in d if …` iterates d, filtered.
    const it = f.iterable as Node | undefined;
    if (v?.type === "Identifier") note(v.value as string, JSON.stringify(it?.type === "SelectExpression" ? it.lhs : it));
    else for (const n of identifiers(v)) note(n, "tuple");
  }
  const reset = new Set<string>();
  for (const s of sets) for (const n of identifiers(s.assignee)) reset.add(n);
  return (member) => {
    const k = (member.property as Node).value as string;
    const it = bound.get(k);
    const obj = member.object as Node;
    return it?.length === 1 && !reset.has(k) && obj?.type === "Identifier" && !reset.has(obj.value as string) && it[0] === JSON.stringify(obj);
  };
}

type Add = (i: Issue) => void;

/** What the node rules need to know about the whole template. */
interface TemplateScope {
  where: string;
  stringVars: Set<string>;
  ownKey: (member: Node) => boolean;
}

/** parse → rules on every node of the tree → rules on the raw text; one finding per rule and evidence. */
export function analyseChatTemplate(source: string, where: string): Issue[] {
  const issues = new Map<string, Issue>();
  const add: Add = (i) => {
    const key = `${i.rule}|${i.evidence ?? i.message}`;
    if (!issues.has(key)) issues.set(key, i);
  };
  const ast = parseTemplate(source, where, add);
  if (ast) {
    const scope = templateScope(ast, where);
    eachNode(ast, (node) => nodeRules(node, scope, add));
  }
  rawTextRules(source, where, [...issues.values()], add);
  return [...issues.values()];
}

function parseTemplate(source: string, where: string, add: Add): Node | undefined {
  try {
    // Loaded on first use: most scans have no template, and scan start-up is benchmarked.
    const { parse, tokenize } = createRequire(import.meta.url)("@huggingface/jinja") as typeof import("@huggingface/jinja");
    return parse(tokenize(source)) as unknown as Node;
  } catch (e) {
    add({
      severity: "medium",
      rule: "template.unparseable",
      message: `${where}: the chat template does not parse (${(e as Error).message.slice(0, 120)}); it was judged on its raw text only`,
    });
    return undefined;
  }
}

/** The variables the template sets to strings, and which subscripts read a dict by its own keys. */
function templateScope(ast: Node, where: string): TemplateScope {
  const sets: Node[] = [];
  const macros: Node[] = [];
  const calls: Node[] = [];
  const fors: Node[] = [];
  eachNode(ast, (n) => {
    if (n.type === "For") fors.push(n);
    else if (n.type === "Set") sets.push(n);
    else if (n.type === "Macro") macros.push(n);
    else if (n.type === "CallExpression") calls.push(n);
  });
  return { where, stringVars: stringVariables(sets, macros, calls, fors), ownKey: ownKeyReads(fors, sets) };
}

function nodeRules(node: Node, scope: TemplateScope, add: Add): void {
  const where = scope.where;
  switch (node.type) {
    case "MemberExpression":
      memberRules(node, scope, add);
      break;
    case "Identifier":
      if (GADGETS.has(node.value as string))
        add({
          severity: "high",
          rule: "template.gadget",
          message: `${where}: the chat template uses the Jinja global "${node.value}", whose internals lead to Python modules`,
          evidence: String(node.value),
        });
      break;
    case "FilterExpression": {
      const f = node.filter as Node;
      const fname = f?.type === "Identifier" ? f.value : (f?.callee as Node | undefined)?.value;
      if (fname === "attr")
        add({
          severity: "high",
          rule: "template.attr-filter",
          message: `${where}: the attr filter reads attributes by name, a common way to reach dunder attributes`,
          evidence: "|attr(…)",
        });
      break;
    }
    case "StringLiteral":
      stringRules(node.value as string, where, add);
      break;
  }
}

/** `x.name` and `x[expr]`: dunder and private attributes, and subscripts whose name is built at render time. */
function memberRules(node: Node, { where, stringVars, ownKey }: TemplateScope, add: Add): void {
  if (node.computed && (node.property as Node)?.type === "Identifier" && stringVars.has((node.property as Node).value as string) && !ownKey(node))
    add({
      severity: "high",
      rule: "template.computed-attribute",
      message: `${where}: a subscript uses a variable the template sets to a string, so an attribute name can be built at render time`,
      evidence: `[${(node.property as Node).value as string}]`,
    });
  const prop = node.property as Node;
  const name = prop?.type === "Identifier" ? (prop.value as string) : prop?.type === "StringLiteral" ? (prop.value as string) : undefined;
  if (name !== undefined && /^__\w+__$/.test(name))
    add({
      severity: ESCAPE_ATTRS.has(name) ? "critical" : "high",
      rule: "template.sandbox-escape",
      message: `${where}: the chat template reads the Python internal attribute ${name}, the first step of a sandbox escape`,
      evidence: `.${name}`,
    });
  else if (name?.startsWith("_"))
    add({
      severity: "high",
      rule: "template.private-attribute",
      message: `${where}: the chat template reads the private attribute ${name}`,
      evidence: `.${name}`,
    });
  else if (node.computed && prop && !["StringLiteral", "Identifier"].includes(prop.type ?? "") && kindOf(prop, stringVars) === "str")
    add({
      severity: "high",
      rule: "template.computed-attribute",
      message: `${where}: a subscript can evaluate to a string built at render time (e.g. "__cla" ~ "ss__"), hiding which attribute is read`,
    });
}

/** String literals that are, or look like pieces of, dunder names. */
function stringRules(value: string, where: string, add: Add): void {
  if (/^__\w|\w__$/.test(value) && !RAW_DUNDER.test(value))
    add({
      severity: "high",
      rule: "template.dunder-fragment",
      message: `${where}: a string in the chat template looks like part of a dunder name, as used to build "__class__" from pieces`,
      evidence: JSON.stringify(value.slice(0, 60)),
    });
  if (RAW_DUNDER.test(value))
    add({
      severity: "critical",
      rule: "template.sandbox-escape",
      message: `${where}: a string in the chat template names a Python internal attribute`,
      evidence: JSON.stringify(value.slice(0, 60)),
    });
}

/** The raw text: so a template the parser rejects, or one that hides names in escapes, is still judged. */
function rawTextRules(source: string, where: string, found: readonly Issue[], add: Add): void {
  const raw = RAW_DUNDER.exec(source);
  if (raw && !found.some((i) => i.severity === "critical"))
    add({ severity: "critical", rule: "template.sandbox-escape", message: `${where}: the chat template text names ${raw[0]}`, evidence: raw[0] });
  if (/\\x5f|\\u005f|\\137/i.test(source))
    add({
      severity: "high",
      rule: "template.obfuscated",
      message: `${where}: the chat template spells underscores as escapes (\\x5f), hiding attribute names`,
    });
  const imp = /\{%-?\s*(import|from|include|extends)\b/.exec(source);
  if (imp)
    add({ severity: "high", rule: "template.import", message: `${where}: the chat template uses {% ${imp[1]} %}, loading other templates`, evidence: imp[0] });
}
