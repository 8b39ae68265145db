# syntax=docker/dockerfile:1
# ticketplane's image: compiled JavaScript on Node 24, production
# dependencies only, run as a non-root user, nothing written outside /tmp
# (works with readOnlyRootFilesystem). test/deploy/build.test.ts runs the
# same build and install steps without Docker.
#
#   docker build -t REGISTRY/ticketplane:0.1.0 .
#   docker push REGISTRY/ticketplane:0.1.0

ARG NODE_IMAGE=node:24-slim

# Build: every dependency (TypeScript, the proto generators), then `npm run build` → dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY protos/package.json protos/externalscaler.proto protos/
COPY scripts/gen-protos.mjs scripts/
# `npm ci` runs `prepare`, which generates protos/gen from the Envoy protos in node_modules.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY scripts/build.mjs scripts/
COPY examples examples
RUN npm run build

# Runtime: production dependencies and dist/ only.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY protos/package.json protos/
# --ignore-scripts: `prepare` regenerates protos and needs the devDependencies; dist/ holds them compiled.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist dist
COPY bin bin
# The demo app (plain Node, no dependencies) for examples/kubernetes/.
COPY examples examples
# Not root, and not 1337 (the Istio sidecar's UID, whose traffic bypasses interception).
USER 10001:10001
EXPOSE 9001 9002 9003 9090 18000
ENTRYPOINT ["node", "/app/bin/ticketplane.js"]
CMD ["serve", "--kubernetes"]
