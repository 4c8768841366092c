#include "op.h"

namespace dynbatch {

double Attrs::num(const std::string& k) const {
  auto it = nums.find(k);
  if (it == nums.end() || it->second.size() != 1) throw std::runtime_error("attribute '" + k + "' must be one number");
  return it->second[0];
}

std::vector<int64_t> Attrs::ints(const std::string& k) const {
  auto it = nums.find(k);
  if (it == nums.end()) throw std::runtime_error("missing attribute '" + k + "'");
  return std::vector<int64_t>(it->second.begin(), it->second.end());
}

std::vector<float> Attrs::floats(const std::string& k) const {
  auto it = nums.find(k);
  if (it == nums.end()) throw std::runtime_error("missing attribute '" + k + "'");
  return std::vector<float>(it->second.begin(), it->second.end());
}

const std::string& Attrs::str(const std::string& k) const {
  auto it = strs.find(k);
  if (it == strs.end()) throw std::runtime_error("missing attribute '" + k + "'");
  return it->second;
}

OpRegistry& OpRegistry::instance() {
  static OpRegistry registry;
  return registry;
}

void OpRegistry::add(const std::string& type, OpFactory f) { factories_[type] = std::move(f); }

std::unique_ptr<Op> OpRegistry::create(const OpSpec& spec) const {
  auto it = factories_.find(spec.type);
  if (it == factories_.end()) throw OpError(spec.name, "native op type '" + spec.type + "' is not implemented");
  try {
    return it->second(spec);
  } catch (const OpError&) {
    throw;
  } catch (const std::exception& e) {
    throw OpError(spec.name, std::string(spec.type) + ": " + e.what());
  }
}

std::vector<std::string> OpRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& kv : factories_) out.push_back(kv.first);
  return out;
}

}  // namespace dynbatch
