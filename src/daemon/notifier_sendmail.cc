// E-mail through the local MTA's sendmail interface, which every MTA
// (Postfix, Exim, OpenSMTPD, msmtp) provides.
#include <algorithm>

#include "daemon/notifier.h"
#include "wire/base64.h"

namespace keyward::daemon {
namespace {

constexpr std::size_t kMaxSubjectBytes = 200;

bool IsAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// RFC 2047 encoded-word for a subject that is not ASCII.
std::string SubjectHeader(std::string_view subject) {
  if (IsAscii(subject)) return std::string(subject);
  return "=?UTF-8?B?" + wire::EncodeBase64(AsBytes(subject)) + "?=";
}

// The body with LF line ends (sendmail's local convention; the MTA writes
// CRLF on the wire) and a final newline; a lone CR becomes a line end too.
std::string BodyText(std::string_view body) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < body.size() && body[i + 1] == '\n') ++i;
    } else {
      out.push_back(body[i]);
    }
  }
  if (out.empty() || out.back() != '\n') out.push_back('\n');
  return out;
}

class SendmailNotifier final : public Notifier {
 public:
  SendmailNotifier(std::string path, std::string from, std::chrono::milliseconds timeout)
      : path_(std::move(path)), from_(std::move(from)), timeout_(timeout) {}
  std::string name() const override { return "sendmail"; }

  Result<void> Send(const Message& message) override {
    if (auto ok = ValidateEmailAddress(message.to); !ok) return ok;
    if (auto ok = ValidateEmailAddress(from_); !ok) {
      return Fail("bad_setting", "the sender address (mail_from) is not valid: " + ok.error().message);
    }
    // A CR or LF in the subject would start a header of the sender's choosing.
    if (message.subject.find_first_of("\r\n") != std::string::npos) {
      return Fail("bad_message", "the subject holds a line break");
    }
    if (message.subject.size() > kMaxSubjectBytes || message.body.size() > kMaxMessageBytes) {
      return Fail("bad_message", "the message is too long");
    }
    std::string mail = "From: " + from_ + "\nTo: " + message.to + "\nSubject: " + SubjectHeader(message.subject) +
                       "\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
                       "Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n\n" +
                       BodyText(message.body);
    // -i: a line holding only "." does not end the message. "--": the
    // recipient is never an option, whatever it starts with.
    return RunCommandWithInput({path_, "-i", "--", message.to}, mail, timeout_);
  }

 private:
  std::string path_;
  std::string from_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<Notifier> MakeSendmailNotifier(std::string sendmail_path, std::string from,
                                               std::chrono::milliseconds timeout) {
  return std::make_unique<SendmailNotifier>(std::move(sendmail_path), std::move(from), timeout);
}

}  // namespace keyward::daemon
