// Errors thrown to JavaScript carry a `code` matching kernel/errors.ts, so the TS side can map
// them to typed errors. Shared by the CPU and GPU bindings.
#pragma once
#include <napi.h>

#include <string>

namespace dynbatch {

inline Napi::Error codedError(Napi::Env env, const std::string& code, const std::string& msg) {
  Napi::Error err = Napi::Error::New(env, msg);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

}  // namespace dynbatch
