// SMS through Twilio's Messages API with libcurl.
//
// Neither the auth token nor the body (it holds the code) ever reaches an
// Error or a log: errors carry the HTTP status and Twilio's own code and
// message, and the buffers that held them are wiped.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>

#include "daemon/notifier.h"

namespace keyward::daemon {
namespace {

constexpr char kUserAgent[] = "keyward/0.1";
constexpr long kMaxConnectSeconds = 10;
constexpr std::size_t kMaxTwilioMessageChars = 300;

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct Wiped {
  std::string text;
  ~Wiped() { OPENSSL_cleanse(text.data(), text.size()); }
};

// curl_global_init is not thread-safe in every libcurl; do it once.
Result<void> InitCurlOnce() {
  static std::once_flag once;
  static CURLcode status = CURLE_OK;
  std::call_once(once, [] { status = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (status != CURLE_OK) return Fail("twilio_unreachable", "libcurl could not be initialised");
  return {};
}

// Host of an http(s) URL, without port or brackets; "" when it has none.
std::string_view UrlHost(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.find('@') != std::string_view::npos) return {};  // user info in the URL: refused
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    return close == std::string_view::npos ? std::string_view() : rest.substr(1, close - 1);
  }
  return rest.substr(0, rest.find(':'));
}

// A literal loopback address (or "localhost"): "127.0.0.1.example.org"
// is a name anyone can point anywhere.
bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, text.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

bool IsAlnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsAlphanumericSender(std::string_view from) {
  if (from.empty() || from.size() > 11) return false;
  bool letter = false;
  for (char c : from) {
    if (!IsAlnum(c) && c != ' ') return false;
    letter = letter || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  }
  return letter;
}

// application/x-www-form-urlencoded as browsers write it (WHATWG URL,
// "urlencoded serializer"): space as '+', "*-._" and letters and digits as
// they are, every other byte as %XX.
void AppendFormValue(std::string_view value, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (IsAlnum(ch) || ch == '*' || ch == '-' || ch == '.' || ch == '_') {
      out.push_back(ch);
    } else if (ch == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

std::size_t Utf8Length(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

struct ReplyBuffer {
  std::string data;
  bool too_large = false;
};

std::size_t CollectReply(char* ptr, std::size_t size, std::size_t count, void* user) {
  auto* reply = static_cast<ReplyBuffer*>(user);
  std::size_t n = size * count;
  if (reply->data.size() + n > kMaxTwilioReplyBytes) {
    reply->too_large = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  reply->data.append(ptr, n);
  return n;
}

// Twilio's error reply: {"code": 21211, "message": "...", "more_info": ..., "status": 400}.
// The message is shown only if it does not repeat a secret.
std::string DescribeTwilioError(const std::string& reply, const TwilioSettings& settings, const Message& message) {
  auto json = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return {};
  std::string out;
  if (auto it = json.find("code"); it != json.end() && it->is_number_integer()) {
    out += ", Twilio error " + std::to_string(it->get<long long>());
  }
  if (auto it = json.find("message"); it != json.end() && it->is_string()) {
    std::string text = it->get<std::string>();
    bool repeats_secret = (!settings.auth_token.empty() && text.find(settings.auth_token) != std::string::npos) ||
                          (!message.body.empty() && text.find(message.body) != std::string::npos);
    if (repeats_secret) {
      OPENSSL_cleanse(text.data(), text.size());
      out += ": (Twilio's message repeats the request and is not shown)";
    } else {
      if (Utf8Length(text) > kMaxTwilioMessageChars) text.resize(kMaxTwilioMessageChars);
      for (char& c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
      }
      out += ": " + text;
    }
    OPENSSL_cleanse(it->get_ref<std::string&>().data(), it->get_ref<std::string&>().size());
  }
  return out;
}

class TwilioNotifier final : public Notifier {
 public:
  explicit TwilioNotifier(TwilioSettings settings) : settings_(std::move(settings)) {}
  ~TwilioNotifier() override { OPENSSL_cleanse(settings_.auth_token.data(), settings_.auth_token.size()); }

  std::string name() const override { return "twilio"; }
  std::size_t max_message_bytes() const override { return kMaxSmsBodyChars; }

  Result<void> Send(const Message& message) override {
    if (auto ok = ValidateTwilioSettings(settings_); !ok) return ok;
    if (!IsE164(message.to)) {
      return Fail("bad_recipient", "the phone number is not in E.164 form ('+', then 8 to 15 digits)");
    }
    if (message.body.empty() || Utf8Length(message.body) > kMaxSmsBodyChars) {
      return Fail("bad_message", "an SMS body must have 1 to 1600 characters");
    }
    if (auto ok = InitCurlOnce(); !ok) return ok;
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return Fail("twilio_unreachable", "libcurl could not start a request");

    std::string base = settings_.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    const std::string url = base + "/2010-04-01/Accounts/" + settings_.account_sid + "/Messages.json";
    Wiped form;
    form.text = "From=";
    AppendFormValue(settings_.from, form.text);
    form.text += "&To=";
    AppendFormValue(message.to, form.text);
    form.text += "&Body=";
    AppendFormValue(message.body, form.text);

    std::unique_ptr<curl_slist, CurlDeleter> headers;
    for (const char* h : {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json",
                          "Expect:"}) {  // no "100-continue" round trip
      curl_slist* next = curl_slist_append(headers.get(), h);
      if (next == nullptr) return Fail("twilio_unreachable", "out of memory");
      (void)headers.release();
      headers.reset(next);
    }
    ReplyBuffer reply;
    char curl_error[CURL_ERROR_SIZE] = {};
    CURL* c = curl.get();
    const long timeout = settings_.timeout_seconds;
    bool set = curl_easy_setopt(c, CURLOPT_URL, url.c_str()) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1") == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC)) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_USERNAME, settings_.account_sid.c_str()) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_PASSWORD, settings_.auth_token.c_str()) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_POST, 1L) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.text.size())) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.text.c_str()) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get()) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_USERAGENT, kUserAgent) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, std::min(timeout, kMaxConnectSeconds)) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&  // threads: no SIGALRM for DNS timeouts
               curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_error) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectReply) == CURLE_OK &&
               curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply) == CURLE_OK;
    if (!set) return Fail("twilio_unreachable", "libcurl refused an option; is it built with http and https?");

    CURLcode rc = curl_easy_perform(c);
    Wiped reply_text{std::move(reply.data)};
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return Fail("twilio_timeout", "Twilio did not answer within " + std::to_string(timeout) + " s; no SMS was sent");
    }
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && reply.too_large)) {
      std::string detail = curl_error[0] != '\0' ? curl_error : curl_easy_strerror(rc);
      return Fail("twilio_unreachable", "cannot reach Twilio at " + base + ": " + detail);
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) return {};
    return Fail("twilio_rejected", "Twilio refused the SMS: HTTP " + std::to_string(status) +
                                       DescribeTwilioError(reply_text.text, settings_, message));
  }

