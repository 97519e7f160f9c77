# One image for the gateway, the dispatch worker and the clearance-center simulator (different commands).
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libxml2-utils openssl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY . .
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
USER node
EXPOSE 8080
ENTRYPOINT ["node", "bin/baygate.js"]
CMD ["serve"]
