#!/usr/bin/env bash
# Install the real backends signalcheck runs on loopback, when they are missing.
# As root this runs apt-get; otherwise it prints the command to run and fails.
# Optional extras (docker-compose, for `docker-compose config` on compose/) are installed
# when possible and never fail the run: the tests that use them say why they are skipped.
set -euo pipefail

missing=()
optional=()
have() { command -v "$1" >/dev/null 2>&1; }
have prometheus && have promtool || missing+=(prometheus)
{ have prometheus-alertmanager || have alertmanager; } && have amtool || missing+=(prometheus-alertmanager)
have prometheus-pushgateway || have pushgateway || missing+=(prometheus-pushgateway)
[ -x /usr/lib/chromium/chromium ] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
have docker-compose || optional+=(docker-compose)

[ ${#missing[@]} -eq 0 ] && [ ${#optional[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    if [ ${#optional[@]} -gt 0 ]; then
        echo "optional OS packages not installed: ${optional[*]} (sudo apt-get install -y ${optional[*]})" >&2
    fi
    [ ${#missing[@]} -eq 0 ] && exit 0
    echo "missing OS packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing OS packages: ${missing[*]}"
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ ${#optional[@]} -gt 0 ]; then
    echo "installing optional OS packages: ${optional[*]}"
    apt-get install -y -q --no-install-recommends "${optional[@]}" \
        || echo "optional OS packages not installed: ${optional[*]} (their checks are skipped)" >&2
fi
