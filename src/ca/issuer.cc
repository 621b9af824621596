#include "ca/issuer.h"

#include "ca/serial_counter.h"
#include "key/fingerprint.h"

namespace keyward::ca {

std::string DefaultKeyId(std::string_view account, std::string_view role, std::uint64_t serial) {
  std::string id = "keyward:";
  id += account.empty() ? "-" : account;
  id += ':';
  id += role.empty() ? "-" : role;
  id += ':';
  id += std::to_string(serial);
  return id;
}

Result<std::vector<IssuedCertificate>> IssueCertificates(int ca_dirfd, const CaSigner& ca,
                                                         std::vector<CertificateRequest> requests,
                                                         const IssueContext& context) {
  if (requests.empty()) return std::vector<IssuedCertificate>{};
  if (requests.size() > kMaxSerialBlock) {
    return Fail("batch_too_large", "one batch signs at most " + std::to_string(kMaxSerialBlock) + " certificates");
  }
  // Every check before any serial is spent. The serial is not chosen yet:
  // check with a stand-in.
  for (auto& r : requests) {
    if (r.serial != 0) return Fail("bad_serial", "serials are assigned by the CA's counter; leave them 0");
    r.serial = 1;
    if (auto ok = CheckCertificateRequest(r); !ok) return Fail(ok.error());
  }
  auto block = ReserveSerials(ca_dirfd, requests.size());
  if (!block) return Fail(block.error());

  const std::string ca_fingerprint = key::Fingerprint(ca.public_key());
  std::vector<IssuedCertificate> issued;
  issued.reserve(requests.size());
  std::vector<IssuanceRecord> records;
  records.reserve(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    CertificateRequest& r = requests[i];
    r.serial = block->first + i;
    if (r.key_id.empty()) r.key_id = DefaultKeyId(context.account, context.role, r.serial);
    auto blob = SignCertificate(ca, r);
    if (!blob) return Fail(blob.error());
    IssuanceRecord rec;
    rec.time = context.now;
    rec.serial = r.serial;
    rec.key_id = r.key_id;
    rec.type = r.type;
    rec.role = context.role;
    rec.account = context.account;
    rec.principals = r.principals;
    rec.valid_after = r.valid_after;
    rec.valid_before = r.valid_before;
    rec.fingerprint = key::Fingerprint(r.subject);
    rec.key_type = std::string(r.subject.type().short_name);
    rec.ca_fingerprint = ca_fingerprint;
    rec.requested_by = context.requested_by;
    rec.client = context.client;
    records.push_back(rec);
    issued.push_back(IssuedCertificate{std::move(*blob), std::move(rec)});
  }
  // Recorded (and synced) before anything is handed out.
  if (auto ok = AppendIssuanceRecords(ca_dirfd, records); !ok) {
    return Fail(ok.error().code, "the certificates were signed but could not be recorded, so none is handed out: " +
                                     ok.error().message);
  }
  return issued;
}

}  // namespace keyward::ca
