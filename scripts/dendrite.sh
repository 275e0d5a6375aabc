#!/usr/bin/env bash
# dendrite.sh: fetch and build the Dendrite Matrix homeserver used by the Matrix connector's
# integration tests, and print the path of the built `dendrite` binary. Its helper tools
# (generate-keys, generate-config, create-account) are built beside it.
#
# Dendrite is fetched with `go get` into a scratch Go module in a cache directory OUTSIDE
# this repository and built there; none of its source ever enters the repository.
#
# Idempotent: a binary already built for the chosen version is reused (nothing is fetched).
# Concurrent runs wait for each other (flock).
#
# Environment:
#   DENDRITE_MODULE   module path           (default github.com/element-hq/dendrite; the older
#                     github.com/matrix-org/dendrite v0.13.8 works too)
#   DENDRITE_VERSION  module version         (default v0.15.2)
#   DENDRITE_CACHE    cache directory        (default ${XDG_CACHE_HOME:-$HOME/.cache}/ticketd-dendrite)
#   DENDRITE_CGO      1 (default when a C compiler is here): SQLite through cgo; 0: pure Go
#
# Exit status is non-zero, with the reason on stderr, when Dendrite cannot be built.
set -euo pipefail

module=${DENDRITE_MODULE:-github.com/element-hq/dendrite}
version=${DENDRITE_VERSION:-v0.15.2}
cache=${DENDRITE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/ticketd-dendrite}

log() { printf 'dendrite.sh: %s\n' "$*" >&2; }

repo_root=$(cd "$(dirname "$0")/.." && pwd -P)
mkdir -p "$cache"
cache=$(cd "$cache" && pwd -P)
case "$cache/" in
"$repo_root"/*) log "cache directory $cache is inside the repository; refusing"; exit 2 ;;
esac

tag=$(printf '%s@%s' "$module" "$version" | tr '/@' '__')
# DENDRITE_CGO=0 forces the pure-Go variant (the caller's CGO_ENABLED is not ours: a
# ticketd test built without cgo still gets the cgo homeserver).
cgo=${DENDRITE_CGO:-1}
if ! command -v "${CC:-cc}" >/dev/null 2>&1; then
	cgo=0
fi
if [ "$cgo" = 0 ]; then
	tag="$tag-purego"
fi
bin="$cache/bin/$tag"
if [ -x "$bin/dendrite" ] && [ -x "$bin/generate-keys" ] && [ -x "$bin/create-account" ] && [ -x "$bin/generate-config" ]; then
	echo "$bin/dendrite"
	exit 0
fi

exec 9>"$cache/.lock"
if command -v flock >/dev/null 2>&1; then
	flock 9
fi
# Another run may have finished the build while this one waited.
if [ -x "$bin/dendrite" ] && [ -x "$bin/generate-keys" ] && [ -x "$bin/create-account" ] && [ -x "$bin/generate-config" ]; then
	echo "$bin/dendrite"
	exit 0
fi

src="$cache/src/$tag"
mkdir -p "$src"
cd "$src"
export GOWORK=off GOFLAGS=-buildvcs=false
# Dendrite's SQLite storage is solid with its cgo driver (mattn/go-sqlite3); its pure-Go
# fallback (modernc) fails under concurrent writes. Use cgo when a C compiler is here.
export CGO_ENABLED=$cgo
if [ "$cgo" = 0 ]; then
	log "building the pure-Go variant (no C compiler, or DENDRITE_CGO=0): its SQLite storage is less reliable"
fi
if [ ! -f go.mod ]; then
	go mod init ticketd.test/dendrite-build >&2
fi
cmds=(dendrite generate-keys generate-config create-account)
pkgs=()
for c in "${cmds[@]}"; do pkgs+=("$module/cmd/$c"); done
log "fetching $module@$version into $src"
if ! go get "${pkgs[@]/%/@$version}" >&2; then
	log "go get $module@$version failed"
	exit 1
fi
log "building ${cmds[*]} (this takes a few minutes the first time)"
tmpbin="$bin.tmp.$$"
mkdir -p "$tmpbin"
if ! go build -trimpath -o "$tmpbin/" "${pkgs[@]}" >&2; then
	rm -rf "$tmpbin"
	log "go build failed"
	exit 1
fi
rm -rf "$bin"
mkdir -p "$(dirname "$bin")"
mv "$tmpbin" "$bin"
echo "$bin/dendrite"
