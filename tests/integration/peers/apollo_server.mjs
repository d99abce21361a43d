// Apollo Server (APQ on by default, batching allowed) serving the shared test schema's
// queries and mutations over HTTP, for the clew client's persisted-query and batch tests.
//
// Usage: node apollo_server.mjs <port>; GraphQL is served at /.
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const port = Number(process.argv[2]);
const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
const resolvers = {
  Query: {
    hello: (_root, { name }) => `Hello, ${name}!`,
    add: (_root, { a, b }) => a + b,
  },
  Mutation: { echo: (_root, { message }) => message },
};
const server = new ApolloServer({ typeDefs, resolvers, allowBatchedHttpRequests: true });
const { url } = await startStandaloneServer(server, {
  listen: { port, host: '127.0.0.1' },
});
process.stdout.write(`listening ${url}\n`);
