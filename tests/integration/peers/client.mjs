// A scriptable third-party GraphQL client for the integration tests: graphql-ws's
// createClient for subprotocol graphql-transport-ws, subscriptions-transport-ws's
// SubscriptionClient for the legacy subprotocol graphql-ws, both over the `ws` package, and
// graphql-sse's createClient for GraphQL over SSE (distinct connections mode as "graphql-sse",
// single connection mode as "graphql-sse-single"; the url is then the HTTP endpoint).
//
// Usage: node client.mjs <url> <graphql-transport-ws|graphql-ws|graphql-sse|graphql-sse-single>
//        [scenario-json]
// (the scenario is read from stdin when not given). Scenario:
//   {
//     "connectionParams": {...},        // connection_init payload (optional)
//     "headers": {...},                 // graphql-sse: headers of every request (optional)
//     "concurrent": false,              // run operations together instead of one after another
//     "timeoutMs": 10000,               // give up (printing {"event": "timeout"}) after this
//     "operations": [{
//       "id": "a",                      // label echoed on every line (default: its index)
//       "query": "...", "variables": {...}, "operationName": "...",
//       "take": 2,                      // unsubscribe after this many results (optional)
//       "delayMs": 0,                   // wait before starting (optional)
//       "until": {...}                  // repeat (20 ms apart, 100 times at most) until the
//     }]                                // result's data equals this (optional)
//   }
// Prints one JSON line per event, then {"done": true}, and exits 0:
//   {"event": "connected", "payload": ...}          connection acknowledged
//   {"event": "connection_error", "payload": ...}   legacy connection_error
//   {"event": "closed", "code": 1000, "reason": ""} the socket closed
//   {"id": "a", "event": "next", "payload": {...}}  one execution result
//   {"id": "a", "event": "complete"}                the server completed the operation
//   {"id": "a", "event": "error", ...}              "errors" (GraphQL errors), "close" or "message"
//   {"id": "a", "event": "unsubscribed"}            stopped by "take"
//   {"id": "a", "event": "aborted"}                 the socket closed with the operation open
import { createClient as createSSEClient } from 'graphql-sse';
import { createClient } from 'graphql-ws';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import WebSocket from 'ws';

const TRANSPORT_WS = 'graphql-transport-ws';
const LEGACY_WS = 'graphql-ws';
const SSE = 'graphql-sse';
const SSE_SINGLE = 'graphql-sse-single';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function readScenario(arg) {
  if (arg !== undefined && arg !== '-') return JSON.parse(arg);
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk;
  return JSON.parse(text);
}

/** Socket closes seen on any socket the client library opens, and who is waiting for them. */
function makeSocketClass(onClose) {
  return class RecordingWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('close', (event) => onClose(event.code, event.reason));
    }
  };
}

