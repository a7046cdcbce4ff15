/** Environments for Python kernels: detection, backends, the prewarmed pool, resolution. */
export type { BackendName, EnvKind, EnvRequest } from "./request";
export type { EnvBackend, EnvProgress, EnvSpec, PythonEnv } from "./backend";
export { detectEnvironment, type DetectOptions } from "./detect";
export { parseEnvSource, envLabel, ENV_SOURCES, type EnvSource } from "./env-source";
export { VenvBackend, type VenvBackendOptions } from "./venv-backend";
export { UvBackend, type UvBackendOptions } from "./uv-backend";
export { CondaBackend, type CondaBackendOptions } from "./conda-backend";
export { EnvPool, type EnvPoolOptions, type PoolContents } from "./pool";
export { EnvCache, envCacheKey } from "./env-cache";
export { resolveEnvironment, type ResolveOptions, type ResolvedEnv } from "./resolve";
export { parseInstallerLine } from "./progress";
