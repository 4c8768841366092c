#include "program_spec.h"

namespace dynbatch {

static void checkId(const ProgramSpec& s, int id, const std::string& where) {
  if (id < 0 || id >= static_cast<int>(s.tensors.size()))
    throw SpecError(where + ": tensor id " + std::to_string(id) + " is out of range (0.." +
                    std::to_string(static_cast<int64_t>(s.tensors.size()) - 1) + ")");
}

void checkWritable(const ProgramSpec& s, int id, const std::string& where) {
  checkId(s, id, where);
  if (s.tensors[id].constant) throw SpecError(where + ": tensor " + std::to_string(id) + " is a constant");
}

void validateSpec(const ProgramSpec& s) {
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

OpSpec opSpecOf(const ProgramSpec& s, const OpEntry& e) {
  OpSpec os;
  os.type = e.type;
  os.name = e.name;
  os.attrs = e.attrs;
  os.maxBatch = s.maxBatch;
  for (int id : e.inputs) os.inputs.push_back(&s.tensors[id]);
  for (int id : e.outputs) os.outputs.push_back(&s.tensors[id]);
  return os;
}

}  // namespace dynbatch
