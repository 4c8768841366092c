#include "program.h"

#include <omp.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "dnnl_common.h"

namespace dynbatch {

namespace {

void checkId(const ProgramSpec& s, int id, const std::string& where) {
  if (id < 0 || id >= static_cast<int>(s.tensors.size()))
    throw SpecError(where + ": tensor id " + std::to_string(id) + " is out of range (0.." +
                    std::to_string(static_cast<int64_t>(s.tensors.size()) - 1) + ")");
}

void checkWritable(const ProgramSpec& s, int id, const std::string& where) {
  checkId(s, id, where);
  if (s.tensors[id].constant) throw SpecError(where + ": tensor " + std::to_string(id) + " is a constant");
}

void validate(const ProgramSpec& s) {
  if (s.maxBatch < 1) throw SpecError("maxBatch must be >= 1, got " + std::to_string(s.maxBatch));
  if (s.threads < 1) throw SpecError("threads must be >= 1, got " + std::to_string(s.threads));
  for (size_t i = 0; i < s.tensors.size(); ++i) {
    const TensorDesc& t = s.tensors[i];
    const std::string where = "tensor " + std::to_string(i);
    for (auto d : t.maxShape)
      if (d < 0) throw SpecError(where + ": negative dimension " + std::to_string(d));
    if (t.batched) {
      if (t.constant) throw SpecError(where + ": a constant cannot be batched");
      if (t.maxShape.empty() || t.maxShape[0] != s.maxBatch)
        throw SpecError(where + ": batched tensor must have axis 0 == maxBatch (" + std::to_string(s.maxBatch) + ")");
    }
    if (t.constant && static_cast<int64_t>(t.data.size()) != numel(t.maxShape))
      throw SpecError(where + ": constant has " + std::to_string(t.data.size()) + " values, shape needs " +
                      std::to_string(numel(t.maxShape)));
  }
  for (const OpEntry& op : s.ops) {
    const std::string where = "op '" + op.name + "' (" + op.type + ")";
    for (int id : op.inputs) checkId(s, id, where + " input");
    for (int id : op.outputs) checkWritable(s, id, where + " output");
  }
  for (int id : s.inputs) checkWritable(s, id, "program input");
  for (int id : s.outputs) checkWritable(s, id, "program output");
}

}  // namespace

Program::Program(ProgramSpec spec) : spec_(std::move(spec)) {
  validate(spec_);
  ops_.reserve(spec_.ops.size());
  for (const OpEntry& e : spec_.ops) {
    OpSpec os;
    os.type = e.type;
    os.name = e.name;
    os.attrs = e.attrs;
    os.maxBatch = spec_.maxBatch;
    for (int id : e.inputs) os.inputs.push_back(&spec_.tensors[id]);
    for (int id : e.outputs) os.outputs.push_back(&spec_.tensors[id]);
    ops_.push_back(OpRegistry::instance().create(os));
  }
}

Request::Request(std::shared_ptr<const Program> program) : program_(std::move(program)) {
  const auto& tensors = program_->spec().tensors;
  buffers_.assign(tensors.size(), nullptr);
  try {
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (tensors[i].constant) continue;
      // 64-byte aligned for AVX-512 loads; at least one line so empty tensors get a valid pointer.
      size_t bytes = (program_->maxBytes(static_cast<int>(i)) + 63) / 64 * 64;
      if (bytes == 0) bytes = 64;
      void* p = std::aligned_alloc(64, bytes);
      if (!p) throw std::bad_alloc();
      std::memset(p, 0, bytes);
      buffers_[i] = static_cast<float*>(p);
    }
  } catch (...) {
    for (float* p : buffers_) std::free(p);
    throw;
  }
}

Request::~Request() {
  for (float* p : buffers_) std::free(p);
}

float* Request::buffer(int id) const {
  checkWritable(program_->spec(), id, "buffer");
  return buffers_[id];
}

std::vector<double> Request::run(int64_t n) {
  const ProgramSpec& s = program_->spec();
  if (n < 1 || n > s.maxBatch)
    throw SpecError("batch " + std::to_string(n) + " is out of range 1.." + std::to_string(s.maxBatch));
  omp_set_num_threads(s.threads);
  dnnl::stream stream(cpuEngine());
  RunContext ctx;
  ctx.batch = n;
  ctx.threads = s.threads;
  ctx.engineStream = &stream;

  auto tensorAt = [&](int id) {
    const TensorDesc& d = s.tensors[id];
    Tensor t;
    t.data = d.constant ? const_cast<float*>(d.data.data()) : buffers_[id];
    t.shape = d.shapeAt(n);
    return t;
  };

  std::vector<double> times(s.ops.size());
  std::vector<Tensor> in, out;
  for (size_t i = 0; i < s.ops.size(); ++i) {
    const OpEntry& e = s.ops[i];
    in.clear();
    out.clear();
    for (int id : e.inputs) in.push_back(tensorAt(id));
    for (int id : e.outputs) out.push_back(tensorAt(id));
    auto t0 = std::chrono::steady_clock::now();
    try {
      program_->ops()[i]->run(ctx, in, out);
      stream.wait();
    } catch (const OpError&) {
      throw;
    } catch (const std::exception& ex) {
      throw OpError(e.name, e.type + ": " + ex.what());
    }
    auto t1 = std::chrono::steady_clock::now();
    times[i] = std::chrono::duration<double, std::micro>(t1 - t0).count();
  }
  return times;
}

}  // namespace dynbatch
