#include "gpu/gpu_addon.h"

#include <cmath>

#include "buffer_views.h"
#include "gpu/gpu_program.h"
#include "js_error.h"

namespace dynbatch {
namespace gpu {
namespace {

// OpenCL failures carry `clStatus` and `buildLog` besides the `code`.
struct Failure {
  std::string code, message, buildLog;
  cl_int status = 0;
};

Failure describe(const std::exception& e, const char* specCode) {
  Failure f{"NATIVE", e.what(), "", 0};
  if (const auto* cl = dynamic_cast<const ClError*>(&e)) {
    f.status = cl->status;
    f.buildLog = cl->buildLog;
    switch (cl->kind) {
      case ClError::Kind::Unavailable: f.code = "GPU_UNAVAILABLE"; break;
      case ClError::Kind::Build: f.code = "GPU_BUILD_FAILED"; break;
      case ClError::Kind::OutOfMemory: f.code = "GPU_OUT_OF_MEMORY"; break;
      case ClError::Kind::Runtime: f.code = "GPU_RUNTIME"; break;
    }
  } else if (dynamic_cast<const SpecError*>(&e)) {
    f.code = specCode;
  }
  return f;
}

Napi::Error toJs(Napi::Env env, const Failure& f) {
  Napi::Error err = codedError(env, f.code, f.message);
  if (f.status != 0) err.Set("clStatus", Napi::Number::New(env, f.status));
  if (!f.buildLog.empty()) err.Set("buildLog", Napi::String::New(env, f.buildLog));
  return err;
}

class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<GpuRequest> req, int64_t n)
      : Napi::AsyncWorker(env, "dynbatch.gpu.run"), deferred_(Napi::Promise::Deferred::New(env)), req_(std::move(req)), n_(n) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  // Enqueueing and waiting on the device happen here, on a libuv worker thread.
  void Execute() override {
    try {
      times_ = req_->run(n_);
    } catch (const std::exception& e) {
      failure_ = describe(e, "BATCH_OUT_OF_RANGE");
      SetError(failure_.message);
    }
  }

  void OnOK() override {
    req_->release();
    Napi::Float64Array out = Napi::Float64Array::New(Env(), times_.size());
    std::copy(times_.begin(), times_.end(), out.Data());
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error&) override {
    req_->release();
    deferred_.Reject(toJs(Env(), failure_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<GpuRequest> req_;
  int64_t n_;
  std::vector<double> times_;
  Failure failure_;
};

class RequestWrap : public Napi::ObjectWrap<RequestWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "GpuRequest",
                       {InstanceMethod("buffer", &RequestWrap::Buffer), InstanceMethod("run", &RequestWrap::Run)});
  }

  explicit RequestWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RequestWrap>(info) {
    if (info.Length() < 1 || !info[0].IsExternal())
      throw codedError(info.Env(), "BAD_CONFIG", "GpuRequest cannot be constructed directly: use program.createRequest()");
    auto* program = info[0].As<Napi::External<std::shared_ptr<const GpuProgram>>>().Data();
    try {
      req_ = std::make_shared<GpuRequest>(*program);
    } catch (const std::exception& e) {
      throw toJs(info.Env(), describe(e, "BAD_CONFIG"));
    }
  }

 private:
  Napi::Value Buffer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw codedError(env, "BAD_CONFIG", "buffer(id): id must be a number");
    const int id = info[0].As<Napi::Number>().Int32Value();
    return views_.get(env, req_, id);
  }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto deferred = Napi::Promise::Deferred::New(env);
    const int64_t maxBatch = req_->program().spec().maxBatch;
    const double n = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : NAN;
    if (!acquireForRun(env, deferred, *req_, n, maxBatch)) return deferred.Promise();
    auto* worker = new RunWorker(env, req_, static_cast<int64_t>(n));
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
  }

  std::shared_ptr<GpuRequest> req_;
  BufferViews<GpuRequest> views_;
};

class ProgramWrap : public Napi::ObjectWrap<ProgramWrap> {
 public:
  using Parser = ProgramSpec (*)(const Napi::Value&);

  struct ClassData {
    Napi::FunctionReference requestCtor;
    Parser parse;
  };

  static Napi::Function Init(Napi::Env env, ClassData* data) {
    return DefineClass(env, "GpuProgram", {InstanceMethod("createRequest", &ProgramWrap::CreateRequest)}, data);
  }

  // new GpuProgram(spec, deviceIndex, buildOptions = "")
  explicit ProgramWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProgramWrap>(info) {
    Napi::Env env = info.Env();
    if (!info.IsConstructCall()) throw Napi::TypeError::New(env, "GpuProgram must be called with new");
    data_ = static_cast<ClassData*>(info.Data());
    ProgramSpec spec = data_->parse(info[0]);
    if (info.Length() < 2 || !info[1].IsNumber() || info[1].As<Napi::Number>().Int32Value() < 0)
      throw codedError(env, "BAD_CONFIG", "GpuProgram(spec, device): device must be a device index from gpuDevices()");
    const size_t device = static_cast<size_t>(info[1].As<Napi::Number>().Int32Value());
    const std::string options = info.Length() > 2 && info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "";
    try {
      program_ = std::make_shared<const GpuProgram>(std::move(spec), device, options);
    } catch (const std::exception& e) {
      throw toJs(env, describe(e, "BAD_CONFIG"));
    }
  }

 private:
  Napi::Value CreateRequest(const Napi::CallbackInfo& info) {
    // The External only carries the pointer into the constructor, which copies the shared_ptr.
    auto ext = Napi::External<std::shared_ptr<const GpuProgram>>::New(info.Env(), &program_);
    return data_->requestCtor.New({ext});
  }

  ClassData* data_ = nullptr;
  std::shared_ptr<const GpuProgram> program_;
};

Napi::Value GpuDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<DeviceInfo> devices = listDevices();
  Napi::Array out = Napi::Array::New(env, devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    const DeviceInfo& d = devices[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", Napi::Number::New(env, static_cast<double>(i)));
    o.Set("name", d.name);
    o.Set("type", d.type);
    o.Set("vendor", d.vendor);
    o.Set("version", d.version);
    o.Set("driver", d.driver);
    o.Set("platform", d.platformName);
    o.Set("globalMemBytes", Napi::Number::New(env, static_cast<double>(d.globalMemBytes)));
    o.Set("maxAllocBytes", Napi::Number::New(env, static_cast<double>(d.maxAllocBytes)));
    o.Set("computeUnits", Napi::Number::New(env, d.computeUnits));
    o.Set("fp16", Napi::Boolean::New(env, d.fp16));
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

Napi::Value GpuOpTypes(const Napi::CallbackInfo& info) {
  const std::vector<std::string> types = GpuOpRegistry::instance().types();
  Napi::Array out = Napi::Array::New(info.Env(), types.size());
  for (size_t i = 0; i < types.size(); ++i) out.Set(static_cast<uint32_t>(i), types[i]);
  return out;
}

}  // namespace

void initExports(Napi::Env env, Napi::Object exports, ProgramSpec (*parseSpec)(const Napi::Value&)) {
  auto* data = new ProgramWrap::ClassData{Napi::Persistent(RequestWrap::Init(env)), parseSpec};
  env.AddCleanupHook([data] { delete data; });
  exports.Set("GpuProgram", ProgramWrap::Init(env, data));
  exports.Set("gpuDevices", Napi::Function::New(env, GpuDevices));
  exports.Set("gpuOpTypes", Napi::Function::New(env, GpuOpTypes));
}

}  // namespace gpu
}  // namespace dynbatch
