# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript and the better-sqlite3 native addon in a full image,
# ship only production dependencies and compiled JavaScript on a slim base, run as non-root.

FROM node:20-bookworm AS build
WORKDIR /app
# node-gyp builds better-sqlite3 against the image's own Node headers.
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# schemas/ holds the SCIM access extension that src/scim/schema.ts imports at build time.
COPY schemas ./schemas
COPY src ./src
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    SCIM_BRIDGE_DB=/data/scim-bridge.db
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node schemas ./schemas
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# /healthz answers without a token; node's fetch avoids installing curl in the slim image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/main.js"]
