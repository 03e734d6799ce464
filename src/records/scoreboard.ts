/**
 * The scoreboard's snapshots of the Hub's model lists (the models in them are hub's `HubModel`): its
 * domain type, here because the store below the scoreboard maps it to the `snapshots` table and back.
 */
export interface Snapshot {
  id: string;
  takenAt: string;
  source: string;
  sort: string | null;
  models: number;
}
