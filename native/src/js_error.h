// Errors thrown to JavaScript carry a `code` matching kernel/errors.ts, so the TS side can map
// them to typed errors. Shared by the CPU and GPU bindings.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace dynbatch {

inline Napi::Error codedError(Napi::Env env, const std::string& code, const std::string& msg) {
  Napi::Error err = Napi::Error::New(env, msg);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

// The checks before run(n) of a CPU or GPU request: n (a JS number) must be an integer in
// 1..maxBatch, and the request must be free (tryAcquire() takes it). Otherwise rejects `deferred`
// with the typed error and returns false.
template <typename Request>
bool acquireForRun(Napi::Env env, const Napi::Promise::Deferred& deferred, Request& req, double n, int64_t maxBatch) {
  if (!(n >= 1 && n <= static_cast<double>(maxBatch)) || n != std::floor(n)) {
    deferred.Reject(codedError(env, "BATCH_OUT_OF_RANGE",
                               "batch " + Napi::Number::New(env, n).ToString().Utf8Value() + " is out of range 1.." +
                                   std::to_string(maxBatch))
                        .Value());
    return false;
  }
  if (!req.tryAcquire()) {
    deferred.Reject(codedError(env, "REQUEST_BUSY", "request is still running: await the previous run first").Value());
    return false;
  }
  return true;
}

}  // namespace dynbatch
