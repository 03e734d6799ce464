/**
 * Local inference with node-llama-cpp on a GGUF file. The library (and its native binaries) load
 * lazily on the first request, so commands that never touch a local model don't pay for them.
 * The prompt is rendered with the chat template stored in the GGUF; tokens are counted with the
 * model's own tokenizer. Requests run one at a time per model (one context sequence). Requests with
 * tools (or tool parts in the conversation) go through node-llama-cpp's chat wrappers (tool-chat.ts).
 */
import { existsSync, statSync } from "node:fs";
import { UserError } from "../../util/errors.js";
import { type ChatRequest, type ChatResponse, type Provider, ProviderError } from "../types.js";
import { loadTemplateEngine, renderChatTemplate, renderPlainTranscript } from "./chat-template.js";
import { chatWithTools, type StepBias, usesTools } from "./tool-chat.js";

export interface LocalOptions {
  id: string;
  path: string;
  contextSize?: number;
  gpu?: boolean | "auto";
  threads?: number;
  /** A logit bias per generated token on the tool path (library option: tests steer a random-weight model). */
  bias?: StepBias;
}

const DEFAULT_MAX_TOKENS = 256;

/** The node-llama-cpp release weightbridge is tested with (package.json pins it exactly). */
const LLAMA_VERSION = "3.21.1";
type Lib = typeof import("node-llama-cpp");
interface Loaded {
  lib: Lib;
  model: import("node-llama-cpp").LlamaModel;
  context: import("node-llama-cpp").LlamaContext;
  sequence: import("node-llama-cpp").LlamaContextSequence;
  template: string | undefined;
}

/** One request at a time per model (one context sequence); the library and the model load on the first request. */
export function createLocalProvider(o: LocalOptions): Provider<"local"> {
  if (!existsSync(o.path))
    throw new UserError(`model ${o.id}: GGUF file not found: ${o.path}`, "download one with `weightbridge pull hf:ORG/REPO --file NAME.gguf` or fix `path`");
  const st = statSync(o.path);
  let loading: Promise<Loaded> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let wrapper: import("node-llama-cpp").ChatWrapper | undefined;
  const run = async (req: ChatRequest): Promise<ChatResponse> => {
    loading ??= loadModel(o);
    const m = await loading;
    if (!usesTools(req)) return chatPlain(m, req);
    wrapper ??= m.lib.resolveChatWrapper(m.model);
    const tc = { lib: m.lib, sequence: m.sequence, wrapper, tokenizer: m.model.tokenizer, ...(o.bias ? { bias: o.bias } : {}) };
    return chatWithTools(tc, req, req.params.maxTokens ?? DEFAULT_MAX_TOKENS);
  };
  return {
    id: o.id,
    kind: "local",
    cacheIdentity: { kind: "local", path: o.path, size: String(st.size), mtime: String(Math.floor(st.mtimeMs)) },
    chat(req) {
      const p = queue.then(() => run(req));
      queue = p.catch(() => undefined);
      return p;
    },
    async close() {
      if (!loading) return;
      const m = await loading.catch(() => undefined);
      if (m) {
        await m.context.dispose();
        await m.model.dispose();
      }
    },
  };
}

/** node-llama-cpp, an optional peer dependency: missing or broken, it is a one-line error saying how to add it. */
async function importLlama(id: string): Promise<Lib> {
  try {
    return (await import("node-llama-cpp")) as Lib;
  } catch (e) {
    // An optional peer dependency (issue 17: ~700 MB of prebuilt binaries nobody but provider: local needs).
    const missing = (e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" || /Cannot find (module|package) 'node-llama-cpp'/.test(String(e));
    if (missing)
      throw new UserError(`model ${id}: provider: local needs node-llama-cpp, which is not installed`, `add it with \`npm i node-llama-cpp@${LLAMA_VERSION}\``);
    throw new UserError(
      `model ${id}: node-llama-cpp could not be loaded: ${(e as Error).message}`,
      `reinstall it with \`npm i node-llama-cpp@${LLAMA_VERSION}\``,
    );
  }
}

async function loadModel(o: LocalOptions): Promise<Loaded> {
  const lib = await importLlama(o.id);
  const llama = await lib.getLlama({ gpu: o.gpu === true || o.gpu === "auto" ? "auto" : false, build: "never", logLevel: lib.LlamaLogLevel.error });
  let model: import("node-llama-cpp").LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: o.path });
  } catch (e) {
    throw new UserError(
      `model ${o.id}: node-llama-cpp could not load ${o.path}: ${(e as Error).message}`,
      "check that the file is a complete GGUF (re-run `weightbridge pull`)",
    );
  }
  const context = await model.createContext({ contextSize: o.contextSize ?? 4096, ...(o.threads ? { threads: o.threads } : {}) });
  const template = (model.fileInfo.metadata as { tokenizer?: { chat_template?: string } }).tokenizer?.chat_template;
  if (template) await loadTemplateEngine();
  return { lib, model, context, sequence: context.getSequence(), template };
}

