/**
 * What building the native addon from source needs (binding.gyp: a C++ compiler, make, oneDNN,
 * OpenCL and CLBlast), as Debian packages and the file each one provides. The install script
 * (scripts/install-native.js) skips the build when one is missing, and the first use of the addon
 * then names them in a NativeUnavailableError instead of crashing at require.
 */
import * as fs from "fs";
import * as path from "path";
import { NativeUnavailableError } from "../errors";

export interface Requirement {
  /** The Debian package that provides it. */
  package: string;
  kind: "command" | "header" | "library";
  /** A command on PATH, a header under an include dir, or a shared library under a lib dir. */
  file: string;
}

export const REQUIREMENTS: readonly Requirement[] = [
  { package: "g++", kind: "command", file: "g++" },
  { package: "make", kind: "command", file: "make" },
  { package: "libdnnl-dev", kind: "header", file: "oneapi/dnnl/dnnl.hpp" },
  { package: "opencl-headers", kind: "header", file: "CL/cl.h" },
  { package: "ocl-icd-opencl-dev", kind: "library", file: "libOpenCL.so" },
  { package: "libclblast-dev", kind: "header", file: "clblast.h" },
];

export interface SearchDirs {
  path: string[];
  include: string[];
  lib: string[];
}

/** Where the compiler and linker look by default on Debian: PATH, /usr{,/local}/include, the multiarch lib dirs. */
export function defaultSearchDirs(env: NodeJS.ProcessEnv = process.env): SearchDirs {
  const multiarch = fs.existsSync("/usr/lib") ? fs.readdirSync("/usr/lib").filter((d) => d.endsWith("-linux-gnu")) : [];
  return {
    path: (env.PATH ?? "").split(path.delimiter).filter(Boolean),
    include: ["/usr/local/include", "/usr/include"],
    lib: ["/usr/local/lib", ...multiarch.map((d) => path.join("/usr/lib", d)), "/usr/lib"],
  };
}

/** The packages whose file is found in none of their search dirs. */
export function missingPackages(dirs: SearchDirs = defaultSearchDirs(), requirements = REQUIREMENTS): string[] {
  const where = { command: dirs.path, header: dirs.include, library: dirs.lib };
  return requirements.filter((r) => !where[r.kind].some((d) => fs.existsSync(path.join(d, r.file)))).map((r) => r.package);
}

export function aptCommand(packages: string[]): string {
  return `sudo apt-get install ${packages.join(" ")}`;
}

/**
 * The error for an addon that is absent (`loadError` undefined) or does not load: it names the
 * packages missing now, the apt command, and the rebuild (`npm rebuild dynbatch`).
 */
export function unavailableError(
  addon: string,
  loadError: Error | undefined,
  missing = missingPackages(),
): NativeUnavailableError {
  const cause = loadError
    ? `${addon} does not load (${loadError.message.split("\n")[0]})`
    : `${addon} was not built when dynbatch was installed`;
  const fix = missing.length
    ? `it needs ${missing.join(", ")}: ${aptCommand(missing)}, then npm rebuild dynbatch`
    : `the build tools and libraries are present now: npm rebuild dynbatch`;
  return new NativeUnavailableError(`the native addon is unavailable: ${cause}; ${fix}`, missing);
}
