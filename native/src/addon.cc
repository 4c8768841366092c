// JS binding of the executor (see kernel/plugins/native.ts for the typed view):
// Program(spec) compiles once; createRequest() owns tensor memory exposed as external
// ArrayBuffers; run(n) executes a short run inline, a longer one on the Runner's threads, and
// resolves with per-step µs.
#include <napi.h>

#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include "buffer_views.h"
#include "dnnl_common.h"
#include "fused_rows.h"
#include "gpu/gpu_addon.h"
#include "js_error.h"
#include "peak.h"
#include "preprocess.h"
#include "program.h"
#include "runner.h"
#include "sample_team.h"
#include "shared_constants.h"

using namespace dynbatch;

namespace {

std::string codeOf(const std::exception& e) {
  if (dynamic_cast<const OpError*>(&e)) return "NATIVE";
  return "BAD_CONFIG";
}

[[noreturn]] void fail(Napi::Env env, const std::string& msg) { throw codedError(env, "BAD_CONFIG", msg); }

Napi::Value prop(const Napi::Object& o, const char* key, const std::string& where) {
  if (!o.Has(key)) fail(o.Env(), where + "." + key + " is missing");
  return o.Get(key);
}

double number(const Napi::Value& v, const std::string& where) {
  if (!v.IsNumber()) fail(v.Env(), where + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

int64_t integer(const Napi::Value& v, const std::string& where) {
  double d = number(v, where);
  if (!std::isfinite(d) || d != std::floor(d)) fail(v.Env(), where + " must be an integer");
  return static_cast<int64_t>(d);
}

std::vector<int64_t> integers(const Napi::Value& v, const std::string& where) {
  if (!v.IsArray()) fail(v.Env(), where + " must be an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = integer(a.Get(i), where + "[" + std::to_string(i) + "]");
  return out;
}

std::vector<int> ids(const Napi::Value& v, const std::string& where) {
  std::vector<int64_t> xs = integers(v, where);
  return std::vector<int>(xs.begin(), xs.end());
}

Attrs parseAttrs(const Napi::Value& v, const std::string& where) {
  Attrs attrs;
  if (v.IsUndefined() || v.IsNull()) return attrs;
  if (!v.IsObject()) fail(v.Env(), where + " must be an object");
  Napi::Object o = v.As<Napi::Object>();
  Napi::Array keys = o.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string k = keys.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value x = o.Get(k);
    const std::string at = where + "." + k;
    if (x.IsNumber()) {
      attrs.nums[k] = {x.As<Napi::Number>().DoubleValue()};
    } else if (x.IsBoolean()) {
      attrs.nums[k] = {x.As<Napi::Boolean>().Value() ? 1.0 : 0.0};
    } else if (x.IsString()) {
      attrs.strs[k] = x.As<Napi::String>().Utf8Value();
    } else if (x.IsArray()) {
      Napi::Array a = x.As<Napi::Array>();
      std::vector<double> vals(a.Length());
      for (uint32_t j = 0; j < a.Length(); ++j) vals[j] = number(a.Get(j), at + "[" + std::to_string(j) + "]");
      attrs.nums[k] = std::move(vals);
    } else {
      fail(v.Env(), at + " must be a number, number[] or string");
    }
  }
  return attrs;
}

ProgramSpec parseSpec(const Napi::Value& v) {
  Napi::Env env = v.Env();
  if (!v.IsObject()) fail(env, "Program spec must be an object");
  Napi::Object o = v.As<Napi::Object>();
  ProgramSpec s;
  s.maxBatch = integer(prop(o, "maxBatch", "spec"), "spec.maxBatch");
  s.threads = static_cast<int>(integer(prop(o, "threads", "spec"), "spec.threads"));
  s.independentSamples = o.Get("independentSamples").ToBoolean().Value();
  Napi::Value par = o.Get("parallel");
  if (!par.IsUndefined()) {
    const std::string p = par.IsString() ? par.As<Napi::String>().Utf8Value() : "";
    if (p == "auto") s.parallel = Parallel::Auto;
    else if (p == "layers") s.parallel = Parallel::Layers;
    else if (p == "samples") s.parallel = Parallel::Samples;
    else fail(env, "spec.parallel must be \"auto\", \"layers\" or \"samples\"");
  }
  Napi::Value tv = prop(o, "tensors", "spec");
  if (!tv.IsArray()) fail(env, "spec.tensors must be an array");
  Napi::Array ta = tv.As<Napi::Array>();
  s.tensors.resize(ta.Length());
  for (uint32_t i = 0; i < ta.Length(); ++i) {
    const std::string where = "spec.tensors[" + std::to_string(i) + "]";
    Napi::Value x = ta.Get(i);
    if (!x.IsObject()) fail(env, where + " must be an object");
    Napi::Object t = x.As<Napi::Object>();
    TensorDesc& d = s.tensors[i];
    d.maxShape = integers(prop(t, "shape", where), where + ".shape");
    d.batched = t.Get("batched").ToBoolean().Value();
    Napi::Value data = t.Get("data");
    if (!data.IsUndefined() && !data.IsNull()) {
      if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        fail(env, where + ".data must be a Float32Array");
      Napi::Float32Array f = data.As<Napi::Float32Array>();
      d.constant = true;
      d.data.assign(f.Data(), f.Data() + f.ElementLength());
    }
  }
  Napi::Value ov = prop(o, "ops", "spec");
  if (!ov.IsArray()) fail(env, "spec.ops must be an array");
  Napi::Array oa = ov.As<Napi::Array>();
  s.ops.resize(oa.Length());
  for (uint32_t i = 0; i < oa.Length(); ++i) {
    const std::string where = "spec.ops[" + std::to_string(i) + "]";
    Napi::Value x = oa.Get(i);
    if (!x.IsObject()) fail(env, where + " must be an object");
    Napi::Object op = x.As<Napi::Object>();
    OpEntry& e = s.ops[i];
    Napi::Value type = prop(op, "type", where);
    if (!type.IsString()) fail(env, where + ".type must be a string");
    e.type = type.As<Napi::String>().Utf8Value();
    Napi::Value name = op.Get("name");
    e.name = name.IsString() ? name.As<Napi::String>().Utf8Value() : e.type + "#" + std::to_string(i);
    e.inputs = ids(prop(op, "inputs", where), where + ".inputs");
    e.outputs = ids(prop(op, "outputs", where), where + ".outputs");
    e.attrs = parseAttrs(op.Get("attrs"), where + ".attrs");
  }
  s.inputs = ids(prop(o, "inputs", "spec"), "spec.inputs");
  s.outputs = ids(prop(o, "outputs", "spec"), "spec.outputs");
  return s;
}

// A failed run: a batch the program refuses, or an op's error.
const char* runErrorCode(const std::exception& e) { return dynamic_cast<const SpecError*>(&e) ? "BATCH_OUT_OF_RANGE" : "NATIVE"; }

Napi::Float64Array timesArray(Napi::Env env, const std::vector<double>& times) {
  Napi::Float64Array out = Napi::Float64Array::New(env, times.size());
  std::copy(times.begin(), times.end(), out.Data());
  return out;
}

// A run handed to the Runner; completes on the JS thread through the addon's thread-safe function.
struct RunJob {
  Napi::Promise::Deferred deferred;
  std::shared_ptr<Request> req;
  int64_t n = 1;
  std::vector<double> times;
  std::string error, code;
  std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
  double wallUs = 0;  // the run itself
};

void completeRun(Napi::Env env, Napi::Function, void*, RunJob* job);
using CompletionFn = Napi::TypedThreadSafeFunction<void, RunJob, completeRun>;

struct AddonData {
  Napi::FunctionReference requestCtor;
  CompletionFn done;
  size_t pending = 0;  // runs in flight; the function keeps the event loop alive while > 0
};

void completeRun(Napi::Env env, Napi::Function, void*, RunJob* job) {
  std::unique_ptr<RunJob> owned(job);
  if (env == nullptr) return;  // the environment is shutting down
  auto* data = env.GetInstanceData<AddonData>();
  if (--data->pending == 0) data->done.Unref(env);
  const double elapsed = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - job->submitted).count();
  job->req->noteHandoff(elapsed - job->wallUs);
  job->req->release();
  if (!job->error.empty()) {
    job->deferred.Reject(codedError(env, job->code, job->error).Value());
    return;
  }
  job->deferred.Resolve(timesArray(env, job->times));
}

// Queues a run of `req` for batch n on the Runner; the promise settles on the JS thread.
Napi::Promise startRun(Napi::Env env, std::shared_ptr<Request> req, int64_t n) {
  auto* data = env.GetInstanceData<AddonData>();
  auto* job = new RunJob{Napi::Promise::Deferred::New(env), std::move(req), n, {}, {}, {}};
  Napi::Promise promise = job->deferred.Promise();
  if (data->pending++ == 0) data->done.Ref(env);
  CompletionFn done = data->done;
  Runner::instance().submit(job->req->program().spec().threads, [job, done]() mutable {
    try {
      job->times = job->req->run(job->n);
      job->wallUs = job->req->lastMicros(job->n);
    } catch (const std::exception& e) {
      job->code = runErrorCode(e);
      job->error = e.what();
    }
    if (done.NonBlockingCall(job) != napi_ok) delete job;
  });
  return promise;
}

class RequestWrap : public Napi::ObjectWrap<RequestWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Request",
                       {InstanceMethod("buffer", &RequestWrap::Buffer), InstanceMethod("run", &RequestWrap::Run),
                        InstanceMethod("strategy", &RequestWrap::Strategy), InstanceMethod("prepare", &RequestWrap::Prepare)});
  }

  explicit RequestWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RequestWrap>(info) {
    if (info.Length() < 1 || !info[0].IsExternal())
      throw codedError(info.Env(), "BAD_CONFIG", "Request cannot be constructed directly: use program.createRequest()");
    auto* program = info[0].As<Napi::External<std::shared_ptr<const Program>>>().Data();
    try {
      req_ = std::make_shared<Request>(*program);
    } catch (const std::bad_alloc&) {
      throw codedError(info.Env(), "NATIVE", "out of memory allocating request buffers");
    }
  }

 private:
  Napi::Value Buffer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int id = static_cast<int>(integer(info[0], "buffer id"));
    return views_.get(env, req_, id);
  }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto deferred = Napi::Promise::Deferred::New(env);
    if (info.Length() < 1 || !info[0].IsNumber()) {
      deferred.Reject(codedError(env, "BAD_INPUT", "run(n): n must be a number").Value());
      return deferred.Promise();
    }
    double n = info[0].As<Napi::Number>().DoubleValue();
    int64_t maxBatch = req_->program().spec().maxBatch;
    if (!acquireForRun(env, deferred, *req_, n, maxBatch)) return deferred.Promise();
    const int64_t batch = static_cast<int64_t>(n);
    // A short run goes on this thread, as onnxruntime-node runs every request: handing it to a
    // worker and back costs tens of µs. Only when nothing else runs, so it never takes cores
    // the Runner has given away.
    if (req_->runsInline(batch) && env.GetInstanceData<AddonData>()->pending == 0) {
      try {
        std::vector<double> times = req_->run(batch);
        req_->release();
        deferred.Resolve(timesArray(env, times));
      } catch (const std::exception& e) {
        req_->release();
        deferred.Reject(codedError(env, runErrorCode(e), e.what()).Value());
      }
      return deferred.Promise();
    }
    return startRun(env, req_, batch);
  }

  Napi::Value Strategy(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), strategyName(req_->strategy(integer(info[0], "batch"))));
  }

  Napi::Value Prepare(const Napi::CallbackInfo& info) {
    req_->prepare(integer(info[0], "batch"));
    return info.Env().Undefined();
  }

  std::shared_ptr<Request> req_;
  BufferViews<Request> views_;
};

