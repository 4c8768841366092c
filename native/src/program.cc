#include "program.h"

#include <omp.h>

#include <algorithm>
#include <climits>
#include <map>

#include "dnnl_common.h"

namespace dynbatch {

namespace {

// Whether two layouts of a tensor put every value at the same offset: always for 1x1 maps of
// nhwc/plain, and for blocked layouts when the channels fill whole blocks too.
bool sameOffsets(const Shape& s, Layout a, Layout b) {
  if (a == b) return true;
  if (s.size() != 4 || s[2] * s[3] != 1) return false;
  return layoutBytes(s, a) == layoutBytes(s, Layout::Plain) && layoutBytes(s, b) == layoutBytes(s, Layout::Plain);
}

// Union-find over tensor ids with what buffer planning needs per group.
struct Groups {
  std::vector<int> parent;
  std::vector<int> firstDef, lastUse;
  std::vector<int> external;  // a program input/output member, or -1
  std::vector<bool> hasInput;
  explicit Groups(size_t n) : parent(n), firstDef(n, INT_MAX), lastUse(n, -1), external(n, -1), hasInput(n, false) {
    for (size_t i = 0; i < n; ++i) parent[i] = static_cast<int>(i);
  }
  int find(int x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void unite(int a, int b) {
    a = find(a);
    b = find(b);
    if (a == b) return;
    parent[b] = a;
    firstDef[a] = std::min(firstDef[a], firstDef[b]);
    lastUse[a] = std::max(lastUse[a], lastUse[b]);
    if (external[a] < 0) external[a] = external[b];
    hasInput[a] = hasInput[a] || hasInput[b];
  }
};

}  // namespace

Program::Program(ProgramSpec spec) : spec_(std::move(spec)) {
  validateSpec(spec_);
  // oneDNN sizes a primitive's thread team when it is created: use the program's count.
  omp_set_num_threads(spec_.threads);
  tensors_.resize(spec_.tensors.size());
  for (size_t i = 0; i < spec_.tensors.size(); ++i) tensors_[i].desc = &spec_.tensors[i];
  ops_.reserve(spec_.ops.size());
  for (const OpEntry& e : spec_.ops) ops_.push_back(OpRegistry::instance().create(opSpecOf(spec_, e)));
  negotiateLayouts();
  planBuffers();
  splitsSamples_ = spec_.independentSamples && spec_.threads > 1 && spec_.maxBatch > 1;
  for (const TensorPlan& t : tensors_)
    if (t.buffer >= 0 && !t.desc->batched) splitsSamples_ = false;
}

void Program::negotiateLayouts() {
  const size_t count = spec_.tensors.size();
  std::vector<bool> external(count, false);
  for (int id : spec_.inputs) external[id] = true;
  for (int id : spec_.outputs) external[id] = true;
  // Per spec tensor: the tensor ids holding its current value, by layout, and the layout its
  // producer wrote (where consumers start negotiating).
  std::vector<std::map<Layout, int>> versions(count);
  std::vector<Layout> native(count, Layout::Plain);
  for (size_t i = 0; i < count; ++i) versions[i][Layout::Plain] = static_cast<int>(i);

  auto addTensor = [&](int like, Layout layout) {
    TensorDesc d;
    d.maxShape = tensors_[like].desc->maxShape;
    d.batched = tensors_[like].desc->batched;
    inserted_.push_back(std::move(d));
    TensorPlan p;
    p.desc = &inserted_.back();
    p.layout = layout;
    tensors_.push_back(p);
    return static_cast<int>(tensors_.size()) - 1;
  };
  auto addReorder = [&](int from, int to, const std::string& name) {
    OpSpec os;
    os.type = "reorder";
    os.name = name;
    os.attrs.strs["from"] = layoutName(tensors_[from].layout);
    os.attrs.strs["to"] = layoutName(tensors_[to].layout);
    os.maxBatch = spec_.maxBatch;
    os.inputs.push_back(tensors_[from].desc);
    os.outputs.push_back(tensors_[to].desc);
    ops_.push_back(OpRegistry::instance().create(os));
    Step st;
    st.op = ops_.back().get();
    st.name = name;
    st.type = "reorder";
    st.inputs = {from};
    st.outputs = {to};
    steps_.push_back(std::move(st));
  };

  std::vector<bool> written(count, false);
  for (size_t i = 0; i < spec_.ops.size(); ++i) {
    const OpEntry& e = spec_.ops[i];
    std::vector<Layout> in(e.inputs.size()), out(e.outputs.size(), Layout::Plain);
    for (size_t j = 0; j < in.size(); ++j) in[j] = native[e.inputs[j]];
    try {
      ops_[i]->negotiate(in, out);
    } catch (const OpError&) {
      throw;
    } catch (const std::exception& ex) {
      throw OpError(e.name, e.type + ": " + ex.what());
    }
    Step st;
    st.op = ops_[i].get();
    st.specOp = static_cast<int>(i);
    st.name = e.name;
    st.type = e.type;
    for (size_t j = 0; j < in.size(); ++j) {
      const int id = e.inputs[j];
      auto& v = versions[id];
      auto found = v.find(in[j]);
      if (found == v.end()) {
        if (spec_.tensors[id].constant) throw OpError(e.name, "a constant input must be read in plain layout");
        const int from = v.at(native[id]);
        const int tmp = addTensor(id, in[j]);
        // Layouts that put every value at the same offset (1x1 maps, whole channel blocks) need
        // no reorder: the consumer reads the same buffer under its own layout.
        if (sameOffsets(spec_.tensors[id].maxShape, native[id], in[j])) aliases_.emplace_back(tmp, from);
        else addReorder(from, tmp, e.name + "/reorder_in" + std::to_string(j));
        found = v.emplace(in[j], tmp).first;
      }
      st.inputs.push_back(found->second);
    }
    std::vector<std::pair<int, int>> toPlain;  // (written tensor, external tensor) reorders after the step
    std::vector<size_t> toPlainSlot;
    for (size_t j = 0; j < out.size(); ++j) {
      const int id = e.outputs[j];
      if (written[id] && out[j] != native[id])
        throw SpecError("op '" + e.name + "': tensor " + std::to_string(id) + " is written twice in different layouts");
      written[id] = true;
      versions[id].clear();
      native[id] = out[j];
      int target = id;
      if (out[j] != Layout::Plain) {
        if (external[id]) {
          // Users read program outputs plain: the op writes a blocked copy that is reordered out.
          target = addTensor(id, out[j]);
          toPlain.emplace_back(target, id);
          toPlainSlot.push_back(j);
          versions[id][Layout::Plain] = id;
        } else {
          tensors_[id].layout = out[j];
        }
      }
      versions[id][out[j]] = target;
      st.outputs.push_back(target);
    }
    steps_.push_back(std::move(st));
    for (size_t k = 0; k < toPlain.size(); ++k)
      addReorder(toPlain[k].first, toPlain[k].second, e.name + "/reorder_out" + std::to_string(toPlainSlot[k]));
  }
}

void Program::planBuffers() {
  const int count = static_cast<int>(tensors_.size());
  Groups g(count);
  std::vector<bool> used(count, false);
  std::vector<bool> alias(count, false);
  for (auto& [a, from] : aliases_) alias[a] = true;
  for (int s = 0; s < static_cast<int>(steps_.size()); ++s) {
    for (int id : steps_[s].inputs) {
      used[id] = true;
      // Read before any write: live from the start (an alias lives as long as its source).
      if (g.firstDef[id] == INT_MAX && !alias[id]) g.firstDef[id] = -1;
      g.lastUse[id] = s;
    }
    for (int id : steps_[s].outputs) {
      used[id] = true;
      g.firstDef[id] = std::min(g.firstDef[id], s);
      g.lastUse[id] = std::max(g.lastUse[id], s);
    }
  }
  for (int id : spec_.inputs) {
    used[id] = true;
    g.external[id] = id;
    g.hasInput[id] = true;
    g.firstDef[id] = -1;
  }
  for (int id : spec_.outputs) {
    used[id] = true;
    g.external[id] = id;
    g.lastUse[id] = INT_MAX;
  }
  auto bytes = [&](int id) { return layoutBytes(tensors_[id].desc->maxShape, tensors_[id].layout); };
  auto isConst = [&](int id) { return tensors_[id].desc->constant; };
  for (auto& [a, from] : aliases_) g.unite(from, a);

  for (int s = 0; s < static_cast<int>(steps_.size()); ++s) {
    const Step& st = steps_[s];
    if (st.inputs.empty() || st.outputs.empty()) continue;
    const int b = st.outputs[0];
    if (st.op->isView()) {
      const int a = st.inputs[0];
      const bool bothExternal = g.external[g.find(a)] >= 0 && g.external[g.find(b)] >= 0;
      if (!isConst(a) && tensors_[a].layout == Layout::Plain && tensors_[b].layout == Layout::Plain && bytes(a) == bytes(b) &&
          !bothExternal)
        g.unite(a, b);
      continue;
    }
    const int k = st.op->inplaceInput();
    if (k < 0 || k >= static_cast<int>(st.inputs.size())) continue;
    const int a = st.inputs[k];
    if (isConst(a) || tensors_[a].layout != tensors_[b].layout || bytes(a) != bytes(b)) continue;
    const int ga = g.find(a), gb = g.find(b);
    // The input's memory may be overwritten only when nothing reads it later, it is not the
    // user's input, no other operand of the step lives there and the output is fresh.
    bool ok =
        ga != gb && !g.hasInput[ga] && g.lastUse[ga] <= s && g.firstDef[gb] >= s && !(g.external[ga] >= 0 && g.external[gb] >= 0);
    for (size_t j = 0; ok && j < st.inputs.size(); ++j)
      if (static_cast<int>(j) != k && g.find(st.inputs[j]) == ga) ok = false;
    if (ok) g.unite(a, b);
  }

  // One buffer per group; internal groups share the arena when their lifetimes are disjoint.
  std::vector<int> bufferOf(count, -1);
  std::vector<size_t> groupBytes(count, 0);
  std::vector<bool> needed(count, false);
  for (int id = 0; id < count; ++id) {
    if (!used[id] || isConst(id)) continue;
    const int r = g.find(id);
    needed[r] = true;
    groupBytes[r] = std::max(groupBytes[r], bytes(id));
  }
  std::vector<int> arenaGroups;
  for (int r = 0; r < count; ++r) {
    if (!needed[r]) continue;
    BufferPlan p;
    p.bytes = aligned(groupBytes[r]);
    p.external = g.external[r] >= 0 || g.firstDef[r] < 0;
    bufferOf[r] = static_cast<int>(buffers_.size());
    buffers_.push_back(p);
    if (!p.external) arenaGroups.push_back(r);
  }
  std::stable_sort(arenaGroups.begin(), arenaGroups.end(),
                   [&](int x, int y) { return buffers_[bufferOf[x]].bytes > buffers_[bufferOf[y]].bytes; });
  std::vector<int> placed;
  for (int r : arenaGroups) {
    BufferPlan& p = buffers_[bufferOf[r]];
    // Lowest offset that overlaps no placed group alive at the same time.
    std::vector<std::pair<size_t, size_t>> busy;
    for (int q : placed)
      if (g.firstDef[q] <= g.lastUse[r] && g.firstDef[r] <= g.lastUse[q])
        busy.emplace_back(buffers_[bufferOf[q]].offset, buffers_[bufferOf[q]].offset + buffers_[bufferOf[q]].bytes);
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (auto& [lo, hi] : busy) {
      if (offset + p.bytes <= lo) break;
      offset = std::max(offset, hi);
    }
    p.offset = offset;
    arenaBytes_ = std::max(arenaBytes_, offset + p.bytes);
    placed.push_back(r);
  }
  for (int id = 0; id < count; ++id)
    if (used[id] && !isConst(id)) tensors_[id].buffer = bufferOf[g.find(id)];
}

}  // namespace dynbatch
