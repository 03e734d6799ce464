/**
 * Conservative name matching of model families. A name that matches two families (e.g. a DeepSeek
 * distillation into Qwen) is ambiguous and stays unattributed: the scoreboard counts it as unknown
 * rather than guess.
 */
export interface FamilyRule {
  family: string;
  org: string;
  pattern: RegExp;
}

const B = "(?:^|[^a-z0-9])";

export const FAMILY_RULES: FamilyRule[] = [
  { family: "Qwen", org: "Qwen", pattern: new RegExp(`${B}(qwen|qwq)`, "i") },
  { family: "Llama", org: "meta-llama", pattern: new RegExp(`${B}llama[-_ ]?[1-9]`, "i") },
  { family: "Gemma", org: "google", pattern: new RegExp(`${B}(gemma|medgemma|codegemma|paligemma)`, "i") },
  { family: "Mistral", org: "mistralai", pattern: new RegExp(`${B}(mistral|mixtral|ministral|magistral|devstral|codestral|pixtral|voxtral)`, "i") },
  { family: "DeepSeek", org: "deepseek-ai", pattern: /deepseek/i },
  { family: "Phi", org: "microsoft", pattern: new RegExp(`${B}phi-?[1-9]`, "i") },
  { family: "GLM", org: "zai-org", pattern: new RegExp(`${B}(glm|chatglm|cogvlm|cogvideox?|codegeex)`, "i") },
  { family: "Kimi", org: "moonshotai", pattern: new RegExp(`${B}kimi`, "i") },
  { family: "MiniMax", org: "MiniMaxAI", pattern: /minimax/i },
  { family: "gpt-oss", org: "openai", pattern: /gpt-oss/i },
  { family: "Whisper", org: "openai", pattern: new RegExp(`${B}whisper`, "i") },
  { family: "Granite", org: "ibm-granite", pattern: new RegExp(`${B}granite`, "i") },
  { family: "OLMo", org: "allenai", pattern: new RegExp(`${B}olmo`, "i") },
  { family: "InternLM", org: "internlm", pattern: /internlm/i },
  { family: "InternVL", org: "OpenGVLab", pattern: /internvl/i },
  { family: "Yi", org: "01-ai", pattern: new RegExp(`${B}yi-(?:1\\.5-|coder-)?[0-9]`, "i") },
  { family: "Hunyuan", org: "tencent", pattern: /hunyuan/i },
  { family: "ERNIE", org: "baidu", pattern: new RegExp(`${B}ernie`, "i") },
  { family: "Nemotron", org: "nvidia", pattern: /nemotron/i },
  { family: "Falcon", org: "tiiuae", pattern: new RegExp(`${B}falcon`, "i") },
  { family: "SmolLM", org: "HuggingFaceTB", pattern: /smol(lm|vlm)/i },
  { family: "FLUX", org: "black-forest-labs", pattern: new RegExp(`${B}flux\\.?[0-9]`, "i") },
  { family: "Stable Diffusion", org: "stabilityai", pattern: /(stable-diffusion|sdxl|(^|[^a-z])sd3)/i },
  { family: "MiniCPM", org: "openbmb", pattern: /minicpm/i },
  { family: "Step", org: "stepfun-ai", pattern: new RegExp(`${B}step-?[0-9]`, "i") },
  { family: "MiMo", org: "XiaomiMiMo", pattern: new RegExp(`${B}mimo`, "i") },
  { family: "Ling", org: "inclusionAI", pattern: new RegExp(`${B}(ling|ring)-(?:[0-9]|lite|mini|flash|plus)`, "i") },
  { family: "LongCat", org: "meituan-longcat", pattern: /longcat/i },
  { family: "Seed", org: "ByteDance-Seed", pattern: new RegExp(`${B}seed-?(oss|coder|[0-9])`, "i") },
  { family: "Wan", org: "Wan-AI", pattern: new RegExp(`${B}wan-?2`, "i") },
  { family: "Kolors", org: "Kwai-Kolors", pattern: /kolors/i },
  { family: "EXAONE", org: "LGAI-EXAONE", pattern: /exaone/i },
  { family: "Command", org: "CohereLabs", pattern: /(command-?r|c4ai-command|aya-)/i },
  { family: "Jamba", org: "ai21labs", pattern: /jamba/i },
  { family: "Apertus", org: "swiss-ai", pattern: /apertus/i },
  { family: "BGE", org: "BAAI", pattern: new RegExp(`${B}bge-`, "i") },
  { family: "Baichuan", org: "baichuan-inc", pattern: /baichuan/i },
];

/** The single family a model name matches; undefined for none or several. */
export function matchFamily(name: string): FamilyRule | undefined {
  const hits = FAMILY_RULES.filter((r) => r.pattern.test(name));
  const families = new Set(hits.map((h) => h.family));
  return families.size === 1 ? hits[0] : undefined;
}
