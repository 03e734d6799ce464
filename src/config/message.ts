/**
 * A chat message as suites write it and providers send it: one representation for the whole
 * product, on the config floor so that config (suites), the store (what was sent) and providers
 * share it without importing each other.
 */
export type Role = "system" | "user" | "assistant";

export interface Message {
  role: Role;
  content: string;
}
