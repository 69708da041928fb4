import { GrpcClient } from '../../src/oip-client/grpc.js';
import { runConformance } from './conformance.js';

// The same cases twice: tensors as raw_input_contents (the default) and as typed contents.
runConformance('gRPC (raw contents)', (server) => new GrpcClient(server.grpcUrl));
runConformance('gRPC (typed contents)', (server) => new GrpcClient(server.grpcUrl, { encoding: 'typed' }));
