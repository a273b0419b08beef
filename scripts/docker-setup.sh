#!/usr/bin/env bash
# Idempotent set-up of the Docker side (docker-compose.yml, tests/containers) on a plain
# Debian machine that reaches the Debian, PyPI and Go module registries but no container
# registry:
#   - Debian's docker.io and debootstrap, when missing;
#   - a Docker engine: the one DOCKER_HOST or /var/run/docker.sock points at, else a
#     dockerd of the project's own on .work/docker/docker.sock (data under .work/docker);
#   - Compose v2 into .tools/bin and the CLI plugins folder: Debian trixie's package, else
#     built from the Go module proxy (`go install` refuses the module because of its
#     exclude directives);
#   - debian:bookworm-slim and debian:trixie-slim, pulled, or made with debootstrap and
#     `docker import` when they cannot be pulled;
#   - the stack's images (stacks/docker/*.Dockerfile).
# The slow steps (Compose's build, debootstrap, the image builds) run side by side. A second
# run on a ready machine takes seconds. Prints the DOCKER_HOST line to use; it is also in
# .work/docker/env (sourced by `make` targets and .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
WORK=$ROOT/.work/docker
COMPOSE_VERSION=v2.40.3
TOXIPROXY_VERSION=v2.12.0
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$TOOLS/bin" "$WORK/logs" stacks/docker/bin stacks/docker/certs
say() { printf '\033[1mdocker-setup:\033[0m %s\n' "$*"; }
die() { printf 'docker-setup: error: %s\n' "$*" >&2; exit 2; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
START=$(date +%s)

# --- Debian packages ------------------------------------------------------------------
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if ((${#missing[@]})); then
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get: install Docker by hand"
  say "installing ${missing[*]}"
  $SUDO apt-get update -q >/dev/null
  # RUNLEVEL=1: no init script starts the system's docker service; we start our own below
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -q \
    --no-install-recommends "${missing[@]}" >"$WORK/logs/apt.log" 2>&1 \
    || { tail -n 20 "$WORK/logs/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
fi

# --- Go (the same choice as setup.sh) ---------------------------------------------------
GO=$(command -v go || true)
[ -n "$GO" ] || GO=$TOOLS/go/bin/go
[ -x "$GO" ] || die "no Go toolchain: run \`make setup\` first"

# --- Compose v2, in the background --------------------------------------------------------
# Debian trixie's package (`docker-compose`, a Go binary needing glibc >= 2.34: it runs on
# bookworm, whose own package is Compose v1): a download of seconds. Where that archive
# cannot be reached, upstream's release built from the Go module proxy: ~3 min of both
# cores, the longest step of a fresh set-up.
plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
compose_bin=$TOOLS/bin/docker-compose
COMPOSE_DEBIAN=debian-trixie
fetch_compose() {
  local dir=$WORK/compose-deb
  rm -rf "$dir"; mkdir -p "$dir/lists/partial" "$dir/archives/partial"
  echo "deb $MIRROR trixie main" > "$dir/sources.list"
  # an apt of its own (lists, cache) that reads trixie's index and only downloads
  local apt=(-o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
             -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir"
             -o Dir::Cache::Archives="$dir/archives" -o APT::Sandbox::User="$(id -un)")
  apt-get "${apt[@]}" update -q && (cd "$dir" && apt-get "${apt[@]}" download docker-compose) \
    || return 1
  dpkg-deb --fsys-tarfile "$dir"/docker-compose_*.deb \
    | tar -xO ./usr/libexec/docker/cli-plugins/docker-compose > "$compose_bin.tmp"
  chmod +x "$compose_bin.tmp"
  "$compose_bin.tmp" version || return 1
  mv "$compose_bin.tmp" "$compose_bin"
  echo "$COMPOSE_DEBIAN" > "$compose_bin.version"
  rm -rf "$dir"
}
build_compose() {
  # the module's exclude directives make `go install pkg@version` refuse it; a writable
  # copy of the downloaded module builds as its own main module
  local dir src=$WORK/compose-src
  dir=$(cd /tmp && GOFLAGS=-mod=mod "$GO" mod download -json \
        "github.com/docker/compose/v2@$COMPOSE_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || return 1
  rm -rf "$src"; cp -r "$dir" "$src"; chmod -R u+w "$src"
  (cd "$src" && CGO_ENABLED=0 "$GO" build -trimpath \
     -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
     -o "$compose_bin.tmp" ./cmd)
  mv "$compose_bin.tmp" "$compose_bin"
  echo "$COMPOSE_VERSION" > "$compose_bin.version"
  rm -rf "$src"
}
case "$(cat "$compose_bin.version" 2>/dev/null)" in
  "$COMPOSE_DEBIAN"|"$COMPOSE_VERSION") compose_pid="" ;;
  *)
    say "installing Compose v2 (Debian trixie's package, else built from the Go module proxy)"
    { fetch_compose || { echo "no Debian package: building $COMPOSE_VERSION"; build_compose; }; } \
      >"$WORK/logs/compose.log" 2>&1 &
    compose_pid=$!
    ;;
esac
pids=()

# --- the Go binaries for the images ------------------------------------------------------
# The images are Debian bookworm (glibc 2.36): on a bookworm host the binaries `make setup`
# built run in them as they are (no CPU spent beside Compose's build); on any other host
# they are built static, so a newer host glibc cannot break them.
host_glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
go_static() {  # go_static <out> <dir> : rebuild when a source is newer than the binary
  local out=$1 dir=$2
  if [ ! -x "$out" ] || [ -n "$(find "$dir" -name '*.go' -newer "$out" -o -name go.mod -newer "$out")" ]; then
    (cd "$dir" && CGO_ENABLED=0 "$GO" build -trimpath -o "$ROOT/$out" .)
  fi
}
image_binary() {  # image_binary <out> <the host's binary> <source dir>
  if [ "$host_glibc" = 2.36 ] && [ -x "$2" ]; then cp -u "$2" "$1"; else go_static "$1" "$3"; fi
}
{
  image_binary stacks/docker/bin/shop stacks/apps/go/bin/shop stacks/apps/go
  image_binary stacks/docker/bin/rdsproxy stacks/apps/rdsproxy/bin/rdsproxy stacks/apps/rdsproxy
  if [ "$host_glibc" = 2.36 ] && [ "$(cat "$TOOLS/bin/.toxiproxy-version" 2>/dev/null)" = "$TOXIPROXY_VERSION" ]; then
    cp -u "$TOOLS/bin/toxiproxy-server" stacks/docker/bin/toxiproxy-server
    echo "$TOXIPROXY_VERSION" > stacks/docker/bin/.toxiproxy-version
  elif [ "$(cat stacks/docker/bin/.toxiproxy-version 2>/dev/null)" != "$TOXIPROXY_VERSION" ]; then
    GOBIN=$WORK/gobin CGO_ENABLED=0 "$GO" install \
      "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION"
    mv "$WORK/gobin/server" stacks/docker/bin/toxiproxy-server
    echo "$TOXIPROXY_VERSION" > stacks/docker/bin/.toxiproxy-version
  fi
} >"$WORK/logs/go-build.log" 2>&1 &
pids+=($!)

# --- the engine ---------------------------------------------------------------------------
own_sock=$WORK/docker.sock
engine_ok() { timeout 10 docker ${1:+--host "$1"} info >/dev/null 2>&1; }
if [ -n "${DOCKER_HOST:-}" ] && engine_ok; then
  host=$DOCKER_HOST
elif [ -z "${DOCKER_HOST:-}" ] && [ -S /var/run/docker.sock ] && engine_ok "unix:///var/run/docker.sock"; then
  host=""
else
  host=unix://$own_sock
  if ! engine_ok "$host"; then
    say "starting dockerd on $own_sock (data under .work/docker)"
    rm -f "$own_sock" "$WORK/dockerd.pid"
    # setsid: the engine outlives this script and the make that ran it
    # --group: the socket belongs to the invoking user's group, so a non-root user (who
    # started it through sudo) can use it without the docker group
    setsid $SUDO dockerd --host "$host" --data-root "$WORK/data" --exec-root "$WORK/exec" \
      --pidfile "$WORK/dockerd.pid" --group "$(id -gn)" >"$WORK/logs/dockerd.log" 2>&1 < /dev/null &
    for _ in $(seq 1 60); do engine_ok "$host" && break; sleep 0.5; done
    engine_ok "$host" || { tail -n 20 "$WORK/logs/dockerd.log" >&2; die "dockerd did not start (log: $WORK/logs/dockerd.log)"; }
  fi
fi
export DOCKER_HOST=$host
[ -n "$host" ] || unset DOCKER_HOST
printf 'DOCKER_HOST=%s\n' "$host" > "$WORK/env"
# the CLI of Debian's docker.io (20.10) builds with the classic builder; a newer CLI without
# the buildx plugin refuses BuildKit: the classic builder works with both
export DOCKER_BUILDKIT=0

# --- base images: pulled, else made with debootstrap --------------------------------------
base_image() {  # base_image <suite>
  local suite=$1 tag=debian:$1-slim rootfs=$WORK/rootfs-$1
  docker image inspect "$tag" >/dev/null 2>&1 && return 0
  timeout 30 docker pull -q "$tag" >/dev/null 2>&1 && return 0
  rm -rf "$rootfs"
  $SUDO debootstrap --variant=minbase "$suite" "$rootfs" "$MIRROR"
  $SUDO rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  $SUDO tar -C "$rootfs" -c . | docker import - "$tag"
  $SUDO rm -rf "$rootfs"
}
base_pids=()
for suite in bookworm trixie; do
  if ! docker image inspect "debian:$suite-slim" >/dev/null 2>&1; then
    say "making the base image debian:$suite-slim (pull, else debootstrap ~35 s)"
  fi
  base_image "$suite" >"$WORK/logs/base-$suite.log" 2>&1 &
  base_pids+=($!)
done

# Inside containers pip needs the CA certificates the host trusts (a TLS-inspecting egress
# proxy); Debian's own are in the base image already.
for crt in /usr/local/share/ca-certificates/*.crt; do
  [ -f "$crt" ] && cp -u "$crt" stacks/docker/certs/
done

wait_all() {  # wait_all <what> <log> <pid>...
  local what=$1 log=$2; shift 2
  for pid in "$@"; do
    wait "$pid" || { tail -n 30 "$log" >&2; die "$what failed (log: $log)"; }
  done
}
wait_all "the Go builds" "$WORK/logs/go-build.log" "${pids[@]}"
wait_all "a base image" "$WORK/logs/base-bookworm.log" "${base_pids[0]}"
wait_all "a base image" "$WORK/logs/base-trixie.log" "${base_pids[1]}"

# --- the stack's images (classic builder: layer cache makes a re-run take seconds) --------------
build_image() {  # build_image <name>
  docker build -q -f "stacks/docker/$1.Dockerfile" -t "harness/$1:latest" . >/dev/null
}
img_pids=()
say "building the stack images (stacks/docker/*.Dockerfile)"
for name in mariadb haproxy php go python rdsproxy toxiproxy localstack; do
  build_image "$name" >"$WORK/logs/image-$name.log" 2>&1 &
  img_pids+=("$!:$name")
done
for entry in "${img_pids[@]}"; do
  wait_all "docker build of stacks/docker/${entry#*:}.Dockerfile" \
    "$WORK/logs/image-${entry#*:}.log" "${entry%%:*}"
done

if [ -n "$compose_pid" ]; then
  wait_all "installing Compose" "$WORK/logs/compose.log" "$compose_pid"
fi
mkdir -p "$plugins"
ln -sf "$compose_bin" "$plugins/docker-compose"
docker compose version >/dev/null || die "\`docker compose\` does not work with $plugins/docker-compose"

say "ready in $(( $(date +%s) - START )) s; use: export DOCKER_HOST=$host"
