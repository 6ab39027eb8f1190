#!/usr/bin/env bash
# Prints the directory of a Node >= 22 binary, installing Node 22 from the npm registry (the `node@22`
# package) into .tools/node22 when the machine's own Node is older. Electron bundles Node 22, so the
# core is written and tested against it. Usage: export PATH="$(bash scripts/ensure-node22.sh):$PATH"
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
want_major=22

major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null 2>&1 && [ "$(major_of "$(command -v node)")" -ge "$want_major" ]; then
  dirname "$(command -v node)"
  exit 0
fi

prefix="$root/.tools/node$want_major"
bin="$prefix/node_modules/node/bin"
if [ ! -x "$bin/node" ] || [ "$(major_of "$bin/node")" -lt "$want_major" ]; then
  echo "ensure-node22: installing node@$want_major from the npm registry into $prefix" >&2
  mkdir -p "$prefix"
  # --foreground-scripts: the package's preinstall step links the platform binary.
  npm install --prefix "$prefix" --no-save --no-package-lock --foreground-scripts "node@$want_major" >&2
fi
[ -x "$bin/node" ] || { echo "ensure-node22: no node binary under $bin after install; check npm's output above" >&2; exit 1; }
echo "$bin"
