#!/usr/bin/env node
/** The `dynbatch` command: dispatches to the demos. */
import { DynbatchError } from "../errors";
import { main as imageDemo } from "./demo";
import { runDoctor } from "./doctor";
import { runKernel } from "./kernel";
import { runLab } from "./lab";
import { runVideoDemo } from "./video";

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  demo: {
    summary: "face cascade on a video with dynamic batching; writes an annotated video and compares strategies",
    run: runVideoDemo,
  },
  image: {
    summary: "topology verdicts of the bundled models, the face cascade on one image, what setBatch(n) costs",
    run: imageDemo,
  },
  doctor: {
    summary: "what is installed: oneDNN and CPU ISA, OpenCL devices, this project's kernel, the JupyterLab extension",
    run: runDoctor,
  },
  kernel: {
    summary: "registers this project's tslab kernel (one per project) so notebooks import dynbatch from it",
    run: runKernel,
  },
  lab: {
    summary: "installs (or uninstalls) the prebuilt JupyterLab extension where `jupyter --paths` looks",
    run: runLab,
  },
  help: {
    summary: "this text; `dynbatch COMMAND --help` for a command's options",
    run: async () => {
      console.log(usage());
      return 0;
    },
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    "usage: dynbatch COMMAND [options]",
    "",
    "commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "example: dynbatch demo --frames 50 --out annotated.mp4",
  ].join("\n");
}

/** Runs `dynbatch ARGS…`; returns the exit code (1 on an error, 2 for an unknown command). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") return COMMANDS.help.run(rest);
  const command = COMMANDS[name];
  if (!command) {
    console.error(`dynbatch: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    const err = e as Error;
    console.error(`\ndynbatch ${name}: ${err instanceof DynbatchError ? `${err.code}: ` : ""}${err.message}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
