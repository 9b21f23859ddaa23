# Installs what the docker test needs from Debian packages only (sourced by run.sh, as root):
# bookworm's docker.io (dockerd 20.10, containerd, runc, tini) and debootstrap, and Compose v2 + buildx from
# trixie's docker-compose / docker-buildx packages, unpacked as CLI plugins (trixie's Go binaries run on
# bookworm's libc; bookworm itself ships only the legacy docker-compose 1.29).
# shellcheck shell=bash

install_host_tools() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  command -v iptables >/dev/null 2>&1 || missing+=(iptables)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (Debian bookworm)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  [ -x /usr/bin/docker ] || fail "docker.io installed no /usr/bin/docker"

  local plugins=$TH_CACHE/cli-plugins
  if ! [ -x "$plugins/docker-compose" ] || ! [ -x "$plugins/docker-buildx" ]; then
    echo "fetching docker-compose and docker-buildx (Debian trixie) into $plugins"
    local apt_dir=$TH_CACHE/apt-trixie
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/debs" "$plugins"
    echo 'deb http://deb.debian.org/debian trixie main' >"$apt_dir/sources.list"
    # A private apt state: the host's own sources and package lists stay untouched.
    local apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=-
      -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir" -o APT::Sandbox::User=root)
    apt-get "${apt_opts[@]}" update -qq
    (cd "$apt_dir/debs" && rm -f ./*.deb && apt-get "${apt_opts[@]}" download -qq docker-compose docker-buildx)
    local unpacked=$apt_dir/unpacked
    rm -rf "$unpacked"
    for deb in "$apt_dir"/debs/*.deb; do dpkg-deb -x "$deb" "$unpacked"; done
    cp "$unpacked"/usr/libexec/docker/cli-plugins/docker-{compose,buildx} "$plugins/"
    rm -rf "$unpacked"
  fi

  # The Debian CLI (not another docker on PATH) with those plugins, for every docker command of the test.
  mkdir -p "$TH_SCRATCH/bin" "$TH_SCRATCH/docker-config/cli-plugins"
  ln -sf /usr/bin/docker "$TH_SCRATCH/bin/docker"
  ln -sf "$plugins"/docker-compose "$plugins"/docker-buildx "$TH_SCRATCH/docker-config/cli-plugins/"
  export PATH=$TH_SCRATCH/bin:$PATH
  export DOCKER_CONFIG=$TH_SCRATCH/docker-config
  export DOCKER_HOST=unix://$TH_SOCKET
  docker compose version >/dev/null || fail "Compose v2 does not run on this machine"
  echo "$(docker --version), compose $(docker compose version --short)," \
    "buildx $(docker buildx version | awk '{print $2}')"
}
