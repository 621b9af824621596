// `keyward totp enroll` and the TOTP file's rules: where the secret goes
// (%h/.keyward/totp, 0600, in a 0700 folder), what is refused (symlinks, an
// existing secret without --force, wrong owner or mode when read back), the
// confirmation with a first code, and the QR drawing.
#include "cli/totp_enroll.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "factor/totp.h"
#include "factor/totp_file.h"

namespace keyward::cli {
namespace {

namespace stdfs = std::filesystem;
constexpr std::int64_t kNow = 1700000000;

class TotpEnrollTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/keyward-totp-enroll-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    home_ = tmpl;
    options_.home = home_;
    options_.host = "host.example";
    io_.encode_qr = [](const std::string&) -> Result<QrModules> {
      QrModules qr;
      qr.width = 21;
      for (int i = 0; i < 21 * 21; ++i) qr.dark.push_back(i % 3 == 0);
      return qr;
    };
    io_.out = [this](std::string_view s) { out_ += s; };
    io_.err = [this](std::string_view s) { err_ += s; };
    io_.now = [] { return kNow; };
  }
  void TearDown() override {
    std::error_code ec;
    stdfs::remove_all(home_, ec);
  }

  std::string Dir() const { return home_ + "/.keyward"; }
  std::string File() const { return home_ + "/.keyward/totp"; }
  std::string ReadFile() const {
    std::ifstream in(File(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  mode_t ModeOf(const std::string& path) const {
    struct stat st {};
    EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  // The secret as the output showed it in the URI.
  std::string UriSecret() const {
    std::smatch m;
    std::regex re("secret=([A-Z2-7]+)&");
    return std::regex_search(out_, m, re) ? m[1].str() : std::string();
  }
  Bytes SecretBytes(const std::string& base32) const {
    auto b = factor::Base32Decode(base32);
    return b ? *b : Bytes();
  }
  int Run() {
    out_.clear();
    err_.clear();
    return RunTotpEnroll(options_, io_);
  }

  std::string home_;
  TotpEnrollOptions options_;
  TotpEnrollIo io_;
  std::string out_, err_;
};

TEST_F(TotpEnrollTest, WritesTheSecretOfTheUriWithMode0600InA0700Folder) {
  ASSERT_EQ(Run(), 0) << err_;
  EXPECT_EQ(ModeOf(Dir()), 0700u);
  EXPECT_EQ(ModeOf(File()), 0600u);
  std::string secret = UriSecret();
  ASSERT_EQ(secret.size(), 32u) << out_;  // 160 bits
  EXPECT_EQ(ReadFile(), secret + "\n");
  EXPECT_NE(out_.find("otpauth://totp/keyward:"), std::string::npos);
  EXPECT_NE(out_.find("%40host.example?secret="), std::string::npos) << out_;
  EXPECT_NE(out_.find("&issuer=keyward&algorithm=SHA1&digits=6&period=30\n"), std::string::npos);
  EXPECT_NE(out_.find("\u2588"), std::string::npos);
  EXPECT_NE(out_.find("Saved " + File()), std::string::npos);
  // And the daemon's reader gets the same secret back.
  auto read = factor::ReadTotpSecret(home_, geteuid());
  ASSERT_TRUE(read.has_value()) << read.error().message;
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, SecretBytes(secret));
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(stdfs::directory_iterator(Dir()), stdfs::directory_iterator()), 1);
}

TEST_F(TotpEnrollTest, AnExistingSecretIsKeptWithoutForce) {
  ASSERT_EQ(Run(), 0) << err_;
  std::string first = ReadFile();
  EXPECT_EQ(Run(), 1);
  EXPECT_NE(err_.find("--force"), std::string::npos) << err_;
  EXPECT_EQ(out_.find("otpauth://"), std::string::npos) << "no secret shown that cannot be saved";
  EXPECT_EQ(ReadFile(), first);
  options_.force = true;
  ASSERT_EQ(Run(), 0) << err_;
  EXPECT_NE(ReadFile(), first);
  EXPECT_EQ(ReadFile(), UriSecret() + "\n");
  EXPECT_EQ(ModeOf(File()), 0600u);
}

TEST_F(TotpEnrollTest, ASymlinkInPlaceOfTheFileIsRefusedEvenWithForce) {
  ASSERT_EQ(mkdir(Dir().c_str(), 0700), 0);
  std::string victim = home_ + "/victim";
  std::ofstream(victim) << "untouched";
  ASSERT_EQ(symlink(victim.c_str(), File().c_str()), 0);
  for (bool force : {false, true}) {
    options_.force = force;
    EXPECT_EQ(Run(), 1);
    EXPECT_NE(err_.find("symbolic link"), std::string::npos) << err_;
  }
  std::ifstream in(victim);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "untouched");
}

TEST_F(TotpEnrollTest, ASymlinkInPlaceOfTheFolderIsRefused) {
  std::string elsewhere = home_ + "/elsewhere";
  ASSERT_EQ(mkdir(elsewhere.c_str(), 0700), 0);
  ASSERT_EQ(symlink(elsewhere.c_str(), Dir().c_str()), 0);
  options_.force = true;
  EXPECT_EQ(Run(), 1);
  EXPECT_NE(err_.find("symbolic link"), std::string::npos) << err_;
  EXPECT_FALSE(stdfs::exists(elsewhere + "/totp"));
}

TEST_F(TotpEnrollTest, AFolderWritableByOthersIsRefused) {
  ASSERT_EQ(mkdir(Dir().c_str(), 0700), 0);
  ASSERT_EQ(chmod(Dir().c_str(), 0777), 0);
  EXPECT_EQ(Run(), 1);
  EXPECT_NE(err_.find("writable by group or others"), std::string::npos) << err_;
  EXPECT_FALSE(stdfs::exists(File()));
}

TEST_F(TotpEnrollTest, ARightFirstCodeConfirms) {
  io_.ask = [this](std::string_view prompt) -> std::optional<std::string> {
    EXPECT_EQ(prompt, "Code shown by the app: ");
    return factor::TotpAt(SecretBytes(UriSecret()), kNow);
  };
  ASSERT_EQ(Run(), 0) << err_;
  EXPECT_EQ(ReadFile(), UriSecret() + "\n");
}

TEST_F(TotpEnrollTest, ACodeFromTheNextStepConfirmsToo) {
  io_.ask = [this](std::string_view) -> std::optional<std::string> {
    std::string code = factor::TotpAt(SecretBytes(UriSecret()), kNow + 30);
    return code.substr(0, 3) + " " + code.substr(3);  // as apps show it
  };
  ASSERT_EQ(Run(), 0) << err_;
}

TEST_F(TotpEnrollTest, WrongCodesWriteNothing) {
  int asked = 0;
  io_.ask = [&](std::string_view) -> std::optional<std::string> {
    ++asked;
    std::string right = factor::TotpAt(SecretBytes(UriSecret()), kNow);
    return right == "000000" ? "111111" : "000000";
  };
  EXPECT_EQ(Run(), 1);
  EXPECT_EQ(asked, kTotpConfirmTries);
  EXPECT_NE(err_.find("nothing was written"), std::string::npos) << err_;
  EXPECT_FALSE(stdfs::exists(File()));
}

TEST_F(TotpEnrollTest, EndOfInputCancels) {
  io_.ask = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  EXPECT_EQ(Run(), 1);
  EXPECT_NE(err_.find("cancelled"), std::string::npos) << err_;
  EXPECT_FALSE(stdfs::exists(File()));
}

TEST_F(TotpEnrollTest, NoConfirmSkipsTheQuestion) {
  io_.ask = [](std::string_view) -> std::optional<std::string> {
    ADD_FAILURE() << "asked";
    return std::nullopt;
  };
  options_.confirm = false;
  ASSERT_EQ(Run(), 0) << err_;
  EXPECT_EQ(err_.find("no code was asked for"), std::string::npos) << err_;
}

TEST_F(TotpEnrollTest, AnUnknownAccountIsRefused) {
  options_.account = "no-such-user-kw";
  EXPECT_EQ(Run(), 1);
  EXPECT_NE(err_.find("no user"), std::string::npos) << err_;
  options_.account = "../root";
  EXPECT_EQ(Run(), 1);
  EXPECT_NE(err_.find("not a valid user name"), std::string::npos) << err_;
}

// --- the file as keywardd reads it ---------------------------------------

class TotpFileTest : public TotpEnrollTest {
 protected:
  void Write(const std::string& content, mode_t mode) {
    mkdir(Dir().c_str(), 0700);
    std::ofstream(File(), std::ios::binary) << content;
    ASSERT_EQ(chmod(File().c_str(), mode), 0);
  }
  std::string ReadError() {
    auto r = factor::ReadTotpSecret(home_, geteuid());
    return r ? std::string("<read>") : r.error().code;
  }
};

TEST_F(TotpFileTest, NotEnrolledIsNotAnError) {
  auto r = factor::ReadTotpSecret(home_, geteuid());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->has_value());
  ASSERT_EQ(mkdir(Dir().c_str(), 0700), 0);
  r = factor::ReadTotpSecret(home_, geteuid());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->has_value());
}

