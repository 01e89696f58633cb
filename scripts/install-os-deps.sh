#!/usr/bin/env bash
# Install the real backends signalcheck runs on loopback, when they are missing.
# As root this runs apt-get; otherwise it prints the command to run and fails.
set -euo pipefail

missing=()
have() { command -v "$1" >/dev/null 2>&1; }
have prometheus && have promtool || missing+=(prometheus)
{ have prometheus-alertmanager || have alertmanager; } && have amtool || missing+=(prometheus-alertmanager)
have prometheus-pushgateway || have pushgateway || missing+=(prometheus-pushgateway)
[ -x /usr/lib/chromium/chromium ] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "missing OS packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "installing OS packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
