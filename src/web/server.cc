// The one translation unit that includes httplib.h.
#include "web/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

// Debian's libcpp-httplib.so is built with TLS, zlib and brotli support, and
// those switches change the layout of httplib::Request: this file must see
// the header exactly as the library was built, whatever the build passes.
// keyward uses none of them (TLS ends at the proxy; compression is turned
// off per request below).
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT 1
#endif
#ifndef CPPHTTPLIB_ZLIB_SUPPORT
#define CPPHTTPLIB_ZLIB_SUPPORT 1
#endif
#ifndef CPPHTTPLIB_BROTLI_SUPPORT
#define CPPHTTPLIB_BROTLI_SUPPORT 1
#endif
#include <httplib.h>

namespace keyward::web {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Bytes of request line and headers one request may use on top of its body.
constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr std::size_t kReadBufferBytes = 4096;
// After an error response to a request that was still sending (413), its
// unread bytes are read and thrown away for this long, so that closing the
// socket does not reset the connection before the client reads the answer.
constexpr milliseconds kLingerTime{1000};
// How often a worker waiting for the next request checks for shutdown.
constexpr milliseconds kStopCheck{250};

constexpr char kOverloaded[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 33\r\nRetry-After: 5\r\nConnection: close\r\n\r\nBusy. Try again in a few seconds.";

int PollFor(int fd, short events, milliseconds timeout) {
  if (timeout.count() <= 0) return 0;
  pollfd p{fd, events, 0};
  while (true) {
    int n = poll(&p, 1, static_cast<int>(std::min<long long>(timeout.count(), 1 << 30)));
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

std::string AddressText(const sockaddr_storage& address, int* port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    *port = ntohs(v4->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    *port = ntohs(v6->sin6_port);
  }
  return text;
}

// A connection as httplib reads and writes it, with a deadline and a byte
// budget per request (see server.h).
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int fd, const ServerOptions& options) : fd_(fd), options_(options) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) peer_ = AddressText(address, &peer_port_);
    length = sizeof address;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      local_ = AddressText(address, &local_port_);
    }
  }

  void BeginRequest() {
    deadline_ = Clock::now() + options_.request_timeout;
    budget_ = kMaxHeaderBytes + options_.max_body_bytes;
  }
  bool has_buffered() const { return offset_ < filled_; }
  bool broken() const { return broken_; }
  bool overflowed() const { return overflowed_; }

  bool is_readable() const override { return has_buffered() || WaitReadable(); }

  bool is_writable() const override { return PollFor(fd_, POLLOUT, options_.write_timeout) > 0; }

  ssize_t read(char* ptr, size_t size) override {
    if (broken_) return -1;
    if (offset_ == filled_) {
      if (!WaitReadable()) return -1;
      ssize_t n;
      do {
        n = recv(fd_, buffer_, sizeof buffer_, 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        broken_ = true;
        return n;
      }
      offset_ = 0;
      filled_ = static_cast<std::size_t>(n);
    }
    std::size_t n = std::min(size, filled_ - offset_);
    if (n > budget_) {
      broken_ = overflowed_ = true;
      return -1;
    }
    budget_ -= n;
    std::memcpy(ptr, buffer_ + offset_, n);
    offset_ += n;
    return static_cast<ssize_t>(n);
  }

  // Writes everything or fails: httplib writes the headers in one call and
  // does not always retry a short write.
  ssize_t write(const char* ptr, size_t size) override {
    std::size_t done = 0;
    while (done < size) {
      if (!is_writable()) return -1;
      ssize_t n = send(fd_, ptr + done, size - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return -1;
      done += static_cast<std::size_t>(n);
    }
    return static_cast<ssize_t>(done);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = peer_;
    port = peer_port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = local_;
    port = local_port_;
  }
  socket_t socket() const override { return fd_; }

 private:
  // Waits for bytes until the read timeout or the request's deadline,
  // whichever comes first; past either, the connection is done.
  bool WaitReadable() const {
    auto left = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
    if (PollFor(fd_, POLLIN, std::min(left, options_.read_timeout)) > 0) return true;
    broken_ = true;
    return false;
  }

  int fd_;
  const ServerOptions& options_;
  std::string peer_, local_;
  int peer_port_ = 0, local_port_ = 0;
  Clock::time_point deadline_;
  std::size_t budget_ = 0;
  char buffer_[kReadBufferBytes];
  std::size_t offset_ = 0, filled_ = 0;
  mutable bool broken_ = false;
  bool overflowed_ = false;
};

std::size_t ContentLength(const httplib::Request& req) {
  std::string text = req.get_header_value("Content-Length");
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return 0;
  return n;
}

void Apply(WebResponse&& out, httplib::Response& res) {
  res.status = out.status;
  if (!out.location.empty()) res.set_header("Location", out.location);
  if (!out.allow.empty()) res.set_header("Allow", out.allow);
  if (!out.content_disposition.empty()) res.set_header("Content-Disposition", out.content_disposition);
  for (const std::string& cookie : out.set_cookies) res.set_header("Set-Cookie", cookie);
  res.set_header("Cache-Control", out.cacheable ? "public, max-age=31536000, immutable" : "no-store");
  if (!out.body.empty()) res.set_content(std::move(out.body), out.content_type.c_str());
}

}  // namespace

