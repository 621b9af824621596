// The notifiers against real counterparts: an HTTP server in this process
// playing Twilio (127.0.0.1, a random port) that checks the request
// exactly; `openssl s_server` with a self-signed certificate, which
// must be refused; real programs run as commands and as sendmail.
#include "daemon/notifier.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "wire/base64.h"

extern char** environ;

namespace keyward::daemon {
namespace {

using namespace std::chrono_literals;
namespace stdfs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kSid[] = "AC0123456789abcdef0123456789abcdef";
constexpr char kToken[] = "s3cr3t-auth-token-0123456789";
constexpr char kFrom[] = "+15005550006";
constexpr char kTo[] = "+447700900123";

// --- a small form decoder, written independently of the encoder ---------

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string FormDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> FormFields(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> fields;
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view field = body.substr(0, amp);
    auto eq = field.find('=');
    fields.emplace_back(FormDecode(field.substr(0, eq)),
                        eq == std::string_view::npos ? "<no value>" : FormDecode(field.substr(eq + 1)));
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
  }
  return fields;
}

// --- Twilio, played by a small HTTP/1.1 server in this process ----------
//
// Written on raw sockets rather than with an HTTP library, so that the test
// sees the request exactly as it crossed the wire: request line, every
// header line, the body byte for byte.

struct Seen {
  std::string request_line;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string("<missing>") : it->second;
  }
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class FakeTwilio {
 public:
  FakeTwilio() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(listen_fd_, 16);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeTwilio() {
    shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    close(listen_fd_);
  }

  void Answer(int status, std::string reply) {
    std::lock_guard lock(mutex_);
    status_ = status;
    reply_ = std::move(reply);
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void Serve() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      timeval tv{5, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      Handle(fd);
      close(fd);
    }
  }

  void Handle(int fd) {
    std::string data;
    char buf[4096];
    std::size_t end;
    while ((end = data.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0 || data.size() > 65536) return;
      data.append(buf, static_cast<std::size_t>(n));
    }
    Seen seen;
    std::istringstream head(data.substr(0, end));
    std::getline(head, seen.request_line);
    if (!seen.request_line.empty() && seen.request_line.back() == '\r') seen.request_line.pop_back();
    for (std::string line; std::getline(head, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto colon = line.find(':');
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      seen.headers.emplace(Lower(line.substr(0, colon)), value);
    }
    seen.body = data.substr(end + 4);
    std::size_t length = std::strtoul(seen.Header("content-length").c_str(), nullptr, 10);
    while (seen.body.size() < length) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      seen.body.append(buf, static_cast<std::size_t>(n));
    }
    std::string response;
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(std::move(seen));
      response = "HTTP/1.1 " + std::to_string(status_) + " Whatever\r\nContent-Type: application/json\r\n" +
                 "Content-Length: " + std::to_string(reply_.size()) + "\r\nConnection: close\r\n\r\n" + reply_;
    }
    std::string_view rest = response;
    while (!rest.empty()) {
      ssize_t n = send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Seen> seen_;
  int status_ = 201;
  std::string reply_ = R"({"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "to": "+447700900123"})";
};

TwilioSettings Settings(const std::string& base_url) {
  TwilioSettings s;
  s.base_url = base_url;
  s.account_sid = kSid;
  s.auth_token = kToken;
  s.from = kFrom;
  s.timeout_seconds = 2;
  return s;
}

void ExpectNoSecret(const Error& e, std::string_view body) {
  EXPECT_EQ(e.message.find(kToken), std::string::npos) << e.message;
  if (!body.empty()) {
    EXPECT_EQ(e.message.find(body), std::string::npos) << e.message;
  }
  EXPECT_EQ(e.message.find("123456"), std::string::npos) << e.message;
}

