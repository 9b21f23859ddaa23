# A private Docker engine for the test (sourced by run.sh): its own data root, exec root, pidfile, socket
# and bridge, so it never meets another engine on the machine; stop_dockerd removes all of it.
# shellcheck shell=bash

# Prints why this machine cannot run the test's dockerd, or nothing when it can.
why_no_dockerd() {
  [ "$(uname -s)" = Linux ] || { echo "not Linux"; return; }
  [ "$(id -u)" = 0 ] || { echo "not root (dockerd needs root)"; return; }
  command -v apt-get >/dev/null 2>&1 || { echo "no apt-get (Debian packages are the only source)"; return; }
  [ -d /sys/fs/cgroup ] || { echo "no cgroup filesystem"; return; }
  # Creating the bridge needs CAP_NET_ADMIN; an unprivileged container cannot.
  if ! ip link add name thdocker-probe type bridge >/dev/null 2>&1; then
    echo "cannot create a network bridge (no CAP_NET_ADMIN)"
    return
  fi
  ip link delete thdocker-probe
}

start_dockerd() {
  stop_dockerd # a previous run killed before its cleanup
  mkdir -p "$TH_SCRATCH/data-root" "$TH_EXEC_ROOT"
  ip link add name "$TH_BRIDGE" type bridge
  ip addr add "$TH_BRIDGE_CIDR" dev "$TH_BRIDGE"
  ip link set "$TH_BRIDGE" up
  dockerd --data-root "$TH_SCRATCH/data-root" --exec-root "$TH_EXEC_ROOT" \
    --pidfile "$TH_EXEC_ROOT/dockerd.pid" --host "unix://$TH_SOCKET" \
    --bridge "$TH_BRIDGE" --default-address-pool "base=$TH_ADDRESS_POOL,size=24" \
    --storage-driver overlay2 >"$TH_SCRATCH/dockerd.log" 2>&1 &
  retry 60 docker info || { tail -20 "$TH_SCRATCH/dockerd.log" >&2; fail "dockerd did not start"; }
  echo "dockerd $(docker version --format '{{.Server.Version}}') on $TH_SOCKET," \
    "data root $TH_SCRATCH/data-root"
}

stop_dockerd() {
  local pidfile=$TH_EXEC_ROOT/dockerd.pid
  if [ -S "$TH_SOCKET" ] && docker info >/dev/null 2>&1; then
    # The engine removes a network's bridge and iptables rules only while it runs.
    docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1 || true
    docker network prune -f >/dev/null 2>&1 || true
  fi
  if [ -f "$pidfile" ]; then
    local pid
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
      # dockerd stops its containers and its containerd before it exits.
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  # Mounts left by a killed engine would keep the data root busy.
  { grep -o " $TH_SCRATCH/data-root[^ ]*\| $TH_EXEC_ROOT[^ ]*" /proc/mounts || true; } | sort -r |
    while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
  ip link delete "$TH_BRIDGE" 2>/dev/null || true
  remove_engine_leftovers
  rm -rf "$TH_SCRATCH/data-root" "$TH_EXEC_ROOT"
}

# What an engine killed before the network prune leaves on the host: bridges with addresses of our pools
# (or of the compose file's edge network) and iptables rules naming them. Such a stale bridge routes the
# next run's edge traffic nowhere. The empty DOCKER* chains are left in place.
remove_engine_leftovers() {
  local pools='10[.]199[.]|10[.]89[.]64[.]' bridge table rule
  for bridge in $(ip -br addr | awk -v re="^($pools)" '$1 ~ /^br-/ && $3 ~ re {print $1}'); do
    ip link delete "$bridge" 2>/dev/null || true
  done
  for table in nat filter; do
    { iptables -t "$table" -S | grep -E -- "-A .*(${TH_BRIDGE}|br-[0-9a-f]{12}|${pools})" || true; } |
      while read -r rule; do
        # Only rules whose bridge no longer exists (a live engine's rules stay).
        bridge=$(grep -oE "${TH_BRIDGE}|br-[0-9a-f]{12}" <<<"$rule" | head -1 || true)
        if [ -n "$bridge" ] && ip link show "$bridge" >/dev/null 2>&1; then continue; fi
        # shellcheck disable=SC2086 # the rule is a list of iptables arguments
        eval "iptables -t $table ${rule/-A /-D }" 2>/dev/null || true
      done
  done
}
