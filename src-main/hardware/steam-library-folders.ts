/**
 * Steam's KeyValues text format ("VDF"): quoted keys followed by a quoted value or a `{ … }` block,
 * `//` comments, backslash escapes. Enough of it to read libraryfolders.vdf.
 */
export type VdfValue = string | VdfObject;
export interface VdfObject {
  [key: string]: VdfValue;
}

export class VdfSyntaxError extends Error {}

const MAX_VDF_DEPTH = 32;

export function parseVdf(text: string): VdfObject {
  let i = 0;

  function skipSpaceAndComments() {
    for (;;) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (text.startsWith("//", i)) {
        while (i < text.length && text[i] !== "\n") i++;
        continue;
      }
      return;
    }
  }

  function readToken(): string {
    if (text[i] === '"') {
      i++;
      let value = "";
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length) {
          const escaped = text[i + 1]!;
          value += escaped === "n" ? "\n" : escaped === "t" ? "\t" : escaped;
          i += 2;
        } else value += text[i++];
      }
      if (i >= text.length) throw new VdfSyntaxError("unterminated string");
      i++;
      return value;
    }
    // Unquoted tokens run to whitespace or a brace.
    const start = i;
    while (i < text.length && !/[\s{}"]/.test(text[i]!)) i++;
    if (start === i) throw new VdfSyntaxError(`unexpected '${text[i]}' at offset ${i}`);
    return text.slice(start, i);
  }

  function readObject(depth: number, closedByBrace: boolean): VdfObject {
    if (depth > MAX_VDF_DEPTH) throw new VdfSyntaxError("nested too deeply");
    const object: VdfObject = {};
    for (;;) {
      skipSpaceAndComments();
      if (i >= text.length) {
        if (closedByBrace) throw new VdfSyntaxError("missing '}'");
        return object;
      }
      if (text[i] === "}") {
        if (!closedByBrace) throw new VdfSyntaxError(`unexpected '}' at offset ${i}`);
        i++;
        return object;
      }
      const key = readToken();
      skipSpaceAndComments();
      if (text[i] === "{") {
        i++;
        object[key] = readObject(depth + 1, true);
      } else {
        object[key] = readToken();
      }
    }
  }

  return readObject(0, false);
}

function getCaseInsensitive(object: VdfObject, key: string): VdfValue | undefined {
  const found = Object.keys(object).find((k) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : object[found];
}

/**
 * The library roots listed in a libraryfolders.vdf: the current format (`"0" { "path" "…" }`) and the
 * pre-2021 one (`"1" "D:\\SteamLibrary"`).
 */
export function steamLibraryPathsFromVdf(text: string): string[] {
  const root = getCaseInsensitive(parseVdf(text), "libraryfolders");
  if (root === undefined || typeof root === "string") return [];
  const paths: string[] = [];
  for (const [key, value] of Object.entries(root)) {
    if (!/^\d+$/.test(key)) continue;
    const libraryPath = typeof value === "string" ? value : getCaseInsensitive(value, "path");
    if (typeof libraryPath === "string" && libraryPath.trim() !== "") paths.push(libraryPath);
  }
  return paths;
}