TEST(TwilioNotifierTest, SendsExactlyTheRequestTwilioExpects) {
  FakeTwilio twilio;
  auto notifier = MakeTwilioNotifier(Settings(twilio.url()));
  EXPECT_EQ(notifier->name(), "twilio");
  // Every character class the form encoding must carry: spaces, '+', '&',
  // '=', '%', '/', a newline, UTF-8.
  const std::string body = "Your keyward code is 123456.\nDo not share it: a+b & c=d 100% /x é";
  auto sent = notifier->Send({kTo, "ignored for SMS", body});
  ASSERT_TRUE(sent.has_value()) << sent.error().message;

  auto seen = twilio.seen();
  ASSERT_EQ(seen.size(), 1u);
  const Seen& r = seen[0];
  EXPECT_EQ(r.request_line, std::string("POST /2010-04-01/Accounts/") + kSid + "/Messages.json HTTP/1.1");
  std::string credentials = std::string(kSid) + ":" + kToken;
  EXPECT_EQ(r.Header("authorization"), "Basic " + wire::EncodeBase64(AsBytes(credentials)));
  EXPECT_EQ(r.headers.count("authorization"), 1u);
  EXPECT_EQ(r.Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(r.headers.count("content-type"), 1u);
  EXPECT_EQ(r.Header("content-length"), std::to_string(r.body.size()));
  EXPECT_EQ(r.headers.count("transfer-encoding"), 0u);
  EXPECT_EQ(r.headers.count("expect"), 0u);
  auto fields = FormFields(r.body);
  std::vector<std::pair<std::string, std::string>> expected = {{"From", kFrom}, {"To", kTo}, {"Body", body}};
  EXPECT_EQ(fields, expected) << r.body;
  // The raw body, so that the encoding itself is pinned down.
  EXPECT_EQ(r.body.substr(0, 40), "From=%2B15005550006&To=%2B447700900123&B");
}

TEST(TwilioNotifierTest, ATwilioErrorCarriesStatusCodeAndMessageButNoSecret) {
  FakeTwilio twilio;
  twilio.Answer(400, R"({"code": 21211, "message": "The 'To' number +447700900123 is not a valid phone number.",
                        "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})");
  const std::string body = "Your keyward code is 123456";
  auto sent = MakeTwilioNotifier(Settings(twilio.url()))->Send({kTo, "", body});
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, "twilio_rejected");
  EXPECT_NE(sent.error().message.find("HTTP 400"), std::string::npos) << sent.error().message;
  EXPECT_NE(sent.error().message.find("21211"), std::string::npos) << sent.error().message;
  EXPECT_NE(sent.error().message.find("is not a valid phone number"), std::string::npos) << sent.error().message;
  ExpectNoSecret(sent.error(), body);
  EXPECT_EQ(twilio.seen().size(), 1u);
}

TEST(TwilioNotifierTest, ATwilioMessageThatRepeatsTheBodyOrTokenIsNotShown) {
  FakeTwilio twilio;
  const std::string body = "Your keyward code is 123456";
  for (std::string echoed : {body, std::string(kToken)}) {
    twilio.Answer(400, R"({"code": 1, "message": "bad: )" + echoed + R"("})");
    auto sent = MakeTwilioNotifier(Settings(twilio.url()))->Send({kTo, "", body});
    ASSERT_FALSE(sent.has_value());
    ExpectNoSecret(sent.error(), body);
    EXPECT_NE(sent.error().message.find("not shown"), std::string::npos) << sent.error().message;
  }
}

TEST(TwilioNotifierTest, ANonJsonErrorGivesTheStatusOnly) {
  FakeTwilio twilio;
  twilio.Answer(503, "<html>Service Unavailable \x1b[31m</html>");
  auto sent = MakeTwilioNotifier(Settings(twilio.url()))->Send({kTo, "", "code 123456"});
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, "twilio_rejected");
  EXPECT_EQ(sent.error().message, "Twilio refused the SMS: HTTP 503");
}

