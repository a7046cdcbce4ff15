/** Jupyter kernels: wire protocol over ZeroMQ, kernelspecs, launch and lifecycle. */
export { Kernel, type ExecuteOptions, type KernelExit, type KernelLaunchOptions, type RequestChannel } from "./kernel";
export type { KernelHandle } from "./kernel-handle";
export { DEFAULT_HEARTBEAT, type HeartbeatOptions } from "./heartbeat";
export {
  findKernelSpec,
  findKernelSpecs,
  jupyterDataDirs,
  parseKernelSpec,
  pythonKernelSpec,
  type KernelSpec,
} from "./kernelspec";
export { canImportIpykernel, findIpykernelPython, searchPython, noIpykernelMessage, PYTHON_ENV_VAR, type PythonSearch } from "./python-search";
export { endpoint, findFreePorts, writeConnectionFile, type ConnectionFile, type ConnectionInfo } from "./connection-file";
export {
  createMessage,
  deserialize,
  serialize,
  PROTOCOL_VERSION,
  WireError,
  type JupyterHeader,
  type JupyterMessage,
  type SigningKey,
} from "./wire";