TEST_F(TotpFileTest, ReadsWhatPeopleWrite) {
  Write("gezd gnbv gy3t qojq gezd gnbv gy3t qojq\n", 0600);
  auto r = factor::ReadTotpSecret(home_, geteuid());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(AsText(**r), "12345678901234567890");
}

TEST_F(TotpFileTest, RefusesAFileOthersCanReadOrWrite) {
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    Write("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n", mode);
    std::string code = ReadError();
    EXPECT_TRUE(code == "bad_mode") << std::oct << mode << " " << code;
  }
}

TEST_F(TotpFileTest, RefusesSymlinksAndHardLinks) {
  std::string real = home_ + "/real";
  std::ofstream(real) << "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n";
  chmod(real.c_str(), 0600);
  mkdir(Dir().c_str(), 0700);
  ASSERT_EQ(symlink(real.c_str(), File().c_str()), 0);
  EXPECT_EQ(ReadError(), "symlink");
  unlink(File().c_str());
  ASSERT_EQ(link(real.c_str(), File().c_str()), 0);
  EXPECT_EQ(ReadError(), "hard_link");
}

TEST_F(TotpFileTest, RefusesAFileOrFolderOwnedBySomeoneElse) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  Write("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n", 0600);
  ASSERT_EQ(chown(File().c_str(), 65534, 65534), 0);
  EXPECT_EQ(ReadError(), "bad_owner");
  // Root owning a user's secret is refused too: enroll never makes that.
  ASSERT_EQ(chown(File().c_str(), 0, 0), 0);
  ASSERT_EQ(chown(home_.c_str(), 65534, 65534), 0);
  ASSERT_EQ(chown(Dir().c_str(), 65534, 65534), 0);
  auto r = factor::ReadTotpSecret(home_, 65534);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "bad_owner");
  ASSERT_EQ(chown(Dir().c_str(), 0, 0), 0);
  r = factor::ReadTotpSecret(home_, 65534);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "bad_owner");
}

