import pkg from "../package.json" with { type: "json" };

// One version string for --version, enrol/hello frames and the bench.
export const AGENT_VERSION: string = pkg.version;