class ProgramWrap : public Napi::ObjectWrap<ProgramWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Program",
                       {InstanceMethod("createRequest", &ProgramWrap::CreateRequest),
                        InstanceMethod("steps", &ProgramWrap::Steps), InstanceMethod("plan", &ProgramWrap::Plan)});
  }

  explicit ProgramWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProgramWrap>(info) {
    Napi::Env env = info.Env();
    if (!info.IsConstructCall()) throw Napi::TypeError::New(env, "Program must be called with new");
    ProgramSpec spec = parseSpec(info[0]);
    try {
      program_ = std::make_shared<const Program>(std::move(spec));
    } catch (const std::exception& e) {
      throw codedError(env, codeOf(e), e.what());
    }
  }

 private:
  Napi::Value CreateRequest(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto* data = env.GetInstanceData<AddonData>();
    // The External only carries the pointer into the constructor, which copies the shared_ptr.
    auto ext = Napi::External<std::shared_ptr<const Program>>::New(env, &program_);
    return data->requestCtor.New({ext});
  }

  // What each run executes, in order: one entry per time run() reports.
  Napi::Value Steps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto& steps = program_->steps();
    Napi::Array out = Napi::Array::New(env, steps.size());
    for (size_t i = 0; i < steps.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", steps[i].name);
      o.Set("type", steps[i].type);
      o.Set("impl", steps[i].op->impl());
      o.Set("precision", steps[i].op->precision());
      o.Set("op", steps[i].specOp);
      Napi::Array ins = Napi::Array::New(env, steps[i].inputs.size());
      for (size_t k = 0; k < steps[i].inputs.size(); ++k) ins.Set(static_cast<uint32_t>(k), steps[i].inputs[k]);
      o.Set("inputs", ins);
      Napi::Array outs = Napi::Array::New(env, steps[i].outputs.size());
      for (size_t k = 0; k < steps[i].outputs.size(); ++k) outs.Set(static_cast<uint32_t>(k), steps[i].outputs[k]);
      o.Set("outputs", outs);
      Napi::Array layouts = Napi::Array::New(env, steps[i].outputs.size());
      for (size_t k = 0; k < steps[i].outputs.size(); ++k)
        layouts.Set(static_cast<uint32_t>(k), layoutName(program_->tensors()[steps[i].outputs[k]].layout));
      o.Set("outLayouts", layouts);
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  // Where each tensor lives: its layout and buffer, and the buffers of one request.
  Napi::Value Plan(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("arenaBytes", static_cast<double>(program_->arenaBytes()));
    const auto& tensors = program_->tensors();
    Napi::Array ts = Napi::Array::New(env, tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
      Napi::Object t = Napi::Object::New(env);
      t.Set("layout", layoutName(tensors[i].layout));
      t.Set("buffer", tensors[i].buffer);
      ts.Set(static_cast<uint32_t>(i), t);
    }
    o.Set("tensors", ts);
    const auto& buffers = program_->buffers();
    Napi::Array bs = Napi::Array::New(env, buffers.size());
    for (size_t i = 0; i < buffers.size(); ++i) {
      Napi::Object b = Napi::Object::New(env);
      b.Set("bytes", static_cast<double>(buffers[i].bytes));
      b.Set("external", buffers[i].external);
      b.Set("offset", static_cast<double>(buffers[i].offset));
      bs.Set(static_cast<uint32_t>(i), b);
    }
    o.Set("buffers", bs);
    return o;
  }

  std::shared_ptr<const Program> program_;
};

