// Apollo Client's own links against a GraphQL endpoint, recording every HTTP exchange: the
// persisted-queries link (APQ) over HttpLink, and BatchHttpLink (batching).
//
// Usage: node apollo_client.mjs <http-url> <scenario>, scenario one of:
//   apq      two runs of the same query, then a mutation, through PersistedQueryLink + HttpLink
//   apq-get  the same with useGETForHashedQueries: true
//   batch    three queries (one invalid) at once through BatchHttpLink (batchMax 10)
// Prints one JSON line per HTTP exchange ({"exchange": {method, url, body, status,
// response}}) and per operation result ({"result": {...}} or {"error": "..."}), then
// {"done": true}.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { BatchHttpLink } from '@apollo/client/link/batch-http';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { createHash } from 'node:crypto';

const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

async function recordingFetch(input, init = {}) {
  const response = await fetch(input, init);
  const text = await response.clone().text();
  print({
    exchange: {
      method: init.method ?? 'GET',
      url: String(input),
      body: init.body === undefined ? null : JSON.parse(init.body),
      status: response.status,
      response: JSON.parse(text),
    },
  });
  return response;
}

const HELLO = gql`query Hello($name: String) { hello(name: $name) }`;
const ECHO = gql`mutation Echo($message: String!) { echo(message: $message) }`;

async function run(url, scenario) {
  let link;
  if (scenario === 'batch') {
    link = new BatchHttpLink({ uri: url, fetch: recordingFetch, batchMax: 10, batchInterval: 20 });
  } else {
    const http = new HttpLink({ uri: url, fetch: recordingFetch });
    const apq = new PersistedQueryLink({ sha256, useGETForHashedQueries: scenario === 'apq-get' });
    link = ApolloLink.from([apq, http]);
  }
  const client = new ApolloClient({ link, cache: new InMemoryCache({ addTypename: false }) });
  const report = async (promise) => {
    try {
      const result = await promise;
      print({ result: { data: result.data ?? null, error: result.error?.message ?? null } });
    } catch (error) {
      print({ error: String(error?.message ?? error) });
    }
  };
  if (scenario === 'batch') {
    await Promise.all([
      report(client.query({ query: HELLO, variables: { name: 'one' }, fetchPolicy: 'no-cache' })),
      report(client.query({ query: gql`query Bad { nope }`, fetchPolicy: 'no-cache' })),
      report(client.query({ query: HELLO, variables: { name: 'three' }, fetchPolicy: 'no-cache' })),
    ]);
  } else {
    await report(client.query({ query: HELLO, variables: { name: 'apq' }, fetchPolicy: 'no-cache' }));
    await report(client.query({ query: HELLO, variables: { name: 'again' }, fetchPolicy: 'no-cache' }));
    await report(client.mutate({ mutation: ECHO, variables: { message: "m" } }));
  }
}

const [url, scenario] = process.argv.slice(2);
run(url, scenario)
  .catch((error) => print({ crash: String(error?.stack ?? error) }))
  .finally(() => print({ done: true }));