/** A request without tools: the prompt rendered with the GGUF's own chat template (or a plain transcript), then generated. */
async function chatPlain(m: Loaded, req: ChatRequest): Promise<ChatResponse> {
  const started = performance.now();
  const prompt = promptTokens(m, req);
  const maxTokens = req.params.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (prompt.length + maxTokens > m.context.contextSize)
    throw new ProviderError(`prompt of ${prompt.length} tokens + ${maxTokens} output tokens exceeds the context size ${m.context.contextSize}`, {
      retryable: false,
    });
  await m.sequence.clearHistory();
  const g = await generate(m, prompt, req, maxTokens, started);
  return {
    text: g.text,
    usage: { inputTokens: prompt.length, outputTokens: g.outputTokens },
    latencyMs: performance.now() - started,
    ...(g.ttftMs !== undefined ? { ttftMs: g.ttftMs } : {}),
    finishReason: g.finish,
  };
}

function promptTokens(m: Loaded, req: ChatRequest): import("node-llama-cpp").Token[] {
  const text = m.template
    ? renderChatTemplate(m.template, req.messages, { bos: m.model.tokens.bosString ?? "", eos: m.model.tokens.eosString ?? "" })
    : renderPlainTranscript(req.messages);
  const prompt = m.model.tokenize(text, true);
  const bos = m.model.tokens.bos;
  if (bos !== null && m.model.tokens.shouldPrependBosToken && prompt[0] !== bos) prompt.unshift(bos);
  return prompt;
}

interface Generated {
  text: string;
  outputTokens: number;
  ttftMs: number | undefined;
  finish: ChatResponse["finishReason"];
}

/** Tokens until an end-of-generation token, a stop string (the text is cut before it), or maxTokens. */
async function generate(m: Loaded, prompt: import("node-llama-cpp").Token[], req: ChatRequest, maxTokens: number, started: number): Promise<Generated> {
  const out: import("node-llama-cpp").Token[] = [];
  let ttftMs: number | undefined;
  let finish: ChatResponse["finishReason"] = "length";
  const stops = req.params.stop ?? [];
  let textSoFar = "";
  try {
    for await (const tok of m.sequence.evaluate(prompt, {
      temperature: req.params.temperature ?? 0,
      ...(req.params.topP !== undefined ? { topP: req.params.topP } : {}),
      ...(req.params.seed !== undefined ? { seed: req.params.seed } : {}),
    })) {
      if (req.signal?.aborted) throw req.signal.reason;
      if (m.model.isEogToken(tok)) {
        finish = "stop";
        break;
      }
      ttftMs ??= performance.now() - started;
      out.push(tok);
      if (stops.length) {
        textSoFar = m.model.detokenize(out);
        const hit = stops.find((s) => textSoFar.includes(s));
        if (hit) {
          textSoFar = textSoFar.slice(0, textSoFar.indexOf(hit));
          finish = "stop";
          break;
        }
      }
      if (out.length >= maxTokens) break;
    }
  } catch (e) {
    if (req.signal?.aborted) throw e;
    throw new ProviderError(`local generation failed: ${(e as Error).message}`, { retryable: false });
  }
  const text = stops.length && finish === "stop" ? textSoFar : m.model.detokenize(out);
  return { text, outputTokens: out.length, ttftMs, finish };
}
