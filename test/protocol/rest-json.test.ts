import { RestJsonClient } from '../../src/oip-client/rest-json.js';
import { runConformance } from './conformance.js';

runConformance('REST JSON', (server) => new RestJsonClient(server.httpUrl));
