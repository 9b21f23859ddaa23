#!/usr/bin/env bash
# `pnpm test:docker`: the README's Docker commands under a real, private Docker engine (tests/docker/README.md).
#   tests/docker/run.sh           run the test (root; installs what it needs from Debian packages)
#   tests/docker/run.sh --check   exit 0 when this machine can run it, else print why and exit 1
# Every step is announced; a failure names its step. The engine and the repository copy are purged at the
# end; only $TRADEHOOK_DOCKER_CACHE (default /var/cache/tradehook-docker) is kept for the next run.
set -Eeuo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/docker/lib/common.sh
. "$HERE/lib/common.sh"
. "$HERE/lib/host-tools.sh"
. "$HERE/lib/dockerd.sh"
. "$HERE/lib/standin-images.sh"

reason=$(why_no_dockerd)
if [ "${1:-}" = --check ]; then
  [ -z "$reason" ] || { echo "$reason"; exit 1; }
  exit 0
fi
[ -z "$reason" ] || fail "this machine cannot run the private dockerd: $reason"

cleanup() {
  local status=$?
  trap - ERR
  th_step_done
  printf '\n== cleanup\n'
  if [ -S "$TH_SOCKET" ]; then
    [ "$status" = 0 ] || failure_diagnostics
    disk_report "before cleanup"
    docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1 || true
  fi
  stop_dockerd
  rm -rf "$TH_SCRATCH"
  echo "engine stopped and purged; cache kept: $TH_CACHE ($(du -sh "$TH_CACHE" | cut -f1))"
  if [ "$status" = 0 ]; then
    echo "docker test passed in $(($(date +%s) - TH_RUN_STARTED))s"
  else
    echo "docker test FAILED (exit $status) after $(($(date +%s) - TH_RUN_STARTED))s" >&2
  fi
}
trap cleanup EXIT
# Only in the test's own shell: a command substitution's subshell reports through its exit status.
trap '[ "$BASHPID" != $$ ] || fail "command failed (line $LINENO of ${BASH_SOURCE[0]##*/}): $BASH_COMMAND"' ERR

# The state and last log lines of every container, to see why a step failed.
failure_diagnostics() {
  printf '\n-- containers at the failure\n'
  docker ps -a --format '{{.Names}}\t{{.Status}}' | sort
  local name
  for name in $(docker ps -a --format '{{.Names}}' | sort); do
    printf -- '-- last log lines of %s\n' "$name"
    docker logs --tail 6 "$name" 2>&1 | cut -c1-300
  done
}

disk_report() {
  # -x: not through the containers' mounted overlay filesystems, which would count every layer again.
  echo "disk ($1): engine $(du -shx "$TH_SCRATCH" | cut -f1), cache $(du -shx "$TH_CACHE" | cut -f1)"
  docker system df 2>/dev/null | sed 's/^/  /' || true
}

step "host tools (Debian packages)"
mkdir -p "$TH_CACHE" "$TH_SCRATCH"
install_host_tools

step "private dockerd"
start_dockerd

step "fresh copy of the repository (tracked and new files, as a clone would have them)"
CLONE=$TH_SCRATCH/clone/tradehook # the directory name is the compose project name, as after the README's clone
mkdir -p "$CLONE"
git -C "$REPO" ls-files -coz --exclude-standard | (cd "$REPO" && tar --null -T - --ignore-failed-read -c 2>/dev/null) |
  tar -x -C "$CLONE"
echo "$CLONE ($(find "$CLONE" -type f | wc -l) files)"

step "base images (offline stand-ins)"
load_standin_images "$CLONE"

. "$HERE/scenario.sh"
run_scenario "$CLONE"
th_step_done
disk_report "end"