// A StrategyTuner driven by the times a test gives it: what a request would run next after a
// given sequence of run times, with no clock involved.
class TunerWrap : public Napi::ObjectWrap<TunerWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "StrategyTuner",
                       {InstanceMethod("next", &TunerWrap::Next), InstanceMethod("record", &TunerWrap::Record),
                        InstanceMethod("measuring", &TunerWrap::Measuring)});
  }

  explicit TunerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TunerWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray() || info[0].As<Napi::Array>().Length() == 0)
      fail(env, "StrategyTuner(candidates): candidates must be a non-empty array of strategy names");
    Napi::Array names = info[0].As<Napi::Array>();
    std::vector<Strategy> candidates;
    for (uint32_t i = 0; i < names.Length(); ++i) {
      const std::string name = names.Get(i).ToString();
      bool found = false;
      for (Strategy s : {Strategy::Layers, Strategy::Single, Strategy::Samples})
        if (name == strategyName(s)) candidates.push_back(s), found = true;
      if (!found)
        fail(env, "StrategyTuner: candidates[" + std::to_string(i) + "] is '" + name + "', not layers, single or samples");
    }
    tuner_ = std::make_unique<StrategyTuner>(std::move(candidates));
  }

 private:
  Napi::Value Next(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), strategyName(tuner_->next())); }
  Napi::Value Record(const Napi::CallbackInfo& info) {
    tuner_->record(number(info[0], "record(micros)"), info.Length() > 1 ? number(info[1], "record(handoffUs)") : 0);
    return info.Env().Undefined();
  }
  Napi::Value Measuring(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), tuner_->measuring()); }

  std::unique_ptr<StrategyTuner> tuner_;
};

