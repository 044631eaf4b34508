// A one-shot zone's host id range, claimed exactly as src/zone/ids.ts's
// claimTransientIdRange does, so the front end and Node launchers share the
// claims: an exclusive file <dir>/<slot> (a temporary file link(2)ed into
// place) naming this process; a claim whose holder and sharers (<slot>.<n>
// files) are gone is taken over. Released by release() or the destructor.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "../common/fd.h"
#include "description.h"

namespace lxz::front {

class IdClaim {
 public:
  IdClaim() = default;
  IdClaim(IdClaim&& o) noexcept { *this = std::move(o); }
  IdClaim& operator=(IdClaim&& o) noexcept;
  ~IdClaim() { release(); }

  // A free range of `plan`, or nullopt with `error` (lxzone's message for the user).
  static std::optional<IdClaim> claim(const IdClaimPlan& plan, std::string* error);

  uint64_t id_base() const { return id_base_; }
  void release();

 private:
  Fd dir_;
  std::string name_;
  uint64_t id_base_ = 0;
};

}  // namespace lxz::front
