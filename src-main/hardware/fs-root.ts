import path from "node:path";

/** A path on the machine, read under the injected filesystem root (tests point it at a fixture tree). */
export function underRoot(fsRoot: string, absolutePath: string): string {
  return fsRoot === "/" || fsRoot === "" ? absolutePath : path.join(fsRoot, absolutePath);
}
