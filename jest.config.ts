import type { Config } from "jest";

const config: Config = {
  testEnvironment: "node",
  roots: ["<rootDir>/spec"],
  testMatch: ["**/*.spec.ts"],
  // ts-jest only transpiles (tsconfig has isolatedModules): `npm test` type-checks the whole
  // project once with tsc before jest runs, instead of once per spec file.
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  testTimeout: 60_000,
  setupFiles: ["<rootDir>/spec/setup-platform.ts"],
};

export default config;
