/** Load an API answer for a page; optionally refresh it every `refreshMs` (live views). */
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.js";

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
}

export function useApi<T>(path: string | null, params: Record<string, string | number | undefined> = {}, refreshMs = 0): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ data: undefined, error: undefined, loading: true });
  const key = JSON.stringify([path, params]);
  useEffect(() => {
    if (path === null) return;
    let alive = true;
    const load = () =>
      api<T>(path, params).then(
        (data) => alive && setState({ data, error: undefined, loading: false }),
        (e: Error) => alive && setState((s) => ({ data: s.data, error: e.message, loading: false })),
      );
    setState((s) => ({ ...s, loading: true }));
    void load();
    const t = refreshMs ? window.setInterval(load, refreshMs) : undefined;
    return () => {
      alive = false;
      if (t) window.clearInterval(t);
    };
  }, [key, refreshMs]);
  return state;
}
