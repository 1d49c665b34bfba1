#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the test command (./mvnw -B verify) needs and that are missing. Run as root;
# without root it only says what is missing and how to install it. .ci/run runs it first.
#
#   package    command   needed by
#   chromium   chromium  the status page rendered in a headless browser (OperatorDeviceIT)
#   iproute2   ip        the end-to-end tests' pod network: bridge, network namespaces, veth pairs (testkit podrunner)
#   iptables   iptables  containerboot's firewall in kernel-mode proxies (PROXY_FIREWALL_MODE=auto picks
#   nftables   nft       iptables or nftables; the pod network probe accepts either)
#
# The end-to-end tests also need root (network namespaces, bridges) and /dev/net/tun (kernel-mode proxies). A test
# whose prerequisite is missing is skipped with the reason; under CI=true, .ci/run fails on any skipped test.
#
# Usage: bash tools/install-test-packages.sh          # install what is missing (root), or list it
#        bash tools/install-test-packages.sh --check  # only list what is missing; exit 1 if anything is
set -euo pipefail

readonly PACKAGES=(chromium:chromium iproute2:ip iptables:iptables nftables:nft)

check_only=false
case "${1:-}" in
  --check) check_only=true ;;
  "") ;;
  -h | --help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) printf 'unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
esac

# On the PATH the tests get (they look the commands up there, as a shell would).
on_path() { command -v "$1" >/dev/null 2>&1; }

missing=()
for entry in "${PACKAGES[@]}"; do
  on_path "${entry#*:}" || missing+=("${entry%%:*}")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  printf 'test packages: all installed (%s)\n' "$(printf '%s ' "${PACKAGES[@]%%:*}" | sed 's/ $//')"
  exit 0
fi
if [[ "$check_only" == true || "$(id -u)" != 0 ]]; then
  printf 'test packages missing: %s\n' "${missing[*]}"
  printf 'install them as root: apt-get install -y %s (or: sudo bash tools/install-test-packages.sh)\n' \
    "${missing[*]}"
  printf 'without them the tests that need them are skipped, and CI fails\n'
  [[ "$check_only" == true ]] && exit 1
  exit 0
fi

printf 'test packages: installing %s\n' "${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; then
  # A fresh machine may have no package lists yet.
  apt-get update -q >/dev/null 2>&1 || true
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
    { printf 'test packages: could not install %s (apt-get failed); the tests that need them will be skipped\n' \
      "${missing[*]}"; exit 1; }
fi
still=()
for entry in "${PACKAGES[@]}"; do
  on_path "${entry#*:}" || still+=("${entry%%:*}")
done
if [[ ${#still[@]} -gt 0 ]]; then
  printf 'test packages: installed, but not on PATH: %s\n' "${still[*]}"
  exit 1
fi
printf 'test packages: installed %s\n' "${missing[*]}"
