#include "js_errors.h"

#include <cstring>

#include "bindings.h"

namespace {

// setErrorClass(LxzoneError): kept per environment (worker or main thread).
Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) {
    Napi::TypeError::New(env, "setErrorClass(ctor): ctor must be a class").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  env.SetInstanceData<Napi::FunctionReference>(new Napi::FunctionReference(Napi::Persistent(info[0].As<Napi::Function>())));
  return env.Undefined();
}

}  // namespace

namespace lxz_addon {

// new LxzoneError(`${syscall} ${subject}: ${strerror}`, { errno, syscall }); a
// plain Error with the same fields before the class is handed over.
Napi::Error errno_error(Napi::Env env, int err, const std::string& syscall, const std::string& subject) {
  std::string message = syscall + (subject.empty() ? "" : " " + subject) + ": " + std::strerror(err);
  Napi::FunctionReference* ctor = env.GetInstanceData<Napi::FunctionReference>();
  if (ctor != nullptr && !ctor->IsEmpty()) {
    Napi::Object opts = Napi::Object::New(env);
    opts.Set("errno", Napi::Number::New(env, err));
    opts.Set("syscall", Napi::String::New(env, syscall));
    Napi::Value e = ctor->New({Napi::String::New(env, message), opts});
    if (!env.IsExceptionPending()) return Napi::Error(env, e);
  }
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

void register_errors(Napi::Env env, Napi::Object exports) {
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass));
}

}  // namespace lxz_addon
