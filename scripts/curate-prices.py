#!/usr/bin/env python3
"""Regenerate data/prices.json: a curated subset of litellm's price file, converted to USD per 1M tokens.

Usage: python3 scripts/curate-prices.py ../shared/data/litellm-model-prices-2026-07-24.json > data/prices.json
Each entry keeps the litellm key it came from, so a reviewer can check the figure.
"""
import json, sys

SOURCE = "litellm model_prices_and_context_window.json (BerriAI/litellm, mirrored by RoCry/llm-api-price)"
AS_OF = "2026-07-24"
# (litellm key, catalog provider, model name sent upstream, kind)
PICK = [
    ("gpt-4o", "openai", "gpt-4o", "proprietary"), ("gpt-4o-mini", "openai", "gpt-4o-mini", "proprietary"),
    ("gpt-4.1", "openai", "gpt-4.1", "proprietary"), ("gpt-4.1-mini", "openai", "gpt-4.1-mini", "proprietary"),
    ("gpt-4.1-nano", "openai", "gpt-4.1-nano", "proprietary"), ("gpt-5", "openai", "gpt-5", "proprietary"),
    ("gpt-5-mini", "openai", "gpt-5-mini", "proprietary"), ("gpt-5-nano", "openai", "gpt-5-nano", "proprietary"),
    ("claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5", "proprietary"), ("claude-haiku-4-5", "anthropic", "claude-haiku-4-5", "proprietary"),
    ("gemini-2.5-pro", "google", "gemini-2.5-pro", "proprietary"), ("gemini-2.5-flash", "google", "gemini-2.5-flash", "proprietary"),
    ("gemini-2.5-flash-lite", "google", "gemini-2.5-flash-lite", "proprietary"),
    ("deepseek/deepseek-chat", "deepseek", "deepseek-chat", "open-first-party"), ("deepseek/deepseek-reasoner", "deepseek", "deepseek-reasoner", "open-first-party"),
    ("dashscope/qwen-plus", "dashscope", "qwen-plus", "open-first-party"), ("dashscope/qwen-max", "dashscope", "qwen-max", "open-first-party"),
    ("dashscope/qwen-flash", "dashscope", "qwen-flash", "open-first-party"), ("dashscope/qwen-turbo", "dashscope", "qwen-turbo", "open-first-party"),
    ("moonshot/kimi-k2.5", "moonshot", "kimi-k2.5", "open-first-party"), ("moonshot/kimi-k2-0905-preview", "moonshot", "kimi-k2-0905-preview", "open-first-party"),
    ("zai/glm-4.6", "zai", "glm-4.6", "open-first-party"), ("zai/glm-4.5", "zai", "glm-4.5", "open-first-party"), ("zai/glm-4.7", "zai", "glm-4.7", "open-first-party"),
    ("minimax/MiniMax-M2", "minimax", "MiniMax-M2", "open-first-party"), ("minimax/MiniMax-M2.5", "minimax", "MiniMax-M2.5", "open-first-party"),
    ("together_ai/Qwen/Qwen2.5-72B-Instruct-Turbo", "together", "Qwen/Qwen2.5-72B-Instruct-Turbo", "open-host"),
    ("together_ai/Qwen/Qwen2.5-7B-Instruct-Turbo", "together", "Qwen/Qwen2.5-7B-Instruct-Turbo", "open-host"),
    ("together_ai/deepseek-ai/DeepSeek-V3", "together", "deepseek-ai/DeepSeek-V3", "open-host"),
    ("together_ai/Qwen/Qwen3-235B-A22B-Instruct-2507-tput", "together", "Qwen/Qwen3-235B-A22B-Instruct-2507-tput", "open-host"),
    ("deepinfra/Qwen/Qwen3-30B-A3B", "deepinfra", "Qwen/Qwen3-30B-A3B", "open-host"), ("deepinfra/Qwen/Qwen3-14B", "deepinfra", "Qwen/Qwen3-14B", "open-host"),
    ("deepinfra/Qwen/Qwen3-235B-A22B-Instruct-2507", "deepinfra", "Qwen/Qwen3-235B-A22B-Instruct-2507", "open-host"),
    ("deepinfra/Qwen/Qwen2.5-72B-Instruct", "deepinfra", "Qwen/Qwen2.5-72B-Instruct", "open-host"),
    ("groq/llama-3.3-70b-versatile", "groq", "llama-3.3-70b-versatile", "open-host"), ("groq/llama-3.1-8b-instant", "groq", "llama-3.1-8b-instant", "open-host"),
    ("groq/openai/gpt-oss-120b", "groq", "openai/gpt-oss-120b", "open-host"), ("groq/openai/gpt-oss-20b", "groq", "openai/gpt-oss-20b", "open-host"),
    ("groq/qwen/qwen3-32b", "groq", "qwen/qwen3-32b", "open-host"), ("groq/moonshotai/kimi-k2-instruct-0905", "groq", "moonshotai/kimi-k2-instruct-0905", "open-host"),
    ("fireworks_ai/accounts/fireworks/models/deepseek-r1-0528", "fireworks", "accounts/fireworks/models/deepseek-r1-0528", "open-host"),
]

def per_million(v):
    return None if v is None else round(v * 1_000_000, 6)

src = json.load(open(sys.argv[1]))
out = []
for key, provider, model, kind in PICK:
    e = src.get(key)
    if e is None or "input_cost_per_token" not in e:
        print(f"skip {key}: not in source", file=sys.stderr)
        continue
    entry = {"provider": provider, "model": model, "kind": kind,
             "input": per_million(e["input_cost_per_token"]), "output": per_million(e.get("output_cost_per_token", 0))}
    cached = per_million(e.get("cache_read_input_token_cost"))
    if cached is not None:
        entry["cachedInput"] = cached
    entry.update({"source": f"{SOURCE}, key {key}", "asOf": AS_OF})
    out.append(entry)
json.dump({"unit": "USD per 1M tokens", "entries": out}, sys.stdout, indent=1)
print()
