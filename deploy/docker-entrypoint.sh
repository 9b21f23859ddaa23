#!/bin/sh
# Container entrypoint: exports KEY=VALUE lines from the secrets files this container mounts
# ($TRADEHOOK_SECRETS_DIR/<volume>/*.env, written once by deploy/init-secrets.ts), then runs the command.
# A variable that is already set to a non-empty value wins, so an operator can always override a secret
# from the environment. Values are never printed.
set -eu
secrets_dir="${TRADEHOOK_SECRETS_DIR:-/secrets}"
for file in "$secrets_dir"/*/*.env; do
  [ -r "$file" ] || continue
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    case "$key" in '' | [0-9]* | *[!A-Za-z0-9_]*) continue ;; esac
    eval "current=\${$key:-}"
    if [ -z "$current" ]; then
      export "$key=$value"
    elif [ "$current" != "$value" ]; then
      # Names only: an exported variable in the shell that ran `docker compose up` is the usual surprise.
      echo "entrypoint: $key is set in the environment and overrides the generated one in $file" >&2
    fi
  done <"$file"
done
exec "$@"