// httplib's Server, driven connection by connection from our own loop.
class HttpServer final : public httplib::Server {
 public:
  HttpServer(const App& app, const ServerOptions& options) : app_(app), options_(options) {
    set_payload_max_length(options.max_body_bytes);
    // Only for the Keep-Alive header httplib writes: our loop enforces both.
    set_keep_alive_max_count(options.keep_alive_max);
    set_keep_alive_timeout(std::max<time_t>(1, static_cast<time_t>(options.keep_alive_timeout.count() / 1000)));
    set_default_headers({
        {"Content-Security-Policy",
         "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
         "base-uri 'none'"},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
        {"Cross-Origin-Opener-Policy", "same-origin"},
        {"Cross-Origin-Resource-Policy", "same-origin"},
        {"Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"},
    });
    auto handler = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
    // One catch-all per method; the app routes by exact path.
    Get(".*", handler);
    Post(".*", handler);
    Put(".*", handler);
    Patch(".*", handler);
    Delete(".*", handler);
    Options(".*", handler);
    // Responses httplib makes itself (400, 404, 413, 414, ...) get a page
    // and the same headers as ours; ours already have a body.
    set_error_handler(HandlerWithResponse([this](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return HandlerResponse::Unhandled;
      int status = res.status;
      Apply(app_.ErrorPage(status), res);
      if (status == 413) res.set_header("Connection", "close");
      return HandlerResponse::Handled;
    }));
    // The default would put the exception's text in a response header.
    set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      for (const char* name : {"Set-Cookie", "Location", "Cache-Control", "Allow", "Content-Disposition"}) {
        res.headers.erase(name);
      }
      res.body.clear();
      Apply(app_.ErrorPage(500), res);
    });
    // Refuse a body that is too large before the client sends it.
    set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (ContentLength(req) <= options_.max_body_bytes) return 100;
      res.status = 413;  // httplib writes res as it is for anything but 100 and 417
      return 413;
    });
  }

  // Serves one accepted connection until it closes, fails, goes idle for
  // keep_alive_timeout, or has had keep_alive_max requests.
  void Serve(int fd, const std::atomic<bool>& stopping) {
    int one = 1;
    // Headers and body go out in two writes; do not let Nagle hold the second.
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ConnectionStream stream(fd, options_);
    for (std::size_t left = options_.keep_alive_max; left > 0 && !stopping.load(); --left) {
      if (!stream.has_buffered() && !WaitForRequest(fd, stopping)) break;
      stream.BeginRequest();
      bool closed = false;
      bool ok = process_request(stream, left == 1 || stopping.load(), closed, [](httplib::Request& req) {
        req.headers.erase("Accept-Encoding");
        req.ranges.clear();
      });
      if (!ok || closed || stream.broken()) break;
    }
    shutdown(fd, SHUT_WR);
    if (stream.overflowed()) Drain(fd);
    close(fd);
  }

 private:
  bool WaitForRequest(int fd, const std::atomic<bool>& stopping) const {
    auto until = Clock::now() + options_.keep_alive_timeout;
    while (!stopping.load()) {
      auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now());
      if (left.count() <= 0) return false;
      int n = PollFor(fd, POLLIN, std::min(left, kStopCheck));
      if (n != 0) return n > 0;
    }
    return false;
  }

  static void Drain(int fd) {
    auto until = Clock::now() + kLingerTime;
    char sink[16 * 1024];
    while (true) {
      auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now());
      if (PollFor(fd, POLLIN, left) <= 0) return;
      ssize_t n = recv(fd, sink, sizeof sink, 0);
      if (n <= 0 && !(n < 0 && errno == EINTR)) return;
    }
  }

  void Handle(const httplib::Request& req, httplib::Response& res) const {
    WebRequest request;
    request.method = req.method;
    request.path = req.path;
    std::size_t cookies = req.get_header_value_count("Cookie");
    for (std::size_t i = 0; i < cookies; ++i) {
      if (i > 0) request.cookies += "; ";
      request.cookies += req.get_header_value("Cookie", i);
    }
    // Multipart fields (text and files alike) are in `files`; the query
    // and url-encoded fields in `params`. emplace keeps the first value.
    for (const auto& [name, part] : req.files) {
      request.fields.emplace(name, part.content);
      if (!part.filename.empty()) request.file_names.emplace(name, part.filename);
    }
    for (const auto& [name, value] : req.params) request.fields.emplace(name, value);
    std::vector<std::string> forwarded;
    std::size_t hops = req.get_header_value_count("X-Forwarded-For");
    for (std::size_t i = 0; i < hops; ++i) forwarded.push_back(req.get_header_value("X-Forwarded-For", i));
    std::vector<std::string_view> views(forwarded.begin(), forwarded.end());
    // req.remote_addr, never the REMOTE_ADDR header, which a client can send too.
    request.client = ClientAddress(req.remote_addr, views, options_.trusted_proxies);
    Apply(app_.Handle(request), res);
  }

  const App& app_;
  const ServerOptions& options_;
};

