import { RestBinaryClient } from '../../src/oip-client/rest-binary.js';
import { runConformance } from './conformance.js';

runConformance('REST binary tensors', (server) => new RestBinaryClient(server.httpUrl));
