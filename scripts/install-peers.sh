#!/usr/bin/env bash
# Builds the interop peers that taskpass's test/interop suites run against, from the Go module proxy:
#   - SPIRE's spire-server and spire-agent, pinned to SPIRE_VERSION, built from the spire module;
#   - the go-spiffe v2 client under test/interop/go-spiffe-client (pinned by its go.mod/go.sum);
# and, from PyPI, moto's server (AWS STS and IAM on loopback for the aws-sts provider suites), pinned
# to MOTO_VERSION, in a Python venv.
# All land in a cache dir (TASKPASS_PEERS_DIR, default ~/.cache/taskpass) and are reused while they
# still run (SPIRE, moto) or while the client's sources are unchanged (keyed by a hash of them).
#
# Usage: scripts/install-peers.sh [--dry-run]
# Prints, on stdout and only there, the paths as KEY=VALUE lines, ready for `eval` or `source`:
#   TASKPASS_SPIRE_BIN_DIR=/…/spire-v1.13.3/bin
#   TASKPASS_GO_SPIFFE_CLIENT=/…/go-spiffe-client-<hash>/go-spiffe-client
#   TASKPASS_MOTO_BIN=/…/moto-5.2.5/bin/moto_server
# Progress goes to stderr. Exits non-zero when a peer cannot be built.
#
# Why not `go install github.com/spiffe/spire/cmd/spire-server@VERSION`: `go install` asks the proxy
# for the module's version list (for its deprecation check) and the proxy refuses that list here, so
# the exact version is downloaded with `go mod download` and built in place instead.
set -euo pipefail

SPIRE_VERSION=v1.13.3
MOTO_VERSION=5.2.5
PEERS_DIR=${TASKPASS_PEERS_DIR:-${HOME:-/root}/.cache/taskpass}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLIENT_SRC=$REPO_ROOT/test/interop/go-spiffe-client
DRY_RUN=0

for arg in "$@"; do
  case $arg in
    --dry-run) DRY_RUN=1 ;;
    -h | --help)
      sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install-peers: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

log() { echo "install-peers: $*" >&2; }
run() {
  log "+ $*"
  if [ "$DRY_RUN" = 0 ]; then "$@"; fi
}

# Go: the toolchain image ships it in /usr/local/go; a login shell may not have it on PATH.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH=$PATH:/usr/local/go/bin
fi
if ! command -v go >/dev/null 2>&1; then
  log "go is not installed: the interop peers cannot be built (install Go >= 1.24)"
  exit 1
fi
log "using $(go version)"
# Builds run from the module cache, where there is no VCS metadata to stamp.
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

SPIRE_BIN_DIR=$PEERS_DIR/spire-$SPIRE_VERSION/bin

spire_works() {
  local bin
  for bin in spire-server spire-agent; do
    [ -x "$SPIRE_BIN_DIR/$bin" ] || return 1
    # --version prints the version (on stderr) and exits 0; a truncated binary fails here.
    "$SPIRE_BIN_DIR/$bin" --version >/dev/null 2>&1 || return 1
  done
}

build_spire() {
  if spire_works; then
    log "spire $SPIRE_VERSION already built in $SPIRE_BIN_DIR"
    return
  fi
  log "building spire-server and spire-agent $SPIRE_VERSION into $SPIRE_BIN_DIR (several minutes on a cold cache)"
  if [ "$DRY_RUN" = 1 ]; then
    log "+ go mod download -json github.com/spiffe/spire@$SPIRE_VERSION"
    log "+ (cd <module dir> && go build -trimpath -o $SPIRE_BIN_DIR/ ./cmd/spire-server ./cmd/spire-agent)"
    return
  fi
  local json dir tmp
  json=$(go mod download -json "github.com/spiffe/spire@$SPIRE_VERSION")
  dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    log "go mod download gave no module directory:"
    printf '%s\n' "$json" >&2
    exit 1
  fi
  mkdir -p "$PEERS_DIR"
  # Build into a scratch dir and move into place, so an interrupted build never looks installed.
  tmp=$(mktemp -d "$PEERS_DIR/.spire-build.XXXXXX")
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$dir" && go build -trimpath -o "$tmp/" ./cmd/spire-server ./cmd/spire-agent)
  rm -rf "$SPIRE_BIN_DIR"
  mkdir -p "$(dirname "$SPIRE_BIN_DIR")"
  mv "$tmp" "$SPIRE_BIN_DIR"
  trap - EXIT
  spire_works || {
    log "the freshly built spire binaries do not run"
    exit 1
  }
}

client_hash() {
  # The build is a function of the module's files and the Go version that compiles it.
  {
    go version
    cd "$CLIENT_SRC" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
}

CLIENT_BIN=$PEERS_DIR/go-spiffe-client-$(client_hash)/go-spiffe-client

build_client() {
  if [ -x "$CLIENT_BIN" ]; then
    log "go-spiffe client already built: $CLIENT_BIN"
    return
  fi
  log "building the go-spiffe client into $CLIENT_BIN"
  run mkdir -p "$(dirname "$CLIENT_BIN")"
  # -mod=readonly: go.mod and go.sum are committed and must already be complete.
  if [ "$DRY_RUN" = 1 ]; then
    log "+ (cd $CLIENT_SRC && go build -mod=readonly -trimpath -o $CLIENT_BIN .)"
    return
  fi
  (cd "$CLIENT_SRC" && go build -mod=readonly -trimpath -o "$CLIENT_BIN.tmp" . && mv "$CLIENT_BIN.tmp" "$CLIENT_BIN")
}

MOTO_DIR=$PEERS_DIR/moto-$MOTO_VERSION
MOTO_BIN=$MOTO_DIR/bin/moto_server

moto_works() {
  # The marker is written last, so a venv left half-built by an interrupted install never counts.
  [ -f "$MOTO_DIR/.installed" ] && [ -x "$MOTO_BIN" ] || return 1
  "$MOTO_DIR/bin/python" -c 'import sys, moto, moto.server; sys.exit(moto.__version__ != sys.argv[1])' \
    "$MOTO_VERSION" >/dev/null 2>&1
}

build_moto() {
  if moto_works; then
    log "moto $MOTO_VERSION already installed in $MOTO_DIR"
    return
  fi
  local python=${PYTHON:-python3}
  if ! command -v "$python" >/dev/null 2>&1; then
    log "$python is not installed: moto cannot be installed (install Python >= 3.9 with venv)"
    exit 1
  fi
  log "installing moto[server] $MOTO_VERSION into $MOTO_DIR"
  # A venv is not relocatable (its scripts name their interpreter by path): build it in place.
  run rm -rf "$MOTO_DIR"
  run "$python" -m venv "$MOTO_DIR"
  run "$MOTO_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  if [ "$DRY_RUN" = 1 ]; then return; fi
  touch "$MOTO_DIR/.installed"
  moto_works || {
    log "the freshly installed moto does not import"
    exit 1
  }
}

build_spire
build_client
build_moto

echo "TASKPASS_SPIRE_BIN_DIR=$SPIRE_BIN_DIR"
echo "TASKPASS_GO_SPIFFE_CLIENT=$CLIENT_BIN"
echo "TASKPASS_MOTO_BIN=$MOTO_BIN"
