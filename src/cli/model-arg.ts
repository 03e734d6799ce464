/** A command's MODEL_ID argument (bench, cost): the config's model with that id, or a UserError naming the ids there are. */
import { UserError } from "../util/errors.js";

export function findModel<M extends { id: string }>(models: readonly M[], modelId: string, configPath: string): M {
  const model = models.find((m) => m.id === modelId);
  if (!model) throw new UserError(`no model "${modelId}" in ${configPath}`, `models: ${models.map((m) => m.id).join(", ")}`);
  return model;
}