TEST(TwilioNotifierTest, AServerThatNeverAnswersTimesOut) {
  // A socket that listens but never accepts: the kernel completes the
  // connection, curl sends its request, and no answer ever comes.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto settings = Settings("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  settings.timeout_seconds = 1;
  auto start = Clock::now();
  auto sent = MakeTwilioNotifier(settings)->Send({kTo, "", "code 123456"});
  auto took = Clock::now() - start;
  close(fd);
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, "twilio_timeout") << sent.error().message;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
}

TEST(TwilioNotifierTest, ARefusedConnectionIsUnreachable) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);  // bound, never listened: the port refuses
  auto sent = MakeTwilioNotifier(Settings("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port))))
                  ->Send({kTo, "", "code 123456"});
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, "twilio_unreachable");
  ExpectNoSecret(sent.error(), "code 123456");
}

TEST(TwilioNotifierTest, BadRecipientsAndBodiesAreRefusedBeforeAnyRequest) {
  FakeTwilio twilio;
  auto notifier = MakeTwilioNotifier(Settings(twilio.url()));
  for (std::string to : {"", "447700900123", "+0447700900123", "+1234567", "+1234567890123456", "+44 7700 900123",
                         "+447700900123\n", "alice", "+44770090012a"}) {
    auto sent = notifier->Send({to, "", "code 123456"});
    ASSERT_FALSE(sent.has_value()) << to;
    EXPECT_EQ(sent.error().code, "bad_recipient");
  }
  EXPECT_FALSE(notifier->Send({kTo, "", ""}).has_value());
  EXPECT_FALSE(notifier->Send({kTo, "", std::string(1601, 'x')}).has_value());
  EXPECT_TRUE(twilio.seen().empty());
}

TEST(TwilioNotifierTest, SettingsAreChecked) {
  FakeTwilio twilio;
  EXPECT_TRUE(ValidateTwilioSettings(Settings(twilio.url())).has_value());
  EXPECT_TRUE(ValidateTwilioSettings(Settings("https://api.twilio.com")).has_value());
  EXPECT_TRUE(ValidateTwilioSettings(Settings("http://localhost:8080/")).has_value());
  EXPECT_TRUE(ValidateTwilioSettings(Settings("http://[::1]:8080")).has_value());
  // Plain http would show the token to the network; user info in the URL
  // would override Basic auth.
  for (std::string url : {"http://api.twilio.com", "http://10.0.0.1", "ftp://api.twilio.com", "api.twilio.com",
                          "https://", "https://user:pw@api.twilio.com", "http://127.0.0.1.evil.example",
                          "http://127.1"}) {
    auto ok = ValidateTwilioSettings(Settings(url));
    EXPECT_FALSE(ok.has_value()) << url;
  }
  auto s = Settings(twilio.url());
  s.account_sid = "AC../../x";
  EXPECT_FALSE(ValidateTwilioSettings(s).has_value());
  s = Settings(twilio.url());
  s.auth_token.clear();
  EXPECT_FALSE(ValidateTwilioSettings(s).has_value());
  s = Settings(twilio.url());
  s.from = "0123";
  EXPECT_FALSE(ValidateTwilioSettings(s).has_value());
  s.from = "Keyward";
  EXPECT_TRUE(ValidateTwilioSettings(s).has_value());
  s.timeout_seconds = 0;
  auto bad = ValidateTwilioSettings(s);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message.find(kToken), std::string::npos);
  // Send checks them too, before any request.
  s = Settings(twilio.url());
  s.account_sid = "AC/x";
  EXPECT_FALSE(MakeTwilioNotifier(s)->Send({kTo, "", "code"}).has_value());
  EXPECT_TRUE(twilio.seen().empty());
}

// --- TLS: a self-signed certificate must be refused ----------------------

