// The JS views of a request's tensors, shared by the CPU and GPU addons: one external
// ArrayBuffer per tensor while it lives (V8 must not see two over the same memory), each holding
// the request so the memory outlives both the JS wrapper and pending runs.
#pragma once
#include <napi.h>

#include <exception>
#include <map>
#include <memory>

#include "js_error.h"

namespace dynbatch {

template <typename Req>
class BufferViews {
 public:
  // The view of tensor `id`; a bad id (out of range, a constant) throws a BAD_CONFIG error.
  Napi::ArrayBuffer get(Napi::Env env, const std::shared_ptr<Req>& req, int id) {
    float* data;
    try {
      data = req->buffer(id);
    } catch (const std::exception& e) {
      throw codedError(env, "BAD_CONFIG", e.what());
    }
    auto it = views_.find(id);
    if (it != views_.end() && !it->second.IsEmpty() && !it->second.Value().IsEmpty()) return it->second.Value();
    auto* keep = new std::shared_ptr<Req>(req);
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
        env, data, req->program().maxBytes(id), [](Napi::Env, void*, std::shared_ptr<Req>* hint) { delete hint; }, keep);
    views_[id] = Napi::Weak(ab);
    return ab;
  }

 private:
  std::map<int, Napi::Reference<Napi::ArrayBuffer>> views_;
};

}  // namespace dynbatch