struct WebServer::Impl {
  Impl(const App& app, ServerOptions opts) : options(std::move(opts)), http(app, options) {}

  ServerOptions options;
  HttpServer http;
  int listen_fd = -1;
  int port = 0;

  std::mutex mutex;
  std::condition_variable ready;
  std::deque<int> queue;
  std::atomic<bool> stopping{false};

  void Worker() {
    while (true) {
      int fd;
      {
        std::unique_lock<std::mutex> lock(mutex);
        ready.wait(lock, [&] { return !queue.empty() || stopping.load(); });
        if (queue.empty()) return;
        fd = queue.front();
        queue.pop_front();
      }
      http.Serve(fd, stopping);
    }
  }

  void AcceptAll() {
    while (true) {
      int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) continue;
        // EAGAIN: nothing left; EMFILE and friends: try on the next wakeup.
        return;
      }
      std::unique_lock<std::mutex> lock(mutex);
      if (queue.size() >= options.max_queued_connections) {
        lock.unlock();
        // Best effort, never blocking: the socket is fresh, its buffer empty.
        [[maybe_unused]] ssize_t n = send(fd, kOverloaded, sizeof kOverloaded - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(fd);
        continue;
      }
      queue.push_back(fd);
      lock.unlock();
      ready.notify_one();
    }
  }
};

WebServer::WebServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebServer::~WebServer() {
  if (impl_ && impl_->listen_fd >= 0) close(impl_->listen_fd);
}

int WebServer::port() const { return impl_->port; }

Result<std::unique_ptr<WebServer>> WebServer::Bind(const App& app, ServerOptions options) {
  if (options.threads == 0 || options.keep_alive_max == 0) {
    return Fail("bad_option", "threads and keep-alive requests must be at least 1");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port_text = std::to_string(options.port);
  if (int rc = getaddrinfo(options.host.c_str(), port_text.c_str(), &hints, &found); rc != 0) {
    return Fail("bad_listen", "cannot listen on " + options.host + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
  auto impl = std::make_unique<Impl>(app, std::move(options));
  std::string error = "no address";
  for (addrinfo* a = addresses.get(); a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0) {
      impl->listen_fd = fd;
      break;
    }
    error = std::strerror(errno);
    close(fd);
  }
  if (impl->listen_fd < 0) {
    return Fail("bad_listen", "cannot listen on " + impl->options.host + ":" + port_text + ": " + error);
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  if (getsockname(impl->listen_fd, reinterpret_cast<sockaddr*>(&bound), &length) == 0) {
    AddressText(bound, &impl->port);
  }
  return std::unique_ptr<WebServer>(new WebServer(std::move(impl)));
}

Result<void> WebServer::Run(int stop_fd) {
  Impl& s = *impl_;
  std::vector<std::thread> workers;
  workers.reserve(s.options.threads);
  for (std::size_t i = 0; i < s.options.threads; ++i) workers.emplace_back([&s] { s.Worker(); });
  pollfd fds[2] = {{s.listen_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
  Result<void> result;
  while (true) {
    int n = poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = Fail("poll_failed", std::string("poll: ") + std::strerror(errno));
      break;
    }
    if (fds[1].revents != 0) break;
    if (fds[0].revents != 0) s.AcceptAll();
  }
  close(s.listen_fd);
  s.listen_fd = -1;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    s.stopping = true;
    // Connections still waiting for a thread are closed unanswered.
    for (int fd : s.queue) close(fd);
    s.queue.clear();
  }
  s.ready.notify_all();
  for (auto& t : workers) t.join();
  return result;
}

}  // namespace keyward::web