class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  int Wait() {
    int status = -1;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

TEST(TwilioNotifierTest, TlsCertificatesAreVerified) {
  const std::string openssl = "/usr/bin/openssl";
  if (access(openssl.c_str(), X_OK) != 0) GTEST_SKIP() << "no " << openssl;
  char tmpl[] = "/tmp/keyward-tls-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ChildProcess req({openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"});
  ASSERT_TRUE(req.started());
  ASSERT_EQ(req.Wait(), 0);
  int port = FreePort();
  ChildProcess server({openssl, "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
                       dir + "/cert.pem", "-key", dir + "/key.pem", "-www", "-quiet"});
  ASSERT_TRUE(server.started());
  for (int i = 0; i < 500 && !Accepts(port); ++i) std::this_thread::sleep_for(10ms);
  auto sent = MakeTwilioNotifier(Settings("https://127.0.0.1:" + std::to_string(port)))
                  ->Send({kTo, "", "code 123456"});
  stdfs::remove_all(dir);
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, "twilio_unreachable");
  EXPECT_NE(sent.error().message.find("certificate"), std::string::npos) << sent.error().message;
  ExpectNoSecret(sent.error(), "code 123456");
}

// --- commands, sendmail, console -----------------------------------------

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/keyward-notifier-test-XXXXXX";
    path_ = mkdtemp(tmpl) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    stdfs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  std::string Read(const std::string& name) const {
    std::ifstream in(*this / name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // An executable shell script (the test's program, not the notifier's
  // shell: the notifier runs it by path, with no shell of its own).
  std::string Script(const std::string& name, const std::string& text) const {
    std::ofstream(*this / name) << "#!/bin/sh\n" << text << "\n";
    chmod((*this / name).c_str(), 0755);
    return *this / name;
  }

 private:
  std::string path_;
};

TEST(CommandNotifierTest, RunsTheProgramWithTheRecipientLastAndTheBodyOnStdin) {
  TempDir dir;
  std::string program = dir.Script("notify", "printf '%s|' \"$@\" > " + (dir / "args") + "\ncat > " + (dir / "in"));
  auto notifier = MakeCommandNotifier({program, "--flag", "two words"});
  EXPECT_EQ(notifier->name(), "command");
  const std::string body = "Your code is 123456\nsecond line $(reboot) `x` ; |";
  auto sent = notifier->Send({"alice", "subject", body});
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  EXPECT_EQ(dir.Read("args"), "--flag|two words|alice|");
  EXPECT_EQ(dir.Read("in"), body);
}

TEST(CommandNotifierTest, TheChildGetsACleanEnvironmentAndNoDescriptorOfOurs) {
  TempDir dir;
  // A descriptor opened without O_CLOEXEC, as careless library code does.
  // (fd 3 is ls's own, below, so ours sits higher.)
  int opened = open("/dev/null", O_RDONLY);
  ASSERT_GE(opened, 0);
  int leaked = dup2(opened, 100);
  close(opened);
  ASSERT_EQ(leaked, 100);
  setenv("KEYWARD_TEST_SECRET", "do-not-inherit", 1);
  std::string program =
      dir.Script("notify", "env > " + (dir / "env") + "\nexec /bin/ls /proc/self/fd > " + (dir / "fds"));
  auto sent = MakeCommandNotifier({program})->Send({"bob", "", "x"});
  unsetenv("KEYWARD_TEST_SECRET");
  close(leaked);
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  std::istringstream fds(dir.Read("fds"));
  std::set<int> open_fds;
  for (int fd; fds >> fd;) open_fds.insert(fd);
  // ls itself holds fd 3 for the folder it lists; ours would be `leaked`.
  EXPECT_EQ(open_fds.count(leaked), 0u) << dir.Read("fds");
  for (int fd : open_fds) EXPECT_LE(fd, 3) << dir.Read("fds");
  std::string env = dir.Read("env");
  EXPECT_EQ(env.find("KEYWARD_TEST_SECRET"), std::string::npos) << env;
  EXPECT_NE(env.find("PATH=/usr/local/sbin:"), std::string::npos) << env;
}

TEST(CommandNotifierTest, ANonZeroExitIsAnErrorWithoutTheMessage) {
  TempDir dir;
  std::string program = dir.Script("notify", "cat >/dev/null; exit 3");
  auto sent = MakeCommandNotifier({program, "--api-key=hunter2"})->Send({"alice", "", "code 123456"});
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, "command_failed");
  EXPECT_NE(sent.error().message.find("exit status 3"), std::string::npos) << sent.error().message;
  EXPECT_EQ(sent.error().message.find("hunter2"), std::string::npos);
  ExpectNoSecret(sent.error(), "code 123456");
}

