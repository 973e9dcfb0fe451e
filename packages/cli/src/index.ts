// @muster/cli: the operator CLI as a library (tests drive it in-process; bin.ts is the executable).
export { type OperatorIo, runOperator } from "./main.ts";
