/** Command-line parsing shared by the CLI commands. */
import { parseArgs, ParseArgsConfig } from "util";
import { InputError } from "../errors";

/** Node's util.parseArgs, with an unknown or malformed option as the typed InputError every command reports. */
export function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}
