/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha), so that grpcurl, Postman and friends
 * can list and call our services without local .proto files.
 *
 * The descriptors are the ones @grpc/proto-loader built from proto/ (protobufjs names one file per
 * package, e.g. `inference.proto`, with no imports between them). A symbol request answers with the
 * file of the symbol's package; a filename request accepts those names and our proto/ file names.
 */
import type * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { clip } from '../../core/clip.js';

interface ReflectionRequest {
  host?: string;
  message_request?:
    | 'file_by_filename'
    | 'file_containing_symbol'
    | 'file_containing_extension'
    | 'all_extension_numbers_of_type'
    | 'list_services';
  file_by_filename?: string;
  file_containing_symbol?: string;
  all_extension_numbers_of_type?: string;
}

interface DescriptorFile {
  name: string;
  pkg: string;
  bytes: Buffer;
}

/** Our proto/ file names → the package protobufjs put their contents in. */
const SOURCE_FILES: Record<string, string> = {
  'grpc_service.proto': 'inference',
  'triton/model_config.proto': 'inference',
  'health.proto': 'grpc.health.v1',
  'reflection_v1alpha.proto': 'grpc.reflection.v1alpha',
  'reflection_v1.proto': 'grpc.reflection.v1',
};

const NOT_FOUND = 5;
const UNIMPLEMENTED = 12;

/** Reads FileDescriptorProto fields 1 (name) and 2 (package), both strings at the top level. */
function nameAndPackage(bytes: Buffer): { name: string; pkg: string } {
  let off = 0;
  const out = { name: '', pkg: '' };
  const varint = (): number => {
    let shift = 0;
    let v = 0;
    for (;;) {
      const b = bytes[off++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  while (off < bytes.length && (!out.name || !out.pkg)) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 1) off += 8;
    else if (wire === 5) off += 4;
    else if (wire === 2) {
      const len = varint();
      const s = bytes.subarray(off, off + len).toString('utf8');
      if (tag >>> 3 === 1) out.name = s;
      if (tag >>> 3 === 2) out.pkg = s;
      off += len;
    } else break;
  }
  return out;
}

export function reflectionHandlers(
  definition: protoLoader.PackageDefinition,
  serviceNames: string[],
): grpc.UntypedServiceImplementation {
  const first = Object.values(definition).find((d) => 'fileDescriptorProtos' in d) as {
    fileDescriptorProtos: Buffer[];
  };
  const files: DescriptorFile[] = first.fileDescriptorProtos.map((bytes) => ({
    ...nameAndPackage(bytes),
    bytes,
  }));
  const symbols = new Set(Object.keys(definition));

  const filesFor = (pkg: string | undefined): Buffer[] | undefined => {
    const file = files.find((f) => f.pkg === pkg);
    return file ? [file.bytes] : undefined;
  };

  const symbolPackage = (symbol: string): string | undefined => {
    // A service, message or enum is a key of the definition; a method is service + '.' + name.
    const owner = symbols.has(symbol) ? symbol : symbol.slice(0, symbol.lastIndexOf('.'));
    if (!symbols.has(owner)) return undefined;
    return files.map((f) => f.pkg).find((p) => owner.startsWith(`${p}.`));
  };

  const answer = (req: ReflectionRequest): Record<string, unknown> => {
    const error = (code: number, message: string) => ({
      error_response: { error_code: code, error_message: message },
    });
    switch (req.message_request) {
      case 'list_services':
        return { list_services_response: { service: serviceNames.map((name) => ({ name })) } };
      case 'file_containing_symbol': {
        const found = filesFor(symbolPackage(req.file_containing_symbol ?? ''));
        return found
          ? { file_descriptor_response: { file_descriptor_proto: found } }
          : error(NOT_FOUND, `symbol '${clip(req.file_containing_symbol)}' not found`);
      }
      case 'file_by_filename': {
        const name = req.file_by_filename ?? '';
        const found = filesFor(files.find((f) => f.name === name)?.pkg ?? SOURCE_FILES[name]);
        return found
          ? { file_descriptor_response: { file_descriptor_proto: found } }
          : error(NOT_FOUND, `file '${clip(name)}' not found`);
      }
      case 'all_extension_numbers_of_type':
        return {
          all_extension_numbers_response: {
            base_type_name: req.all_extension_numbers_of_type ?? '',
            extension_number: [],
          },
        };
      default:
        return error(
          UNIMPLEMENTED,
          `reflection request '${req.message_request ?? 'none'}' is not supported (no extensions are defined)`,
        );
    }
  };

  const ServerReflectionInfo = (
    call: grpc.ServerDuplexStream<ReflectionRequest, Record<string, unknown>>,
  ): void => {
    call.on('data', (req: ReflectionRequest) => {
      call.write({ valid_host: req.host ?? '', original_request: req, ...answer(req) });
    });
    call.on('end', () => call.end());
    call.on('error', () => undefined);
  };
  return { ServerReflectionInfo };
}
