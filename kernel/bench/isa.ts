/**
 * oneDNN's CPU ISA cap (ONEDNN_MAX_CPU_ISA), which the bench sets for a child run (`--isa`) and
 * names in its reports. oneDNN reads the variable once, at its first ISA query, and silently
 * ignores a value it does not know: hence the check here.
 */
import { loadAddon } from "../plugins/native";

/** The values oneDNN 2.6 accepts (upper case; it ignores case). */
export const ISA_VALUES = [
  "SSE41",
  "AVX",
  "AVX2",
  "AVX2_VNNI",
  "AVX512_CORE",
  "AVX512_CORE_VNNI",
  "AVX512_CORE_BF16",
  "AVX512_CORE_AMX",
  "ALL",
] as const;

/** `name` in upper case when oneDNN accepts it, else undefined. */
export function parseIsa(name: string): string | undefined {
  const upper = name.trim().toUpperCase();
  return (ISA_VALUES as readonly string[]).includes(upper) ? upper : undefined;
}

/**
 * The instruction set oneDNN dispatches to in this process ("avx512_core_bf16"), with the cap
 * when ONEDNN_MAX_CPU_ISA sets one ("avx2 (ONEDNN_MAX_CPU_ISA=AVX2)").
 */
export function isaInEffect(env: NodeJS.ProcessEnv = process.env): string {
  const cap = parseIsa(env.ONEDNN_MAX_CPU_ISA ?? "");
  const isa = loadAddon().cpuIsa();
  return cap ? `${isa} (ONEDNN_MAX_CPU_ISA=${cap})` : isa;
}
