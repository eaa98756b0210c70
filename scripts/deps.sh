#!/usr/bin/env bash
# Installs the Debian packages a target needs, so `make run` and `make test` work on a fresh Debian 12.
# Usage: scripts/deps.sh build|run|test|bench|security
set -euo pipefail

build_pkgs="make gcc libc6-dev pkg-config libmicrohttpd-dev libpq-dev libjansson-dev libjwt-dev
  libargon2-dev libssl-dev libcurl4-openssl-dev gettext"
run_pkgs="$build_pkgs postgresql-15 acl curl ca-certificates openssl util-linux"
test_pkgs="$run_pkgs postgresql-15-pgtap libcurl4-openssl-dev jq clang-format python3
  python3-yaml python3-jsonschema openapi-specification chromium nodejs nginx libnginx-mod-stream
  prometheus systemd
  clang-14 libclang-rt-14-dev python3-hl7 orthanc dcmtk slowhttptest python3-aiosmtpd libfaketime"
bench_pkgs="$run_pkgs wrk nginx postgresql-contrib python3-aiosmtpd"
security_pkgs="$test_pkgs sqlmap"

case "${1:-}" in
build) want=$build_pkgs ;;
run) want=$run_pkgs ;;
test) want=$test_pkgs ;;
bench) want=$bench_pkgs ;;
security) want=$security_pkgs ;;
*) echo "usage: $0 build|run|test|bench|security" >&2; exit 2 ;;
esac

missing=()
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The browser tests need npm: Debian ships it as its own package, other nodejs builds bundle it
# (and conflict with Debian's), so ask for it only when there is none.
if [ "$1" = test ] && ! command -v npm >/dev/null 2>&1; then
    missing+=(npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing Debian packages; as root run:" >&2
    echo "  apt-get update && $line" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has empty package lists; an update is needed before the first install.
apt-get update -qq >&2
# shellcheck disable=SC2086
$line -qq >&2
