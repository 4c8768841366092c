/** The CPUs a thread may run on, as Linux lists them in /proc (`Cpus_allowed_list`). */
import * as fs from "fs";

/** CPUs in a list such as "0-3,6". */
export function cpuList(text: string): number[] {
  return text
    .trim()
    .split(",")
    .flatMap((r) => {
      const [a, b] = r.split("-").map(Number);
      return Array.from({ length: (b ?? a) - a + 1 }, (_, i) => a + i);
    });
}

/** The CPUs of the thread whose status file this is (default: this process's main thread). */
export function allowedCpus(status = "/proc/self/status"): number[] {
  return cpuList(/Cpus_allowed_list:\s*(\S+)/.exec(fs.readFileSync(status, "utf8"))![1]);
}
