#!/usr/bin/env bash
# The one entry point for a fresh machine: provides Node 22, installs the locked dependencies when the
# lockfile changed, then runs an npm script with the project's environment.
#   bash scripts/run.sh start     # the main job (see README)
#   bash scripts/run.sh test      # every test (what .ci/run runs)
#   bash scripts/run.sh <script>  # any other npm script, e.g. bench:engine
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

node_bin=$(bash scripts/ensure-node22.sh)
export PATH="$node_bin:$PATH"
# node-llama-cpp must never download or compile at run time; the CPU prebuilt ships in the npm package.
export NODE_LLAMA_CPP_SKIP_DOWNLOAD=true
# Electron's binary cannot be downloaded here; its types install without it.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
# The machine's npmrc points node-gyp at Node 20's headers; nothing here builds native code, and Node 22's
# npm would only warn about it.
unset npm_config_nodedir || true

stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "run.sh: installing the locked dependencies (node $(node --version))" >&2
  # Not `npm ci`: node-llama-cpp lists prebuilt binaries for macOS/Windows as optional dependencies, and
  # the registry reachable here lacks some of those versions, so the lockfile cannot hold them and
  # `npm ci` refuses it. `npm install` with the lockfile installs the same versions and skips them.
  # --ignore-scripts: no dependency needs an install script, and electron's and node-llama-cpp's would
  # try to download binaries.
  npm install --ignore-scripts --no-audit --no-fund
  echo "$want" > "$stamp"
fi

# The dashboard's browser tests run in Debian's Chromium (Playwright cannot download its own browsers here).
if [ "${1:-start}" = test ] && [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "run.sh: installing Debian's chromium for the browser tests" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "run.sh: the browser tests need Chromium: run 'sudo apt-get install chromium' (or set CHROMIUM_PATH)" >&2
    exit 1
  fi
fi

case "${1:-start}" in
  start) shift || true; exec npm start -- "$@" ;;
  test) shift; exec npm test -- "$@" ;;
  *) script=$1; shift; exec npm run "$script" -- "$@" ;;
esac
