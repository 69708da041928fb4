/**
 * docs/errors.md, generated from the one error catalogue (src/errors.ts) so that the page cannot
 * drift from the code (test/docs/errors-doc.test.ts compares them).
 * Usage: npm run build && node dist/scripts/errors-doc.js --write
 */
import { writeFileSync } from 'node:fs';
import { ERROR_CATALOGUE, GrpcStatus } from '../src/errors.js';

const GRPC_NAME = new Map<number, string>(Object.entries(GrpcStatus).map(([k, v]) => [v, k]));

const INTRO = `# Errors

<!-- Generated from src/errors.ts by \`node dist/scripts/errors-doc.js --write\`; edit the catalogue, not this page. -->

Every error a client can see has a stable \`code\`, defined once in \`src/errors.ts\` with its HTTP and
gRPC status. On \`/v2\` the body is the protocol's \`{"error": "<message>"}\` plus \`code\`; on gRPC the
status carries the message and the trailer \`inferd-error-code\` carries the code. On \`/v1\` and
\`/admin\` the same codes come as RFC 9457 problem details (\`application/problem+json\`): \`type\`
(\`https://inferd.dev/errors/<code>\`), \`title\`, \`status\`, \`detail\`, \`instance\` (the path), \`code\`
and \`request_id\` ([api.md](api.md)). Which credential each route needs is in
[access-control.md](access-control.md).

Messages never carry the server's absolute paths or a library's own text: model load failures (in
\`/v2/repository/index\`, model errors, gRPC RepositoryIndex) name files relative to the model
repository (\`corrupt/1/model.onnx\`) or as \`npm:<package>/<path>\`, as config.json does; image and
ONNX Runtime failures are told in inferd's words. The full text goes to the server log. Client text
quoted in a message (model names, input names, URLs, header values) is cut to 128 characters, with
the full length noted, e.g. \`'mmm…(+99872 chars)'\`; a message is at most 2,048 characters.

Errors found before a route is known (malformed HTTP, a malformed \`%\` escape or an over-long path
segment, a timeout at the connection) have the same body; under \`/v1\` and \`/admin\` escapes and
over-long segments are problem details, while a timeout or malformed HTTP, found before any route
is known, uses the \`/v2\` shape.

"Logged" says which codes the server logs as errors with their stack (its own faults); the others
are answers (bad input, refusals, limits, what the client caused), counted and access-logged like
any other request.
`;

/** The page as it should be. */
export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(
    ([code, e]) =>
      `| \`${code}\` | ${e.http} | ${GRPC_NAME.get(e.grpc) ?? e.grpc} | ${e.serverFault ? 'yes' : ''} | ${e.when} |`,
  );
  return `${INTRO}
| code | HTTP | gRPC | logged | when |
|---|---|---|---|---|
${rows.join('\n')}
`;
}

if (process.argv.includes('--write')) {
  writeFileSync('docs/errors.md', renderErrorsDoc());
  console.log('wrote docs/errors.md');
}
