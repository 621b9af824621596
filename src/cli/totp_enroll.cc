#include "cli/totp_enroll.h"

#include <openssl/crypto.h>
#include <unistd.h>

#include "factor/totp.h"
#include "factor/totp_file.h"
#include "fs/privilege.h"
#include "store/account.h"

namespace keyward::cli {
namespace {

struct Target {
  store::Account account;
  std::string home;
};

// Wipes the secret's bytes when enrollment ends, however it ends.
struct SecretBytes {
  Bytes bytes;
  ~SecretBytes() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

Result<Target> ResolveTarget(const TotpEnrollOptions& options, const TotpEnrollIo& io) {
  if (!options.account.empty()) {
    auto found = store::LookupAccount(options.account);
    if (!found) return Fail(found.error());
    if (!found->has_value()) return Fail("no_account", "there is no user \"" + options.account + "\" on this machine");
    store::Account account = std::move(**found);
    // Root writes in a user's home only with that user's rights, so that a
    // link planted there cannot make it write elsewhere.
    if (account.uid != geteuid()) {
      if (auto ok = fs::DropPrivileges(account.name, account.uid, account.gid); !ok) return Fail(ok.error());
    }
    std::string home = account.home;
    return Target{std::move(account), std::move(home)};
  }
  auto account = store::CurrentAccount();
  if (!account) return Fail(account.error());
  std::string home = account->home;
  if (!options.home.empty() && options.home.front() == '/') home = options.home;
  while (home.size() > 1 && home.back() == '/') home.pop_back();
  if (home != account->home) {
    io.err("keyward: note: writing under $HOME (" + home + "); keywardd looks in the passwd home (" + account->home +
           ")\n");
  }
  return Target{std::move(*account), std::move(home)};
}

// "ABCD EFGH ..." as apps show a secret for typing in.
std::string Grouped(std::string_view base32) {
  std::string out;
  for (std::size_t i = 0; i < base32.size(); ++i) {
    if (i > 0 && i % 4 == 0) out.push_back(' ');
    out.push_back(base32[i]);
  }
  return out;
}

// True when the user typed a code the app shows for this secret.
Result<bool> Confirm(ByteView secret, const TotpEnrollIo& io) {
  std::int64_t last_step = 0;
  for (int attempt = 1; attempt <= kTotpConfirmTries; ++attempt) {
    auto line = io.ask("Code shown by the app: ");
    if (!line) return Fail("cancelled", "enrollment cancelled; nothing was written");
    if (factor::VerifyTotp(secret, *line, io.now(), &last_step)) return true;
    if (attempt < kTotpConfirmTries) {
      io.err("That code does not match. Type the 6 digits the app shows now; if it still fails, check the "
             "phone's clock.\n");
    }
  }
  return false;
}

}  // namespace

std::string RenderQr(const QrModules& qr, QrStyle style, bool invert) {
  const int size = qr.width + 2 * kQrQuietZone;
  auto drawn = [&](int x, int y) {
    if (y >= size) return false;  // below the code: the terminal's background
    return qr.Dark(x - kQrQuietZone, y - kQrQuietZone) == invert;
  };
  std::string out;
  if (style == QrStyle::kAscii) {
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) out += drawn(x, y) ? "##" : "  ";
      out += '\n';
    }
    return out;
  }
  for (int y = 0; y < size; y += 2) {
    for (int x = 0; x < size; ++x) {
      bool top = drawn(x, y), bottom = drawn(x, y + 1);
      out += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
    }
    out += '\n';
  }
  return out;
}

int RunTotpEnroll(const TotpEnrollOptions& options, const TotpEnrollIo& io) {
  auto fail = [&](const Error& e) {
    io.err("keyward: " + e.message + "\n");
    return 1;
  };
  auto target = ResolveTarget(options, io);
  if (!target) return fail(target.error());
  const uid_t uid = target->account.uid;
  const factor::TotpWriteOptions write_options{options.force};
  // Refuse before showing a secret that could not be saved.
  if (auto ok = factor::CheckTotpWritable(target->home, uid, write_options); !ok) return fail(ok.error());

  auto secret = factor::NewTotpSecret();
  if (!secret) return fail(secret.error());
  SecretBytes held{std::move(*secret)};
  std::string label = target->account.name + (options.host.empty() ? "" : "@" + options.host);
  std::string uri = factor::OtpauthUri(options.issuer, label, held.bytes);
  auto qr = io.encode_qr(uri);
  if (!qr) return fail(qr.error());

  std::string base32 = factor::Base32Encode(held.bytes);
  io.out("Scan this QR code with an authenticator app for " + label + ":\n\n" +
         RenderQr(*qr, io.style, io.invert_qr) + "\n" + uri + "\n\nOr type the secret in: " + Grouped(base32) +
         "\n(time-based, SHA1, 6 digits, every 30 seconds)\n\n");
  OPENSSL_cleanse(base32.data(), base32.size());
  OPENSSL_cleanse(uri.data(), uri.size());

  if (options.confirm && io.ask) {
    auto confirmed = Confirm(held.bytes, io);
    if (!confirmed) return fail(confirmed.error());
    if (!*confirmed) {
      return fail({"bad_code", "the app's codes did not match; nothing was written. Run keyward totp enroll again"});
    }
  } else if (options.confirm) {
    io.err("keyward: standard input is not a terminal, so no code was asked for; check that the app's codes work\n");
  }
  if (auto ok = factor::WriteTotpSecret(target->home, uid, held.bytes, write_options); !ok) return fail(ok.error());
  io.out("Saved " + factor::TotpFilePath(target->home) + ". keywardd will ask for this app's code at login.\n");
  return 0;
}

}  // namespace keyward::cli
