#!/bin/sh
# Stand-in for Prisma's native schema engine, which cannot be downloaded here (docs/decisions/0007-prisma-offline.md).
# `prisma generate` only needs the file to exist. Anything that would really run the engine
# (migrate, db push, introspection) must fail loudly rather than "succeed".
echo "tradehook: the Prisma schema engine is not installed; migrations are applied by 'pnpm db:migrate'." >&2
exit 1
