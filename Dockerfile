# The Arbiter worker, for docker-compose.yml.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY scripts ./scripts
COPY examples ./examples
ENV ARBITER_TASK_QUEUE=arbiter
CMD ["npx", "tsx", "src/worker/main.ts"]
