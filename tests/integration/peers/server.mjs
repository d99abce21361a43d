// The reference Node GraphQL server the integration tests compare clew against: one process
// serving tests/integration/schema.graphql over graphql-http (HTTP), graphql-ws (subprotocol
// graphql-transport-ws) and subscriptions-transport-ws (legacy subprotocol graphql-ws) at /graphql,
// and over graphql-sse (GraphQL over SSE, both modes) at /sse.
//
// Usage: node server.mjs [port]   (or PORT=...; 0 or nothing picks a free port)
// Prints "LISTENING <port>" on stdout once it accepts connections; exits on SIGTERM/SIGINT.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { buildSchema, execute, subscribe } from 'graphql';
import { createHandler } from 'graphql-http/lib/use/http';
import { createHandler as createSSEHandler } from 'graphql-sse/lib/use/http';
import { useServer } from 'graphql-ws/use/ws';
import { SubscriptionServer } from 'subscriptions-transport-ws';
import { WebSocketServer } from 'ws';

const PATH = '/graphql';
const SSE_PATH = '/sse';
const REJECTED_TOKEN = 'wrong';
const TRANSPORT_WS = 'graphql-transport-ws';
const LEGACY_WS = ['graphql-ws', 'graphql-subscriptions'];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rooms of subscriber inboxes; an inbox is registered when the subscription is created. */
class PubSub {
  constructor() {
    this.rooms = new Map();
  }

  publish(room, text) {
    const inboxes = this.rooms.get(room);
    if (!inboxes || inboxes.size === 0) return false;
    for (const inbox of inboxes) inbox.push(text);
    return true;
  }

  subscribe(room) {
    const inboxes = this.rooms.get(room) ?? new Set();
    this.rooms.set(room, inboxes);
    const queue = [];
    const waiting = [];
    let closed = false;
    const inbox = {
      push(text) {
        const resolve = waiting.shift();
        if (resolve) resolve({ value: text, done: false });
        else queue.push(text);
      },
    };
    inboxes.add(inbox);
    const close = () => {
      closed = true;
      inboxes.delete(inbox);
      if (inboxes.size === 0) this.rooms.delete(room);
      for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    };
    return {
      next() {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift(), done: false });
        if (closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiting.push(resolve));
      },
      return: close,
      throw(error) {
        close();
        return Promise.reject(error);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}

function tokenFromAuthorization(header) {
  if (!header) return null;
  const [scheme, ...rest] = header.split(' ');
  return scheme.toLowerCase() === 'bearer' && rest.length > 0 ? rest.join(' ') : header;
}

function buildTestSchema() {
  const sdl = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
  const schema = buildSchema(sdl);
  const pubsub = new PubSub();
  const query = schema.getQueryType().getFields();
  const mutation = schema.getMutationType().getFields();
  const subscription = schema.getSubscriptionType().getFields();

  query.hello.resolve = (_root, { name }) => `Hello, ${name}!`;
  query.add.resolve = (_root, { a, b }) => a + b;
  query.fail.resolve = () => {
    throw new Error('boom');
  };
  query.slow.resolve = async (_root, { ms }) => {
    await sleep(ms);
    return `slept ${ms}`;
  };
  query.whoami.resolve = (_root, _args, context) => context?.token ?? null;
  mutation.echo.resolve = (_root, { message }) => message;
  mutation.publish.resolve = (_root, { room, text }) => pubsub.publish(room, text);

  subscription.count.subscribe = async function* (_root, { to, delayMs }) {
    for (let value = 1; value <= to; value += 1) {
      if (delayMs > 0) await sleep(delayMs);
      yield value;
    }
  };
  subscription.failAfter.subscribe = async function* (_root, { n }) {
    for (let value = 1; value <= n; value += 1) yield value;
    throw new Error('boom');
  };
  subscription.messages.subscribe = (_root, { room }) => pubsub.subscribe(room);
  for (const field of Object.values(subscription)) field.resolve = (value) => value;
  return schema;
}

function main() {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
  const schema = buildTestSchema();

  const httpHandler = createHandler({
    schema,
    context: (req) => ({ token: tokenFromAuthorization(req.headers.authorization) }),
  });
  const sseHandler = createSSEHandler({
    schema,
    context: (req) => ({ token: tokenFromAuthorization(req.raw.headers.authorization) }),
  });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === SSE_PATH) {
      sseHandler(req, res).catch((error) => {
        process.stderr.write(`graphql-sse handler failed: ${error}\n`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
      return;
    }
    if (path !== PATH) {
      res.writeHead(404).end();
      return;
    }
    httpHandler(req, res);
  });

  // graphql-ws installs its own handleProtocols (accepting only graphql-transport-ws).
  const transportWss = new WebSocketServer({ noServer: true });
  useServer(
    {
      schema,
      context: (ctx) => ({ token: ctx.connectionParams?.token ?? null }),
      onConnect: (ctx) => ctx.connectionParams?.token !== REJECTED_TOKEN,
    },
    transportWss,
  );

  const legacyWss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => LEGACY_WS.find((p) => protocols.has(p)) ?? false,
  });
  SubscriptionServer.create(
    {
      schema,
      execute,
      subscribe,
      // The returned object becomes the operation context; throwing sends connection_error.
      onConnect: (params) => {
        if (params?.token === REJECTED_TOKEN) throw new Error('Forbidden');
        return { token: params?.token ?? null };
      },
    },
    legacyWss,
  );

  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    const offered = (req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    // Prefer the current protocol; anything unknown goes to graphql-ws, which closes 4406.
    const legacy = !offered.includes(TRANSPORT_WS) && offered.some((p) => LEGACY_WS.includes(p));
    const wss = legacy ? legacyWss : transportWss;
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const stop = () => {
    for (const wss of [transportWss, legacyWss]) {
      for (const client of wss.clients) client.terminate();
    }
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`LISTENING ${server.address().port}\n`);
  });
}

main();
