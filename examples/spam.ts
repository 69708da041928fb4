/**
 * Classify messages with the spam model through the customer API.
 *   INFERD_URL=http://127.0.0.1:8080 INFERD_API_KEY=ik_live_… node dist/examples/spam.js
 */
import { InferdClient, InferdApiError } from '../sdk/index.js';

const client = new InferdClient({
  apiKey: process.env.INFERD_API_KEY ?? '',
  baseUrl: process.env.INFERD_URL ?? 'http://127.0.0.1:8080',
});

try {
  const one = await client.predict<{ label: string; score: number }>('spam', {
    text: 'Subject: You have WON\n\nClaim your free prize now: buy now',
  });
  console.log(JSON.stringify(one));
  const many = await client.predict<{ results: Array<{ label: string; score: number }> }>('spam', {
    texts: ['Lunch at noon?', 'buy now'],
  });
  console.log(JSON.stringify(many));
  console.log(`rate limit: ${client.lastRateLimit?.remaining} of ${client.lastRateLimit?.limit} left`);
} catch (err) {
  if (err instanceof InferdApiError) {
    console.error(
      `inferd refused: ${err.code} (HTTP ${err.status}, request ${err.requestId}): ${err.message}`,
    );
    process.exit(1);
  }
  throw err;
}
