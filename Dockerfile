# tradehook: one image for every role; the compose service chooses the role by its command.
#   docker build -t tradehook .
# Stages: build (full install, Prisma client generated offline) → prod-deps (production dependencies only)
# → runtime (Node LTS slim, non-root). Services run TypeScript through tsx, a root production dependency.

ARG NODE_IMAGE=node:24-bookworm-slim
ARG PNPM_VERSION=10.34.9

FROM ${NODE_IMAGE} AS base
ARG PNPM_VERSION
ENV PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH \
    CI=true \
    PRISMA_HIDE_UPDATE_MESSAGE=1 \
    CHECKPOINT_DISABLE=1
RUN npm install -g pnpm@${PNPM_VERSION} && npm cache clean --force && pnpm config set store-dir /pnpm/store
WORKDIR /app

# Download every package of the lockfile once: this layer is reused until pnpm-lock.yaml changes.
FROM base AS build
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
# The root postinstall (scripts/prisma-generate.mjs) generates the Prisma client into
# packages/db/src/generated without downloading the schema engine (docs/decisions/0007-prisma-offline.md).
RUN pnpm install --offline --frozen-lockfile \
 && test -f packages/db/src/generated/client.ts

# Production dependencies only; the generated client is source (packages/db/src/generated) and stays.
FROM build AS prod-deps
RUN find . -name node_modules -type d -prune -exec rm -rf {} + \
 && pnpm install --offline --frozen-lockfile --prod --ignore-scripts \
 && test -x node_modules/.bin/tsx

FROM ${NODE_IMAGE} AS runtime
# LOG_DIR empty: logs go to stdout only, where Docker's logging driver rotates them (a file inside the
# container would grow without bound).
ENV NODE_ENV=production \
    LOG_DIR="" \
    TRADEHOOK_SECRETS_DIR=/secrets
WORKDIR /app
# Code and dependencies stay owned by root: the service user can read them, not change them.
COPY --from=prod-deps /app /app
# Mount points of the secrets volumes: a fresh named volume copies this ownership, so the non-root init
# step can write into it (deploy/init-secrets.ts).
RUN mkdir -p /secrets/db /secrets/ingress /secrets/worker \
 && chown -R node:node /secrets \
 && chmod 0700 /secrets/db /secrets/ingress /secrets/worker
USER node
# Loads the secrets files this container mounts (never overriding a non-empty environment variable).
ENTRYPOINT ["/bin/sh", "/app/deploy/docker-entrypoint.sh"]
# Each compose service names its role; this default serves the webhook API.
CMD ["node", "--import", "tsx", "services/ingress/src/main.ts"]
EXPOSE 8001
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/app/deploy/healthcheck.mjs"]
