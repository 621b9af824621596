// keyward-web's HTTP server: cpp-httplib parses requests and writes
// responses, but the connections are keyward's own, so that every limit is
// one we chose:
//   - an accept loop with a real backlog and a bounded queue (a flood of
//     connections gets a 503 and a close, not unbounded memory);
//   - a fixed pool of worker threads;
//   - per request, a deadline for the whole request (headers and body), not
//     only per read, so that a client sending a byte a second is cut off;
//   - per request, a cap on the bytes read, so that neither a chunked body,
//     a body without a length, nor endless headers can grow memory;
//   - bodies over max_body_bytes get 413;
//   - no compression (secrets and reflected input in one compressed page is
//     the BREACH attack) and no range requests.
// This header does not include httplib.h: only server.cc does.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "base/error.h"
#include "web/app.h"
#include "web/client_address.h"

namespace keyward::web {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see WebServer::port)
  ProxyList trusted_proxies;
  std::size_t max_body_bytes = 64 * 1024;
  std::chrono::milliseconds request_timeout{5000};  // a whole request, from its first byte
  std::chrono::milliseconds read_timeout{2000};     // silence within a request
  std::chrono::milliseconds write_timeout{5000};
  std::chrono::milliseconds keep_alive_timeout{5000};  // an idle connection between requests
  std::size_t keep_alive_max = 100;                     // requests on one connection
  std::size_t threads = 64;  // workers block on sockets, not on the CPU
  std::size_t max_queued_connections = 256;  // accepted, waiting for a thread
};

class WebServer {
 public:
  // Listens on host:port; serves nothing until Run.
  static Result<std::unique_ptr<WebServer>> Bind(const App& app, ServerOptions options);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  int port() const;

  // Serves until `stop_fd` becomes readable (a signalfd, or a pipe in
  // tests), then lets the requests in flight finish and returns.
  Result<void> Run(int stop_fd);

  struct Impl;

 private:
  explicit WebServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward::web
