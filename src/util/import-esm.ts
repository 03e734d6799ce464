/**
 * import() of an ES-module-only package (node-llama-cpp: it uses top-level await, so require()
 * cannot load it). The CLI bundle runs from a V8 code cache (cli/cached-main.ts), where import() has
 * no route to Node's loader on Node 20; the loader passes its own import function as __wbImportEsm.
 */
declare const __wbImportEsm: ((specifier: string) => Promise<unknown>) | undefined;

export function importEsm<T>(specifier: string): Promise<T> {
  return typeof __wbImportEsm === "function" ? (__wbImportEsm(specifier) as Promise<T>) : (import(specifier) as Promise<T>);
}
