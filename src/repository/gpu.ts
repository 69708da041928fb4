/**
 * Whether this machine has an NVIDIA GPU that ONNX Runtime's CUDA provider could use: the driver's
 * control device exists. Checked when a config asks for KIND_GPU instances, so that such a config
 * fails its load with a clear reason on a CPU machine instead of deep inside ONNX Runtime.
 * INFERD_ASSUME_NO_GPU=1 answers false (tests of the CPU behaviour on a GPU machine).
 */
import { existsSync } from 'node:fs';

export function hasGpu(): boolean {
  if (process.env.INFERD_ASSUME_NO_GPU === '1') return false;
  return existsSync('/dev/nvidiactl');
}
