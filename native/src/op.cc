#include "op.h"

namespace dynbatch {

const char* layoutName(Layout layout) {
  switch (layout) {
    case Layout::Plain: return "plain";
    case Layout::Nhwc: return "nhwc";
    case Layout::NChw8c: return "nChw8c";
    case Layout::NChw16c: return "nChw16c";
  }
  return "?";
}

size_t layoutBytes(const Shape& shape, Layout layout) {
  int64_t block = layout == Layout::NChw8c ? 8 : layout == Layout::NChw16c ? 16 : 1;
  if (block == 1 || shape.size() < 2) return static_cast<size_t>(numel(shape)) * sizeof(float);
  Shape padded = shape;
  padded[1] = (shape[1] + block - 1) / block * block;
  return static_cast<size_t>(numel(padded)) * sizeof(float);
}

void Op::negotiate(std::vector<Layout>& in, std::vector<Layout>& out) {
  for (auto& l : in) l = Layout::Plain;
  for (auto& l : out) l = Layout::Plain;
}

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