 private:
  TwilioSettings settings_;
};

}  // namespace

Result<void> ValidateTwilioSettings(const TwilioSettings& s) {
  const std::string_view url = s.base_url;
  std::string_view host = UrlHost(url);
  if (host.empty() || !(url.starts_with("https://") || (url.starts_with("http://") && IsLoopbackHost(host)))) {
    return Fail("bad_setting",
                "twilio_base_url must be an https:// URL without user name (plain http:// only to a loopback "
                "address, for tests)");
  }
  if (s.account_sid.empty() || s.account_sid.size() > 64 ||
      !std::all_of(s.account_sid.begin(), s.account_sid.end(), IsAlnum)) {
    return Fail("bad_setting", "twilio_sid must be Twilio's account SID (letters and digits, such as AC0123...)");
  }
  if (s.auth_token.empty()) return Fail("bad_setting", "twilio_token is not set");
  if (!IsE164(s.from) && !IsAlphanumericSender(s.from)) {
    return Fail("bad_setting",
                "sms_number must be an E.164 number ('+', then 8 to 15 digits) or an alphanumeric sender ID");
  }
  if (s.timeout_seconds < 1 || s.timeout_seconds > 120) {
    return Fail("bad_setting", "the Twilio timeout must be 1 to 120 seconds");
  }
  return {};
}

std::unique_ptr<Notifier> MakeTwilioNotifier(TwilioSettings settings) {
  return std::make_unique<TwilioNotifier>(std::move(settings));
}

}  // namespace keyward::daemon
