// The Supervisor class: wraps the native supervisor (its threads); events
// arrive in JS as arrays through one thread-safe function.
#include <napi.h>
#include <cerrno>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../supervisor/dispatch.h"
#include "../supervisor/fuse_mount.h"
#include "../supervisor/handlers/handler.h"
#include "../supervisor/supervisor.h"
#include "bindings.h"
#include "js_errors.h"

namespace {

using lxz::Event;
using lxz::EventType;
using lxz::kEventNames;

const char* event_name(EventType t) {
  size_t i = static_cast<size_t>(t);
  return i < sizeof kEventNames / sizeof kEventNames[0] ? kEventNames[i] : "unknown";
}

using lxz_addon::errno_error;

Napi::Object event_to_js(Napi::Env env, const Event& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("zone", e.zone);
  o.Set("type", event_name(e.type));
  o.Set("a", e.a);
  o.Set("b", e.b);
  if (lxz::event_is_call(e.type)) {
    o.Set("pid", e.pid);
    o.Set("nr", e.nr);
    o.Set("abi", e.abi);
    Napi::Array args = Napi::Array::New(env, 6);
    for (uint32_t i = 0; i < 6; i++) args.Set(i, Napi::BigInt::New(env, e.args[i]));
    o.Set("args", args);
    o.Set("id", Napi::BigInt::New(env, e.id));
  }
  if (!e.text.empty()) o.Set("text", e.text);
  return o;
}

using Batch = std::vector<Event>;

void deliver(Napi::Env env, Napi::Function callback, Batch* batch) {
  std::unique_ptr<Batch> owned(batch);
  if (env == nullptr || callback == nullptr) return;
  Napi::Array out = Napi::Array::New(env, owned->size());
  for (size_t i = 0; i < owned->size(); i++) out.Set(static_cast<uint32_t>(i), event_to_js(env, (*owned)[i]));
  callback.Call({out});
}

class SupervisorWrap : public Napi::ObjectWrap<SupervisorWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Supervisor",
                       {
                           InstanceMethod("attach", &SupervisorWrap::Attach),
                           InstanceMethod("send", &SupervisorWrap::Send),
                           InstanceMethod("respond", &SupervisorWrap::Respond),
                           InstanceMethod("updateMemory", &SupervisorWrap::UpdateMemory),
                           InstanceMethod("counters", &SupervisorWrap::Counters),
                           InstanceMethod("detach", &SupervisorWrap::Detach),
                           InstanceMethod("close", &SupervisorWrap::Close),
                           InstanceMethod("ref", &SupervisorWrap::Ref),
                           InstanceMethod("unref", &SupervisorWrap::Unref),
                           InstanceMethod("threadCount", &SupervisorWrap::ThreadCount),
                       });
  }

  explicit SupervisorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SupervisorWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction()) {
      Napi::TypeError::New(env, "Supervisor(onEvents): onEvents must be a function").ThrowAsJavaScriptException();
      return;
    }
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "lxzone-supervisor", 0, 1);
    tsfn_.Unref(env);
    auto tsfn = tsfn_;
    // Supervisor(onEvents, threads?): 0 or absent, one thread per CPU (capped).
    unsigned threads = info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
    supervisor_ = std::make_unique<lxz::Supervisor>(
        [tsfn](Batch&& batch) mutable {
          auto* heap = new Batch(std::move(batch));
          if (tsfn.BlockingCall(heap, deliver) != napi_ok) delete heap;
        },
        threads);
  }

  ~SupervisorWrap() override { Shutdown(); }

 private:
  void Shutdown() {
    if (!supervisor_) return;
    supervisor_->stop();
    supervisor_.reset();
    tsfn_.Release();
  }

  lxz::Supervisor* Live(Napi::Env env) {
    if (!supervisor_) Napi::Error::New(env, "supervisor is closed").ThrowAsJavaScriptException();
    return supervisor_.get();
  }

  // attach(controlFd, { dispatch: Buffer, hostname, kernelVersion,
  //   kernelVersionEnv, memoryLimit, memoryUsageFile, rebootMarker, traceStringArgs: Buffer,
  //   driverFilter: Buffer }) -> zone id
  Napi::Value Attach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    if (!s) return env.Undefined();
    if (!info[0].IsNumber() || !info[1].IsObject()) {
      Napi::TypeError::New(env, "attach(controlFd, options)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    int fd = info[0].As<Napi::Number>().Int32Value();
    Napi::Object o = info[1].As<Napi::Object>();
    Napi::Value d = o.Get("dispatch");
    if (!d.IsBuffer()) {
      Napi::TypeError::New(env, "attach: options.dispatch must be a Buffer").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto buf = d.As<Napi::Buffer<uint8_t>>();
    lxz::DispatchTable table;
    lxz::Status st = lxz::DispatchTable::parse(buf.Data(), buf.Length(), lxz::handler_count(), &table);
    if (!st.ok()) {
      errno_error(env, EINVAL, "attach", "(dispatch table: " + st.error().what + ")").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    lxz::ZoneOptions opts;
    auto str = [&](const char* key, std::string* out) {
      Napi::Value v = o.Get(key);
      if (v.IsString()) *out = v.As<Napi::String>().Utf8Value();
    };
    str("hostname", &opts.hostname);
    str("kernelVersion", &opts.kernel_version);
    str("memoryUsageFile", &opts.memory_usage_file);
    str("rebootMarker", &opts.reboot_marker);
    if (o.Get("kernelVersionEnv").IsBoolean()) opts.kernel_version_env = o.Get("kernelVersionEnv").As<Napi::Boolean>();
    if (o.Get("memoryLimit").IsNumber())
      opts.memory_limit = static_cast<uint64_t>(o.Get("memoryLimit").As<Napi::Number>().Int64Value());
    Napi::Value t = o.Get("traceStringArgs");
    if (t.IsBuffer()) {
      auto tb = t.As<Napi::Buffer<uint8_t>>();
      opts.trace_string_args.assign(tb.Data(), tb.Data() + tb.Length());
    }
    Napi::Value df = o.Get("driverFilter");
    if (df.IsBuffer()) {
      auto fb = df.As<Napi::Buffer<uint8_t>>();
      if (!lxz::valid_filter_size(fb.Length())) {
        errno_error(env, EINVAL, "attach", "(driverFilter: not a seccomp filter of 1 to 4096 8-byte instructions)").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      opts.driver_filter.assign(fb.Data(), fb.Data() + fb.Length());
    }
    uint32_t id = s->attach(fd, std::move(table), std::move(opts));
    return Napi::Number::New(env, id);
  }

  // send(zone, type, a): control messages to the keeper (ControlType's continue, signal, abort)
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    if (!s) return env.Undefined();
    uint32_t zone = info[0].As<Napi::Number>().Uint32Value();
    uint32_t type = info[1].As<Napi::Number>().Uint32Value();
    int32_t a = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0;
    if (!lxz::control_from_supervisor(type)) {
      Napi::RangeError::New(env, "send: unknown control type").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    s->send(zone, static_cast<lxz::ControlType>(type), a);
    return env.Undefined();
  }

  // respond(zone, id: bigint, value: number, errno: number)
  Napi::Value Respond(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    if (!s) return env.Undefined();
    bool lossless;
    uint64_t id = info[1].As<Napi::BigInt>().Uint64Value(&lossless);
    s->respond(info[0].As<Napi::Number>().Uint32Value(), id, info[2].As<Napi::Number>().Int64Value(),
               info[3].As<Napi::Number>().Int32Value());
    return env.Undefined();
  }

  Napi::Value UpdateMemory(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    if (!s) return env.Undefined();
    s->update_memory(info[0].As<Napi::Number>().Uint32Value(),
                     static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value()),
                     info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : std::string());
    return env.Undefined();
  }

  // counters(zone) -> { notified: [[abi, nr, count]], unsupported: [...], handlerErrors, jsTimeouts } | null
  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    if (!s) return env.Undefined();
    lxz::ZoneCounters c;
    if (!s->counters(info[0].As<Napi::Number>().Uint32Value(), &c)) return env.Null();
    auto rows = [&](const std::map<std::pair<std::string, int>, uint64_t>& m) {
      Napi::Array a = Napi::Array::New(env, m.size());
      uint32_t i = 0;
      for (const auto& [key, count] : m) {
        Napi::Array row = Napi::Array::New(env, 3);
        row.Set(0u, key.first);
        row.Set(1u, key.second);
        row.Set(2u, static_cast<double>(count));
        a.Set(i++, row);
      }
      return a;
    };
    Napi::Object o = Napi::Object::New(env);
    o.Set("notified", rows(c.notified));
    o.Set("unsupported", rows(c.unsupported));
    o.Set("handlerErrors", static_cast<double>(c.handler_errors));
    o.Set("jsTimeouts", static_cast<double>(c.js_timeouts));
    return o;
  }

  Napi::Value Detach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    if (s) s->detach(info[0].As<Napi::Number>().Uint32Value());
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  Napi::Value ThreadCount(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    return Napi::Number::New(env, s ? s->thread_count() : 0);
  }

  // While zones run, the event callback must keep the loop alive.
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (supervisor_) tsfn_.Ref(info.Env());
    return info.Env().Undefined();
  }
  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (supervisor_) tsfn_.Unref(info.Env());
    return info.Env().Undefined();
  }

  Napi::ThreadSafeFunction tsfn_;
  std::unique_ptr<lxz::Supervisor> supervisor_;
};

Napi::Value HandlerNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env, lxz::handler_count());
  for (size_t i = 0; i < lxz::handler_count(); i++) a.Set(static_cast<uint32_t>(i), lxz::handler_table()[i].name);
  return a;
}

}  // namespace

namespace lxz_addon {

void register_supervisor(Napi::Env env, Napi::Object exports) {
  exports.Set("Supervisor", SupervisorWrap::Init(env));
  exports.Set("handlerNames", Napi::Function::New(env, HandlerNames));
}

}  // namespace lxz_addon
