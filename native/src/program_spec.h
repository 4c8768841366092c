// A program spec as the plugins send it (tensors + ops in execution order, for a maximum batch)
// and the checks both executors (CPU and GPU) run on it before compiling, with one set of messages.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include "op.h"

namespace dynbatch {

struct OpEntry {
  std::string type;
  std::string name;
  Attrs attrs;
  std::vector<int> inputs;   // tensor ids
  std::vector<int> outputs;  // tensor ids
};

// How a request spreads a run over its threads (see Request in program.h).
enum class Parallel : int8_t { Auto, Layers, Samples };

struct ProgramSpec {
  int64_t maxBatch = 1;
  int threads = 1;
  // Every sample is computed from its own input alone (the shape-aware analysis proved it), so
  // threads may each take whole samples through the whole program.
  bool independentSamples = false;
  Parallel parallel = Parallel::Auto;
  std::vector<TensorDesc> tensors;
  std::vector<OpEntry> ops;
  std::vector<int> inputs;
  std::vector<int> outputs;
};

// Thrown for a malformed program spec or a bad run argument; becomes a JS Error.
class SpecError : public std::runtime_error {
 public:
  explicit SpecError(const std::string& msg) : std::runtime_error(msg) {}
};

// Throws SpecError for ids out of range, writes to constants, bad batched shapes or sizes.
void validateSpec(const ProgramSpec& s);

// Throws SpecError unless `id` names a non-constant tensor; `where` starts the message.
void checkWritable(const ProgramSpec& s, int id, const std::string& where);

// The op-level view of one spec entry: its tensors' descriptions instead of ids.
OpSpec opSpecOf(const ProgramSpec& s, const OpEntry& e);

}  // namespace dynbatch
