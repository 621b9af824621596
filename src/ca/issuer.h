// Issuing certificates: the one path by which keyward's CA hands out a
// certificate (keyward ca sign, keywardd's sign_cert).
//
// IssueCertificates() checks every request first (nothing is signed if one
// is bad), reserves a block of serials (serial_counter.h: durable before
// use), gives each certificate without a key id the default one, signs
// them all, and appends one issuance-log line per certificate with one
// write and one sync. Only then are the certificates returned: a
// certificate never leaves keyward unrecorded.
//
// The default key id joins the audit trail: "keyward:<account>:<role>:<serial>"
// ("-" for a missing account or role), e.g. "keyward:alice:login:17". sshd
// logs it with the serial and the key's fingerprint on every login
// ("ID keyward:alice:login:17 (serial 17)"); issued.log has the same serial,
// key id and fingerprint, and who asked from where.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "ca/ca_signer.h"
#include "ca/certificate.h"
#include "ca/issuance_log.h"

namespace keyward::ca {

struct IssueContext {
  std::string role;          // "" when signed without a role
  std::string account;       // "" when signed for no particular account
  std::string requested_by;  // who asked (a user name, "keywardd", ...)
  std::string client;        // from where (an address, or "local")
  std::int64_t now = 0;      // the time recorded in the log
};

struct IssuedCertificate {
  Bytes blob;             // the certificate (key::ParsePublicKeyBlob reads it)
  IssuanceRecord record;  // what issued.log says about it
};

// "keyward:<account|->:<role|->:<serial>".
std::string DefaultKeyId(std::string_view account, std::string_view role, std::uint64_t serial);

// Requests come with serial 0 (the serial is assigned here); an empty
// key_id gets DefaultKeyId(). Returns the certificates in request order.
Result<std::vector<IssuedCertificate>> IssueCertificates(int ca_dirfd, const CaSigner& ca,
                                                         std::vector<CertificateRequest> requests,
                                                         const IssueContext& context);

}  // namespace keyward::ca
