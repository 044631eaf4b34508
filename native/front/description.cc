#include "description.h"

#include <map>

#include "../common/seam.generated.h"
#include "../supervisor/fuse_mount.h"  // valid_filter_size
#include "records.h"

namespace lxz::front {
namespace {

bool fail(std::string* why, std::string text) {
  *why = std::move(text);
  return false;
}

bool number(const std::string& key, std::string_view v, uint64_t* out, std::string* why) {
  auto n = parse_decimal(v);
  if (!n) return fail(why, key + ": not a number");
  *out = *n;
  return true;
}

bool pair(const std::string& key, std::string_view v, uint64_t* a, uint64_t* b, std::string* why) {
  std::vector<std::string> f = fields(v);
  if (f.size() != 2) return fail(why, key + ": want two fields");
  return number(key, f[0], a, why) && number(key, f[1], b, why);
}

bool hex(const std::string& key, std::string_view v, std::string* out, std::string* why) {
  auto bytes = from_hex(v);
  if (!bytes) return fail(why, key + ": not hex");
  *out = std::move(*bytes);
  return true;
}

bool apply(const Record& r, LaunchDescription* d, std::string* why) {
  const std::string& k = r.key;
  const std::string& v = r.value;
  if (k == "flags") d->flags = v;
  else if (k == "input-file") d->input_files.push_back(v);
  else if (k == "input-dir") d->input_dirs.push_back(v);
  else if (k == "input-env") d->input_env.push_back(v);
  else if (k == "shim") {
    if (v.empty() || v[0] != '/') return fail(why, "shim: not an absolute path");
    d->shim = v;
  } else if (k == "config") return hex(k, v, &d->config, why);
  else if (k == "filter") return hex(k, v, &d->filter, why);
  else if (k == "dispatch") return hex(k, v, &d->dispatch, why);
  else if (k == "hostname") d->hostname = v;
  else if (k == "kernel-version") d->kernel_version = v;
  else if (k == "kernel-version-env") {
    if (v != "0" && v != "1") return fail(why, "kernel-version-env: not 0 or 1");
    d->kernel_version_env = v == "1";
  } else if (k == "trace-string-args") return hex(k, v, &d->trace_string_args, why);
  else if (k == "driver-filter") {
    if (!hex(k, v, &d->driver_filter, why)) return false;
    if (!valid_filter_size(d->driver_filter.size())) return fail(why, "driver-filter: not a seccomp filter of 1 to 4096 instructions");
  }
  else if (k == "id-claim-dir") {
    if (v.empty() || v[0] != '/') return fail(why, "id-claim-dir: not an absolute path");
    if (!d->id_claim) d->id_claim.emplace();
    d->id_claim->dir = v;
  } else if (k == "id-slots") {
    if (!d->id_claim) d->id_claim.emplace();
    return pair(k, v, &d->id_claim->first_slot, &d->id_claim->slot_count, why);
  } else if (k == "id-range") {
    if (!d->id_claim) d->id_claim.emplace();
    return pair(k, v, &d->id_claim->range_start, &d->id_claim->range_count, why);
  } else if (k == "restart-burst") return number(k, v, &d->restart.burst, why);
  else if (k == "restart-series-reset-ms") return number(k, v, &d->restart.series_reset_ms, why);
  else if (k == "restart-delay-ms") {
    if (v.empty()) return true;
    for (const std::string& f : fields(v)) {
      uint64_t ms;
      if (!number(k, f, &ms, why)) return false;
      d->restart.delay_ms.push_back(ms);
    }
  } else if (k == "restart-limit-reason") d->restart.limit_reason = v;
  return true;
}

}  // namespace

std::optional<LaunchDescription> parse_description(std::string_view bytes, std::string* why) {
  auto records = split_records(bytes);
  if (!records) {
    *why = "not NUL-terminated key=value records";
    return std::nullopt;
  }
  // The version is the digest of seam/facts.json this front end was built with: a description
  // written against other facts (one without a config record every zone's config now has) is stale.
  if (records->empty() || (*records)[0].key != "version" || (*records)[0].value != kLaunchDescriptionVersion) {
    *why = "written for another format (its first record is not version=" + std::string(kLaunchDescriptionVersion) + ")";
    return std::nullopt;
  }
  LaunchDescription d;
  std::map<std::string, int> seen;
  for (size_t i = 1; i < records->size(); i++) {
    const Record& r = (*records)[i];
    if (!is_launch_description_key(r.key) || r.key == "version") {
      *why = "unknown record " + r.key;
      return std::nullopt;
    }
    if (++seen[r.key] > 1 && r.key != "input-file" && r.key != "input-dir" && r.key != "input-env") {
      *why = "repeated record " + r.key;
      return std::nullopt;
    }
    if (!apply(r, &d, why)) return std::nullopt;
  }
  for (const char* required : {"flags", "shim", "config", "filter", "dispatch", "hostname", "driver-filter", "restart-burst",
                               "restart-series-reset-ms", "restart-delay-ms", "restart-limit-reason"}) {
    if (!seen.count(required)) {
      *why = std::string("no ") + required + " record";
      return std::nullopt;
    }
  }
  if (d.id_claim && !(seen.count("id-claim-dir") && seen.count("id-slots") && seen.count("id-range"))) {
    *why = "id-claim-dir, id-slots and id-range go together";
    return std::nullopt;
  }
  if (d.id_claim && (d.id_claim->slot_count == 0 || d.id_claim->range_count == 0)) {
    *why = "id-slots or id-range: count 0";
    return std::nullopt;
  }
  if (d.restart.delay_ms.size() < d.restart.burst) {
    *why = "restart-delay-ms: fewer delays than restart-burst";
    return std::nullopt;
  }
  return d;
}

}  // namespace lxz::front