TEST_F(TotpFileTest, RefusesContentThatIsNotASecret) {
  const std::vector<std::string> bad = {"",
                                        "\n",
                                        "GEZDGNBV\n",  // 40 bits: too short
                                        "not base32!\n",
                                        "GEZDGNBVGY3TQOJQ GEZDGNBVGY3TQOJQ 1\n",
                                        std::string(200, 'A') + "\n",  // too long a secret
                                        std::string(2000, 'A')};       // too large a file
  for (const std::string& content : bad) {
    Write(content, 0600);
    auto r = factor::ReadTotpSecret(home_, geteuid());
    ASSERT_FALSE(r.has_value()) << content;
    // The error says what to do and never shows the content.
    if (r.error().code != "file_too_large") {
      EXPECT_NE(r.error().message.find("keyward totp enroll --force"), std::string::npos) << r.error().message;
    }
    if (content.size() > 4) {
      EXPECT_EQ(r.error().message.find(content.substr(0, 5)), std::string::npos);
    }
  }
}

TEST(TotpFileFormatTest, RoundTrip) {
  Bytes secret(20, 0xab);
  EXPECT_EQ(factor::FormatTotpFile(secret), "VOV2XK5LVOV2XK5LVOV2XK5LVOV2XK5L\n");
  auto parsed = factor::ParseTotpFile(factor::FormatTotpFile(secret));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, secret);
  EXPECT_EQ(factor::TotpFilePath("/home/alice"), "/home/alice/.keyward/totp");
  EXPECT_EQ(factor::TotpFilePath("/"), "/.keyward/totp");
}

// --- QR drawing ----------------------------------------------------------

TEST(RenderQrTest, HalfBlocksWithAQuietZone) {
  QrModules qr;
  qr.width = 1;
  qr.dark = {true};
  // 5 x 5 with the quiet zone; the dark centre module is the only gap.
  EXPECT_EQ(RenderQr(qr, QrStyle::kHalfBlocks, false),
            "\u2588\u2588\u2588\u2588\u2588\n"
            "\u2588\u2588\u2584\u2588\u2588\n"
            "\u2580\u2580\u2580\u2580\u2580\n");
  EXPECT_EQ(RenderQr(qr, QrStyle::kHalfBlocks, true), "     \n  \u2580  \n     \n");
}

TEST(RenderQrTest, AsciiTwoCharactersPerModule) {
  QrModules qr;
  qr.width = 2;
  qr.dark = {true, false, false, true};
  EXPECT_EQ(RenderQr(qr, QrStyle::kAscii, false),
            "############\n"
            "############\n"
            "####  ######\n"
            "######  ####\n"
            "############\n"
            "############\n");
}

}  // namespace
}  // namespace keyward::cli
