#include "fs/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace keyward::fs {

namespace {

Result<std::string> ReadAll(int fd, const std::string& name) {
  std::string out;
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    if (static_cast<std::size_t>(st.st_size) > kMaxInputFileBytes) {
      return Fail("file_too_large", name + " is larger than 1 GiB; keyward will not read it");
    }
    out.reserve(static_cast<std::size_t>(st.st_size) + 1);
  }
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail("read_failed", name + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > kMaxInputFileBytes) {
      return Fail("file_too_large", name + " is larger than 1 GiB; keyward will not read it");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

Result<std::string> ReadFileOrStdin(const std::string& path) {
  if (path == "-") return ReadAll(STDIN_FILENO, "(stdin)");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Fail("open_failed", path + ": " + std::strerror(errno));
  auto result = ReadAll(fd, path);
  close(fd);
  return result;
}

}  // namespace keyward::fs