TEST(CommandNotifierTest, AChildKilledByASignalIsAnError) {
  TempDir dir;
  std::string program = dir.Script("notify", "kill -TERM $$");
  auto sent = MakeCommandNotifier({program})->Send({"alice", "", "x"});
  ASSERT_FALSE(sent.has_value());
  EXPECT_NE(sent.error().message.find("signal 15"), std::string::npos) << sent.error().message;
}

TEST(CommandNotifierTest, TheTimeoutKillsTheWholeProcessGroup) {
  TempDir dir;
  // The grandchild would keep running if only the child were killed.
  std::string program = dir.Script("notify", "sleep 30 & echo $! > " + (dir / "pid") + "\nwait");
  auto start = Clock::now();
  auto sent = MakeCommandNotifier({program}, 500ms)->Send({"alice", "", "x"});
  auto took = Clock::now() - start;
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, "command_timeout");
  EXPECT_LT(took, 5s);
  int grandchild = std::atoi(dir.Read("pid").c_str());
  ASSERT_GT(grandchild, 0);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    // Killed, it is a zombie until init reaps it, or gone altogether.
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string line;
    std::getline(stat, line);
    gone = line.empty() || line.find(") Z") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone);
}

TEST(CommandNotifierTest, AChildThatIgnoresItsInputStillSucceeds) {
  TempDir dir;
  std::string program = dir.Script("notify", "exit 0");
  // More than a socket buffer: the write must not block or raise SIGPIPE.
  auto ok = RunCommandWithInput({program}, std::string(900 * 1024, 'x'), 5s);
  EXPECT_TRUE(ok.has_value()) << ok.error().message;
}

TEST(CommandNotifierTest, RefusesBadCommandsAndRecipients) {
  TempDir dir;
  std::string program = dir.Script("notify", "touch " + (dir / "ran"));
  EXPECT_EQ(MakeCommandNotifier({"notify"})->Send({"alice", "", "x"}).error().code, "bad_command");
  EXPECT_EQ(MakeCommandNotifier({})->Send({"alice", "", "x"}).error().code, "bad_command");
  auto missing = MakeCommandNotifier({dir / "missing"})->Send({"alice", "", "x"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, "command_failed");
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos) << missing.error().message;
  const std::vector<std::string> bad = {"",  "-rf", "--help", "a\nb", "a\rb", std::string("a\0b", 3),
                                        "a\x1b[2J", std::string(300, 'a')};
  for (const std::string& to : bad) {
    auto sent = MakeCommandNotifier({program})->Send({to, "", "x"});
    ASSERT_FALSE(sent.has_value());
    EXPECT_EQ(sent.error().code, "bad_recipient");
  }
  EXPECT_FALSE(stdfs::exists(dir / "ran"));
  EXPECT_TRUE(MakeCommandNotifier({program})->Send({"+447700900123", "", "x"}).has_value());
  EXPECT_TRUE(MakeCommandNotifier({program})->Send({"alice@example.org", "", "x"}).has_value());
}

