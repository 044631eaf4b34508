// Native failures as JS errors: lxzone's own error class (handed over once
// with setErrorClass), carrying errno and the failed call. Shared by the
// binding files of the addon.
#pragma once
#include <napi.h>

#include <string>

namespace lxz_addon {

// new LxzoneError(`${syscall} ${subject}: ${strerror}`, { errno, syscall }).
Napi::Error errno_error(Napi::Env env, int err, const std::string& syscall, const std::string& subject = "");

}  // namespace lxz_addon