Napi::Value OpTypes(const Napi::CallbackInfo& info) {
  auto types = OpRegistry::instance().types();
  Napi::Array out = Napi::Array::New(info.Env(), types.size());
  for (size_t i = 0; i < types.size(); ++i) out.Set(static_cast<uint32_t>(i), types[i]);
  return out;
}

Napi::Value DnnlVersion(const Napi::CallbackInfo& info) {
  const dnnl_version_t* v = dnnl_version();
  return Napi::String::New(info.Env(),
                           std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
}

Napi::Value HardwareConcurrency(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), std::max(1u, std::thread::hardware_concurrency()));
}

Napi::Value SepconvFusionPays(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), sepconvFusionPays()); }

Napi::Value SharedConstantsMade(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(sharedConstantsMade()));
}

Napi::Value SampleTeamState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const SampleTeam::State st = SampleTeam::instance().state();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array list = Napi::Array::New(env, st.helperCpus.size());
  for (size_t i = 0; i < st.helperCpus.size(); ++i) list.Set(static_cast<uint32_t>(i), st.helperCpus[i]);
  out.Set("helpers", list);
  out.Set("keptOff", st.keptOff);
  out.Set("prewakes", static_cast<double>(st.prewakes));
  return out;
}

Napi::Value RunnerWarmUps(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Runner::instance().warmUps()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->requestCtor = Napi::Persistent(RequestWrap::Init(env));
  data->done = CompletionFn::New(env, "dynbatch.run", 0, 1);
  data->done.Unref(env);
  env.SetInstanceData(data);
  exports.Set("Program", ProgramWrap::Init(env));
  exports.Set("StrategyTuner", TunerWrap::Init(env));
  exports.Set("opTypes", Napi::Function::New(env, OpTypes));
  exports.Set("dnnlVersion", Napi::Function::New(env, DnnlVersion));
  exports.Set("hardwareConcurrency", Napi::Function::New(env, HardwareConcurrency));
  exports.Set("fmaPeakGflops", Napi::Function::New(env, FmaPeakGflops));
  exports.Set("cpuIsa", Napi::Function::New(env, CpuIsa));
  exports.Set("sepconvFusionPays", Napi::Function::New(env, SepconvFusionPays));
  exports.Set("sharedConstantsMade", Napi::Function::New(env, SharedConstantsMade));
  exports.Set("sampleTeamState", Napi::Function::New(env, SampleTeamState));
  exports.Set("runnerWarmUps", Napi::Function::New(env, RunnerWarmUps));
  exports.Set("toPlanarBgr", Napi::Function::New(env, ToPlanarBgr));
  gpu::initExports(env, exports, parseSpec);  // GpuProgram, gpuDevices(), gpuOpTypes()
  return exports;
}

}  // namespace

NODE_API_MODULE(dynbatch_native, Init)