TEST(SendmailNotifierTest, PipesAMailToSendmailDashIDashDash) {
  TempDir dir;
  std::string sendmail =
      dir.Script("sendmail", "printf '%s|' \"$@\" > " + (dir / "args") + "\ncat > " + (dir / "mail"));
  auto notifier = MakeSendmailNotifier(sendmail, "keyward@host.example");
  EXPECT_EQ(notifier->name(), "sendmail");
  auto sent = notifier->Send({"alice@example.org", "Your keyward code", "Code: 123456\r\n.\r\nbye"});
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  EXPECT_EQ(dir.Read("args"), "-i|--|alice@example.org|");
  EXPECT_EQ(dir.Read("mail"),
            "From: keyward@host.example\nTo: alice@example.org\nSubject: Your keyward code\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n"
            "Auto-Submitted: auto-generated\n\nCode: 123456\n.\nbye\n");
  // A local user name is a recipient too (admin_user).
  ASSERT_TRUE(notifier->Send({"root", "Schlüssel", "x"}).has_value());
  EXPECT_NE(dir.Read("mail").find("Subject: =?UTF-8?B?U2NobMO8c3NlbA==?=\n"), std::string::npos);
}

TEST(SendmailNotifierTest, RefusesHeaderInjectionAndOptionRecipients) {
  TempDir dir;
  std::string sendmail = dir.Script("sendmail", "touch " + (dir / "ran") + "; cat >/dev/null");
  auto notifier = MakeSendmailNotifier(sendmail, "keyward@host.example");
  for (std::string to : {"-oQ/tmp/x@example.org", "-t", "a@example.org\nBcc: eve@example.org", "a@example.org\r",
                         "a b@example.org", "Alice <a@example.org>", "a@example.org,eve@example.org", "", "@", "a@",
                         "@example.org", "é@example.org"}) {
    auto sent = notifier->Send({to, "subject", "x"});
    ASSERT_FALSE(sent.has_value()) << to;
    EXPECT_EQ(sent.error().code, "bad_recipient") << to;
  }
  EXPECT_EQ(notifier->Send({"a@example.org", "hi\nBcc: eve@example.org", "x"}).error().code, "bad_message");
  EXPECT_EQ(notifier->Send({"a@example.org", "hi\r", "x"}).error().code, "bad_message");
  EXPECT_EQ(MakeSendmailNotifier(sendmail, "-f@evil")->Send({"a@example.org", "s", "x"}).error().code, "bad_setting");
  EXPECT_FALSE(stdfs::exists(dir / "ran"));
}

TEST(ConsoleNotifierTest, WritesOneBlockPerMessageWithoutControlCharacters) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  auto notifier = MakeConsoleNotifier(fds[1]);
  EXPECT_EQ(notifier->name(), "console");
  ASSERT_TRUE(notifier->Send({"alice", "Your code", "Code: 123456\r\nbye\x1b[2J"}).has_value());
  close(fds[1]);
  std::string got;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  EXPECT_EQ(got, "keyward message to alice: Your code\n  Code: 123456\n  bye?[2J\n");
}

TEST(RecipientTest, E164) {
  for (const char* ok : {"+14155550123", "+447700900123", "+12345678", "+123456789012345"}) {
    EXPECT_TRUE(IsE164(ok)) << ok;
  }
  for (const char* bad : {"", "+", "14155550123", "+04155550123", "+1234567", "+1234567890123456", "+1 415 555 0123",
                          "+1415555012a", "++14155550123", "+14155550123\n", "00447700900123"}) {
    EXPECT_FALSE(IsE164(bad)) << bad;
  }
}

TEST(RecipientTest, EmailAndArgument) {
  for (const char* ok : {"alice@example.org", "root", "a.b+tag@sub.example.org", "x_y@localhost"}) {
    EXPECT_TRUE(ValidateEmailAddress(ok).has_value()) << ok;
  }
  for (const char* ok : {"alice", "+447700900123", "alice@example.org", "Zoë"}) {
    EXPECT_TRUE(ValidateArgumentRecipient(ok).has_value()) << ok;
  }
  EXPECT_FALSE(ValidateArgumentRecipient("\x7f").has_value());
}

}  // namespace
}  // namespace keyward::daemon
