// Writes a KRL in format version 1, as PROTOCOL.krl describes it and OpenSSH
// reads it: the header, one certificates section per CA (serials in the
// smallest subsections, see serial_plan.h, then key IDs), then the explicit
// keys, the SHA1 hashes and the SHA256 hashes. Never signed.
#pragma once

#include "base/bytes.h"
#include "base/error.h"
#include "krl/krl.h"

namespace keyward::krl {

// Refuses a model that is not in canonical form (KrlBuilder::Finish and
// ParseKrl always give canonical ones), rather than write a KRL that says
// something else than the model.
Result<Bytes> EncodeKrl(const Krl& krl);

}  // namespace keyward::krl
