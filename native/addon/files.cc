// Files Node's fs cannot make, mark or safely remove: overlay whiteouts and
// opaque directories, FIFOs, a tree removed beneath a directory fd.
#include <napi.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <cerrno>
#include <initializer_list>
#include <string>

#include "../common/remove_beneath.h"
#include "bindings.h"
#include "js_errors.h"

namespace {

using lxz_addon::errno_error;

// overlayWhiteout(path): the character device 0/0 overlayfs reads as "deleted
// in a lower layer"; overlayOpaque(dir): the xattr that hides every lower
// layer's content of a directory. The image store writes OCI whiteouts this
// way into a shared layer (Node's fs has neither mknod nor setxattr).
Napi::Value OverlayWhiteout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (mknod(path.c_str(), S_IFCHR | 0000, makedev(0, 0)) < 0) errno_error(env, errno, "mknod", path).ThrowAsJavaScriptException();
  return env.Undefined();
}

// makeFifo(path, mode): mkfifo(3) (Node's fs has none). lxzone-runc's start
// fifo: spawning coreutils' mkfifo cost every `create` a process start.
Napi::Value MakeFifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  const mode_t mode = static_cast<mode_t>(info[1].As<Napi::Number>().Uint32Value()) & 07777;
  if (mkfifo(path.c_str(), mode) < 0) errno_error(env, errno, "mkfifo", path).ThrowAsJavaScriptException();
  // The mode as asked, whatever this process's umask took off it.
  else if (chmod(path.c_str(), mode) < 0) errno_error(env, errno, "chmod", path).ThrowAsJavaScriptException();
  return env.Undefined();
}

// overlayOpaque(dir, user): with `user`, the user.overlay.opaque xattr that
// an overlay mounted with `userxattr` reads (a rootless user's store: the
// trusted.* namespace is root's).
Napi::Value OverlayOpaque(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  const bool user = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  const char* name = user ? "user.overlay.opaque" : "trusted.overlay.opaque";
  if (lsetxattr(path.c_str(), name, "y", 1, 0) < 0)
    errno_error(env, errno, std::string("setxattr ") + name, path).ThrowAsJavaScriptException();
  return env.Undefined();
}

// overlayIsOpaque(dir): whether the directory carries that xattr (a volume
// seeded from the layers must not copy what an opaque directory hides).
// Either namespace: root's store marks trusted.*, a rootless user's user.*.
Napi::Value OverlayIsOpaque(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
    char v[2] = {0, 0};
    ssize_t n = lgetxattr(path.c_str(), name, v, sizeof v);
    if (n < 0) {
      if (errno == ENODATA || errno == ENOTSUP || errno == EPERM) continue;
      errno_error(env, errno, std::string("getxattr ") + name, path).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (n == 1 && v[0] == 'y') return Napi::Boolean::New(env, true);
  }
  return Napi::Boolean::New(env, false);
}

// removeBeneath(parent, name): removes parent/name, a tree a zone wrote (a
// volume's data), through directory fds only and never through a symlink
// (native/common/remove_beneath.h); Node's rm resolves paths again at each step.
Napi::Value RemoveBeneath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string parent = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  lxz::Status s = lxz::remove_beneath(parent, name);
  if (!s.ok()) errno_error(env, s.error().err, s.error().what, parent + "/" + name).ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace

namespace lxz_addon {

void register_files(Napi::Env env, Napi::Object exports) {
  exports.Set("overlayWhiteout", Napi::Function::New(env, OverlayWhiteout));
  exports.Set("makeFifo", Napi::Function::New(env, MakeFifo));
  exports.Set("overlayOpaque", Napi::Function::New(env, OverlayOpaque));
  exports.Set("overlayIsOpaque", Napi::Function::New(env, OverlayIsOpaque));
  exports.Set("removeBeneath", Napi::Function::New(env, RemoveBeneath));
}

}  // namespace lxz_addon
