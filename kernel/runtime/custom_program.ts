/**
 * Runs a network with custom layers: the graph is cut at each custom layer into native segments
 * that the device plugin compiles as usual, and the custom layers' compute callbacks run in
 * between on the CPU, on the request's n samples at once (a GPU segment's tensors pass through
 * host memory). Values crossing a cut live in host buffers sized for the maximum batch.
 */
import { Graph, Node, PortRef, nodeMap } from "../graph/graph";
import { graphInputs, graphOutputs } from "../graph/io";
import { constOutput } from "../graph/prepare";
import { numel } from "../graph/ops/util";
import { ExtensionError } from "../errors";
import { CompileOptions, CompiledModel, DeviceRequest, ExecutedLayer, IoBinding, Plugin } from "../plugins/plugin";
import { Extension, extensionLabel } from "./extension";

const key = (r: PortRef) => `${r.node}:${r.port}`;

/** A value crossing a cut, as compiled: shape at the maximum batch, and its data when it is a constant. */
interface ValueSpec {
  shape: number[];
  batched: boolean;
  constant?: ArrayLike<number>;
}

/** A request's host buffer for a value, sized for the maximum batch. */
interface Value {
  shape: number[];
  batched: boolean;
  data: Float32Array;
}

interface NativeStep {
  kind: "native";
  model: CompiledModel;
  /** Segment inputs and outputs, by the value each carries (in the segment's input/output order). */
  ins: string[];
  outs: string[];
}

interface CustomStep {
  kind: "custom";
  node: Node;
  ext: Extension;
}

/** Elements of a value at batch n. */
function sizeAt(v: Value, n: number): number {
  return v.batched ? (numel(v.shape) / v.shape[0]) * n : numel(v.shape);
}

function shapeAt(v: Value, n: number): number[] {
  return v.batched ? [n, ...v.shape.slice(1)] : [...v.shape];
}