function describeError(error) {
  if (Array.isArray(error)) return { errors: error };
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    return { close: { code: error.code, reason: error.reason } };
  }
  if (error && typeof error === 'object' && 'message' in error && !(error instanceof Error)) {
    return { errors: [error] };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

/** Adapts either library to subscribe(payload, sink) -> unsubscribe, plus dispose(). */
function makeTransport(url, protocol, scenario, SocketClass) {
  if (protocol === TRANSPORT_WS) {
    const client = createClient({
      url,
      webSocketImpl: SocketClass,
      connectionParams: scenario.connectionParams,
      retryAttempts: 0,
      lazy: true,
      lazyCloseTimeout: 60_000,
      on: { connected: (_socket, payload) => print({ event: 'connected', payload: payload ?? null }) },
    });
    return {
      subscribe: (payload, sink) => client.subscribe(payload, sink),
      dispose: () => client.dispose(),
    };
  }
  if (protocol === LEGACY_WS) {
    const client = new SubscriptionClient(
      url,
      {
        reconnect: false,
        lazy: true,
        connectionParams: scenario.connectionParams ?? {},
        connectionCallback: (error) => {
          if (error) print({ event: 'connection_error', payload: error });
          else print({ event: 'connected', payload: null });
        },
      },
      SocketClass,
      LEGACY_WS,
    );
    return {
      subscribe: (payload, sink) => {
        const subscription = client.request(payload).subscribe(sink);
        return () => subscription.unsubscribe();
      },
      dispose: () => client.close(),
    };
  }
  if (protocol === SSE || protocol === SSE_SINGLE) {
    const client = createSSEClient({
      url,
      singleConnection: protocol === SSE_SINGLE,
      // One reservation for the whole scenario: after a lazy close the reference client
      // re-reserves with its own token, which its server may still hold (409).
      ...(protocol === SSE_SINGLE
        ? { lazy: false, onNonLazyError: (error) => print({ event: 'error', ...describeError(error) }) }
        : {}),
      headers: scenario.headers ?? {},
      retryAttempts: 0,
      on: {
        connected: () => print({ event: 'connected', payload: null }),
      },
    });
    return {
      subscribe: (payload, sink) => client.subscribe(payload, sink),
      dispose: () => {
        client.dispose();
        print({ event: 'closed', code: null, reason: '' });
      },
    };
  }
  throw new Error(`unknown subprotocol ${protocol}`);
}

function runOnce(transport, op, label, watcher) {
  return new Promise((resolve) => {
    let seen = 0;
    let lastData;
    let finished = false;
    let unsubscribe = () => {};
    const finish = (line) => {
      if (finished) return;
      finished = true;
      watcher.delete(abort);
      if (line) print(line);
      resolve(lastData);
    };
    const abort = () => {
      // Stops graphql-ws from reconnecting for this operation (it does after a 1000 close).
      unsubscribe();
      finish({ id: label, event: 'aborted' });
    };
    watcher.add(abort);
    const payload = { query: op.query };
    if (op.variables !== undefined) payload.variables = op.variables;
    if (op.operationName !== undefined) payload.operationName = op.operationName;
    unsubscribe = transport.subscribe(payload, {
      next: (result) => {
        if (finished) return;
        seen += 1;
        lastData = result.data;
        print({ id: label, event: 'next', payload: result });
        if (op.take !== undefined && seen >= op.take) {
          unsubscribe();
          finish({ id: label, event: 'unsubscribed' });
        }
      },
      error: (error) => finish({ id: label, event: 'error', ...describeError(error) }),
      complete: () => finish({ id: label, event: 'complete' }),
    });
  });
}

async function runOperation(transport, op, index, watcher) {
  const label = op.id ?? String(index);
  if (op.delayMs) await sleep(op.delayMs);
  const wanted = op.until === undefined ? undefined : JSON.stringify(op.until);
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const data = await runOnce(transport, op, label, watcher);
    if (wanted === undefined || JSON.stringify(data) === wanted) return;
    await sleep(20);
  }
}

async function main() {
  const [url, protocol, scenarioArg] = process.argv.slice(2);
  const scenario = await readScenario(scenarioArg);
  const pending = new Set();
  let closeSeen = () => {};
  const closed = new Promise((resolve) => {
    closeSeen = resolve;
  });
  const SocketClass = makeSocketClass((code, reason) => {
    print({ event: 'closed', code, reason });
    closeSeen();
    // Let the library report the close to its operations first (it does so in promise
    // callbacks, which run before this timer); abort whatever it leaves open.
    setTimeout(() => {
      for (const abort of [...pending]) abort();
    }, 0);
  });
  const transport = makeTransport(url, protocol, scenario, SocketClass);
  const operations = scenario.operations ?? [];
  const run = async () => {
    if (scenario.concurrent) {
      await Promise.all(operations.map((op, i) => runOperation(transport, op, i, pending)));
    } else {
      for (const [i, op] of operations.entries()) await runOperation(transport, op, i, pending);
    }
  };
  const timeoutMs = scenario.timeoutMs ?? 10_000;
  const timedOut = await Promise.race([
    run().then(() => false),
    sleep(timeoutMs).then(() => true),
  ]);
  if (timedOut) print({ event: 'timeout' });
  try {
    await transport.dispose();
  } catch {
    // graphql-ws rethrows the close that ended a failed connection; it was printed already.
  }
  await Promise.race([closed, sleep(500)]);
  print({ done: true });
  process.exit(0);
}

main().catch((error) => {
  const message = error instanceof Error ? error.stack : JSON.stringify(error);
  print({ event: 'crash', message });
  print({ done: true });
  process.exit(0);
});
