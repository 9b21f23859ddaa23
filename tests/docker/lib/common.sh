# Shared by the docker end-to-end test's scripts (sourced, never run): paths, step reporting, retries.
# shellcheck shell=bash

# Outside the repository and kept between runs: Debian packages, Compose v2, the stand-in base images.
TH_CACHE=${TRADEHOOK_DOCKER_CACHE:-/var/cache/tradehook-docker}
# Purged at the end of every run: the private dockerd's state and the fresh-clone copy of the repository.
TH_SCRATCH=${TRADEHOOK_DOCKER_SCRATCH:-/var/tmp/tradehook-docker-test}
TH_EXEC_ROOT=/run/tradehook-docker-test
TH_SOCKET=$TH_EXEC_ROOT/docker.sock
# Own bridge and address pools, away from Docker's defaults (172.17.0.0/16…) and the compose file's
# edge network (10.89.64.0/24), so another Docker engine on the machine does not clash.
TH_BRIDGE=thdocker0
TH_BRIDGE_CIDR=10.199.0.1/24
TH_ADDRESS_POOL=10.199.128.0/17

TH_STEP=''
TH_STEP_STARTED=0
TH_RUN_STARTED=$(date +%s)

# Starts a named step; the ERR trap in run.sh names it when something fails.
step() {
  th_step_done
  TH_STEP=$1
  TH_STEP_STARTED=$(date +%s)
  printf '\n== %s\n' "$TH_STEP"
}

th_step_done() {
  if [ -n "$TH_STEP" ]; then
    printf '   ok (%ss, %ss total)\n' "$(($(date +%s) - TH_STEP_STARTED))" "$(($(date +%s) - TH_RUN_STARTED))"
  fi
  TH_STEP=''
}

fail() {
  printf '\nFAILED at step "%s": %s\n' "${TH_STEP:-setup}" "$*" >&2
  TH_STEP=''
  exit 1
}

# assert_eq <what> <expected> <actual>
assert_eq() {
  [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

# retry <seconds> <command...>: runs the command once a second until it succeeds.
retry() {
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 1
  done
}