export function compileWithExtensions(
  plugin: Plugin,
  g: Graph,
  opts: CompileOptions,
  extensionOf: (n: Node) => Extension | undefined,
): CompiledModel {
  const byId = nodeMap(g);
  // Per value crossing a cut; each request allocates its own buffers from these.
  const specs = new Map<string, ValueSpec>();
  const batchedOf = (r: PortRef) => opts.batched?.get(r.node)?.[r.port] ?? false;
  const specOf = (r: PortRef): ValueSpec => {
    let v = specs.get(key(r));
    if (!v) {
      const shape = byId.get(r.node)!.outputs[r.port].shape;
      v = { shape, batched: batchedOf(r), constant: constOutput(byId.get(r.node)!, r.port)?.data };
      specs.set(key(r), v);
    }
    return v;
  };
  const isConst = (r: PortRef) => constOutput(byId.get(r.node)!, r.port) !== undefined;

  // Layers in order, cut at every custom layer; Parameters, Results and constants belong to none.
  const groups: (Node[] | Node)[] = [];
  for (const n of g.nodes) {
    if (n.type === "Parameter" || n.type === "Result" || n.type === "Const" || n.folded) continue;
    if (extensionOf(n)) groups.push(n);
    else if (Array.isArray(groups[groups.length - 1])) (groups[groups.length - 1] as Node[]).push(n);
    else groups.push([n]);
  }
  const consumers = new Map<string, Set<number>>();
  for (const n of g.nodes) for (const r of n.inputs) consumers.set(key(r), (consumers.get(key(r)) ?? new Set()).add(n.id));

  let nextId = Math.max(...g.nodes.map((n) => n.id)) + 1;
  const planned: (NativeStep | CustomStep | undefined)[] = groups.map((group) => {
    if (!Array.isArray(group)) {
      group.inputs.forEach(specOf);
      group.outputs.forEach((_, port) => specOf({ node: group.id, port }));
      return { kind: "custom", node: group, ext: extensionOf(group)! };
    }
    const inside = new Set(group.map((n) => n.id));
    const nodes: Node[] = [];
    const params = new Map<string, Node>();
    const consts = new Set<number>();
    const body = group.map((n) => ({
      ...n,
      inputs: n.inputs.map((r) => {
        if (inside.has(r.node)) return r;
        // Constants are copied into the segment, which keeps them as weights; everything else is an input.
        if (isConst(r)) {
          if (!consts.has(r.node)) nodes.push(byId.get(r.node)!);
          consts.add(r.node);
          return r;
        }
        let p = params.get(key(r));
        if (!p) {
          const port = byId.get(r.node)!.outputs[r.port];
          p = {
            id: nextId++,
            name: `${byId.get(r.node)!.name}/${r.port}`,
            type: "Parameter",
            version: "opset1",
            attrs: {},
            inputs: [],
            outputs: [{ names: [], dtype: port.dtype, shape: [...port.shape] }],
          };
          params.set(key(r), p);
          specOf(r);
        }
        return { node: p.id, port: 0 };
      }),
    }));
    const outs: string[] = [];
    const results: Node[] = [];
    for (const n of group)
      n.outputs.forEach((_, port) => {
        const r = { node: n.id, port };
        if ([...(consumers.get(key(r)) ?? [])].some((id) => !inside.has(id))) {
          outs.push(key(r));
          specOf(r);
          results.push({
            id: nextId++,
            name: `${n.name}/${port}/out`,
            type: "Result",
            version: "opset1",
            attrs: {},
            inputs: [r],
            outputs: [],
          });
        }
      });
    // Nothing outside reads this segment (dead layers): there is nothing to run.
    if (outs.length === 0) return undefined;
    const batched = opts.batched && new Map(opts.batched);
    for (const [k, p] of params)
      batched?.set(p.id, [batchedOf({ node: Number(k.split(":")[0]), port: Number(k.split(":")[1]) })]);
    const segment: Graph = { ...g, nodes: [...params.values(), ...nodes, ...body, ...results] };
    const model = plugin.compile(segment, { ...opts, batched });
    return { kind: "native", model, ins: [...params.keys()], outs };
  });

  const steps = planned.filter((s): s is NativeStep | CustomStep => s !== undefined);
  const inputs: IoBinding[] = graphInputs(g).map((io, i) => ({
    name: io.name,
    aliases: io.aliases,
    shape: specOf(io.ref).shape,
    batched: batchedOf(io.ref),
    tensor: i,
  }));
  const outputRefs = graphOutputs(g).map((io) => io.ref);
  const outputs: IoBinding[] = graphOutputs(g).map((io, i) => ({
    name: io.name,
    aliases: io.aliases,
    shape: specOf(io.ref).shape,
    batched: batchedOf(io.ref),
    tensor: inputs.length + i,
  }));
  const layers: ExecutedLayer[] = steps.flatMap((s) =>
    s.kind === "native" ? s.model.layers : [{ name: s.node.name, type: s.node.type, execType: "custom" }],
  );

  return {
    inputs,
    outputs,
    layers,
    createRequest(): DeviceRequest {
      const requests = steps.map((s) => (s.kind === "native" ? s.model.createRequest() : undefined));
      const values = new Map<string, Value>();
      for (const [k, spec] of specs) {
        const data = new Float32Array(numel(spec.shape));
        if (spec.constant) data.set(spec.constant);
        values.set(k, { shape: spec.shape, batched: spec.batched, data });
      }
      const valueOf = (r: PortRef) => values.get(key(r))!;
      // Each output gets its own buffer: several outputs may show the same value, and users may write into them.
      const outBuffers = outputRefs.map((r) => new Float32Array(valueOf(r).data.length));
      const ioValues = graphInputs(g).map((io) => valueOf(io.ref));
      return {
        buffer: (tensor) => (tensor < inputs.length ? ioValues[tensor].data : outBuffers[tensor - inputs.length]),
        async run(n: number): Promise<Float64Array> {
          const times: number[] = [];
          for (const [i, s] of steps.entries()) {
            if (s.kind === "native") {
              const req = requests[i]!;
              s.model.inputs.forEach((b, j) => {
                const v = values.get(s.ins[j])!;
                req.buffer(b.tensor).set(v.data.subarray(0, sizeAt(v, n)));
              });
              times.push(...(await req.run(n)));
              s.model.outputs.forEach((b, j) => {
                const v = values.get(s.outs[j])!;
                v.data.set(req.buffer(b.tensor).subarray(0, sizeAt(v, n)));
              });
            } else times.push(runCustom(s, n, valueOf));
          }
          outputRefs.forEach((r, j) => {
            const v = valueOf(r);
            outBuffers[j].set(v.data.subarray(0, sizeAt(v, n)));
          });
          return Float64Array.from(times);
        },
      };
    },
  };
}

/** Calls a custom layer's compute on n samples; returns its time in µs. */
function runCustom(s: CustomStep, n: number, valueOf: (r: PortRef) => Value): number {
  const label = extensionLabel(s.ext);
  const ins = s.node.inputs.map(valueOf);
  const outs = s.node.outputs.map((_, port) => valueOf({ node: s.node.id, port }));
  const outputs = outs.map((v) => v.data.subarray(0, sizeAt(v, n)));
  const shapes = { inputs: ins.map((v) => shapeAt(v, n)), outputs: outs.map((v) => shapeAt(v, n)) };
  const start = performance.now();
  let returned: unknown;
  try {
    returned = s.ext.compute(
      ins.map((v) => v.data.slice(0, sizeAt(v, n))),
      { ...s.node.attrs },
      outputs,
      shapes,
    );
  } catch (e) {
    throw new ExtensionError(label, `compute threw: ${(e as Error)?.message ?? String(e)}`, s.node.name);
  }
  if (returned !== undefined) {
    if (!Array.isArray(returned) || returned.length !== outputs.length)
      throw new ExtensionError(
        label,
        `compute returned ${describe(returned)}; expected ${outputs.length} array(s) or nothing`,
        s.node.name,
      );
    returned.forEach((r: unknown, i) => {
      if (!(r instanceof Float32Array) || r.length !== outputs[i].length)
        throw new ExtensionError(
          label,
          `compute returned ${describe(r)} for output ${i}; expected a Float32Array of ${outputs[i].length} values [${shapes.outputs[i]}]`,
          s.node.name,
        );
      if (r !== outputs[i]) outputs[i].set(r);
    });
  }
  return (performance.now() - start) * 1000;
}

function describe(v: unknown): string {
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of ${(v as Float32Array).length} values`;
  return Array.isArray(v) ? `an array of ${v.length}` : typeof v;
}
