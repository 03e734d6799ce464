/** The provider contract: one small type, every provider kind implements it. */

/**
 * A chat message as suites write it and providers send it: one representation for the whole product,
 * on the providers floor so that config (suites), the store (what was sent) and providers share it
 * (config re-exports it).
 */
export type Role = "system" | "user" | "assistant" | "tool";

/**
 * One function call a model made. `arguments` is the raw text the model produced (usually JSON, but
 * a model may emit malformed JSON: graders and the fidelity report parse it, providers never do).
 */
export interface ToolCall {
  /** The provider's call id (`call_…`, Anthropic's `toolu_…`), or one made up when the model gave none. */
  id: string;
  name: string;
  arguments: string;
}

/**
 * A message: text plus, for tool use, its tool parts. An assistant message may carry `toolCalls`
 * (with `content` "" when it only called tools); a `tool` message answers one call (`toolCallId`)
 * with `content` as the tool's result. Providers map this one representation to their wire format
 * both ways (OpenAI `tool_calls`/`role: tool`, Anthropic `tool_use`/`tool_result`, a local model's
 * chat template).
 */
export interface Message {
  role: Role;
  content: string;
  toolCalls?: ToolCall[];
  toolCallId?: string;
}

/** A tool the model may call, in OpenAI's function-tool JSON (passed through to every provider). */
export interface ToolDefinition {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export type ToolChoice = "auto" | "none" | "required" | { type: "function"; function: { name: string } };

export interface ChatParams {
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
}

export interface ChatRequest {
  messages: Message[];
  params: ChatParams;
  signal?: AbortSignal;
  /** Per-request timeout in ms; the provider aborts and throws a retryable timeout error. */
  timeoutMs?: number;
  /** Called for every streamed content chunk (load tests measure inter-token latency with it). */
  onChunk?: (text: string) => void;
  /** Extra fields for the request body (e.g. vLLM's `ignore_eos` for fixed output lengths). */
  extraBody?: Record<string, unknown>;
  /** Tools offered to the model; absent or empty = a plain text request (no `tools` field sent). */
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** True when the server sent no usage and tokens were estimated locally. */
  estimated?: boolean;
}

export type FinishReason = "stop" | "length" | "content-filter" | "tool-calls" | "error" | "other";

export interface ChatResponse {
  text: string;
  usage: Usage;
  /** Wall time from sending the request to the last byte. */
  latencyMs: number;
  /** Time to the first content token, when streaming. */
  ttftMs?: number;
  finishReason: FinishReason;
  /** The calls the model made through the API's tool-call channel (not calls written as text). */
  toolCalls?: ToolCall[];
  /** The endpoint said it is `weightbridge simulate` (header x-weightbridge-simulated): reports mark it. */
  simulated?: boolean;
}

/** The header `weightbridge simulate` sends on every answer. */
export const SIMULATED_HEADER = "x-weightbridge-simulated";

export interface Provider<K extends string = string> {
  readonly id: string;
  /** Its definition's `provider:` value: a definition's `create` returns `Provider<ItsKind>` (registry.ts lists the kinds). */
  readonly kind: K;
  /** What identifies the upstream for the response cache: kind, endpoint, model. */
  readonly cacheIdentity: Record<string, string>;
  chat(request: ChatRequest): Promise<ChatResponse>;
  /** Embeddings, where the provider has them (used by the similarity grader). */
  embed?(texts: string[], signal?: AbortSignal): Promise<number[][]>;
  close(): Promise<void>;
}

/**
 * A failed request. `retryable` marks 429, 5xx, timeouts and connection errors. When the transport
 * failed, `cause` is the typed net/ error (its `code` and `sent` say what happened).
 */
export class ProviderError extends Error {
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { status?: number; retryable: boolean; retryAfterMs?: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ProviderError";
    this.status = options.status;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}
