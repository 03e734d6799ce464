/**
 * Render a conversation with the model's own chat template (GGUF `tokenizer.chat_template`), using
 * @huggingface/jinja — the same engine transformers.js uses. Pure: template + messages → text.
 */
import type { Template } from "@huggingface/jinja";
import type { Message } from "../types.js";

export interface TemplateTokens {
  bos?: string;
  eos?: string;
}

const compiled = new Map<string, Template>();
let TemplateCtor: typeof Template | undefined;

/** Load the template engine (only commands that run local models need it). */
export async function loadTemplateEngine(): Promise<void> {
  TemplateCtor ??= (await import("@huggingface/jinja")).Template;
}

/** Render with the model's template. Call loadTemplateEngine() once first. */
export function renderChatTemplate(template: string, messages: readonly Message[], tokens: TemplateTokens = {}): string {
  if (!TemplateCtor) throw new Error("renderChatTemplate: call loadTemplateEngine() first");
  let t = compiled.get(template);
  if (!t) {
    t = new TemplateCtor(template);
    compiled.set(template, t);
  }
  return t.render({
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    add_generation_prompt: true,
    bos_token: tokens.bos ?? "",
    eos_token: tokens.eos ?? "",
  });
}

/** For GGUFs without a template: a plain transcript that any base model can continue. */
export function renderPlainTranscript(messages: readonly Message[]): string {
  const role = { system: "System", user: "User", assistant: "Assistant", tool: "Tool" } as const;
  return `${messages.map((m) => `${role[m.role]}: ${m.content}`).join("\n\n")}\n\nAssistant:`;
}
